#!/bin/sh
# Temporal's own schema on its PostgreSQL: the `temporal` and `temporal_visibility` databases,
# created and brought to the schema this admin-tools image ships. Safe to run on every
# `docker compose up`: create and setup-schema leave an existing database as it is, and
# update-schema applies only what is newer (the steps of Temporal's compose sample,
# temporalio/samples-server compose/scripts/setup-postgres.sh).
# temporal-sql-tool reads the password from SQL_PASSWORD, never from the command line.
set -eu

: "${SQL_HOST:?}" "${SQL_USER:?}" "${SQL_PASSWORD:?}"
port="${SQL_PORT:-5432}"
schemas=/etc/temporal/schema/postgresql/v12

setup() {  # database, folder of its versioned schema
    echo "== $1"
    set -- "$1" "$2" --plugin postgres12 --ep "$SQL_HOST" -p "$port" -u "$SQL_USER" --db "$1"
    db="$1" dir="$2"
    shift 2
    temporal-sql-tool "$@" create
    temporal-sql-tool "$@" setup-schema -v 0.0
    temporal-sql-tool "$@" update-schema -d "$dir"
    echo "== $db is current"
}

setup temporal "$schemas/temporal/versioned"
setup temporal_visibility "$schemas/visibility/versioned"

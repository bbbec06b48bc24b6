"""A logical copy of the service's database: every table of its schema as CSV, read in one
REPEATABLE READ transaction (one snapshot: the events, the read model and the outbox agree),
and loaded back into an empty database through the same numbered migrations.

Why not pg_dump: the image has none, and a pg_dump must be at least the server's major
version (Debian's 15 cannot dump the embedded 18). COPY needs only the connection the
service already has, and the schema comes back from `store/migrations`, so the restored
database passes the checksum check like any migrated one, whichever PostgreSQL (15-18) it
runs on."""

import csv
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from store import migrations, scope
from store.connections import Conn

_TABLES = """
SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname
"""
# A table's columns as a backup holds them: not those PostgreSQL generates from the others
# (complaint_cases' opened_by and handled_by, migration 0025), which a restore could not load
# and which the loaded rows give back.
_STORED_COLUMNS = """
SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0
  AND NOT attisdropped AND attgenerated = '' ORDER BY attnum
"""
# Foreign keys within the schema: (table, the table it refers to).
_REFERENCES = """
SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent
FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
WHERE c.contype = 'f' AND n.nspname = current_schema()
"""
_SEQUENCES = """
SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name) AS seq
FROM information_schema.columns
WHERE table_schema = current_schema()
  AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL
"""
SCHEMA_TABLE = "schema_migrations"


class RestoreRefused(Exception):
    """The target cannot take this backup: one line that says why and what to do."""


@dataclass(frozen=True)
class Exported:
    tables: dict[str, dict[str, Any]]  # name -> {"rows", "file", "sha256"}
    schema: list[dict[str, Any]]  # applied migrations: version, name, checksum
    newest_event: dict[str, Any] | None
    cases: int
    server_version: str
    snapshot_at: datetime


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


async def export(conn: Conn, folder: Path) -> Exported:
    """Every table into `folder/<table>.csv` from one snapshot."""
    folder.mkdir(parents=True, exist_ok=True)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        snapshot_at = await conn.fetchval("SELECT now()")
        names = [r["name"] for r in await conn.fetch(_TABLES)]
        if "complaint_events" not in names:
            raise RestoreRefused("this database has no complaint_events: nothing to back up")
        tables: dict[str, dict[str, Any]] = {}
        for name in names:
            path = folder / f"{name}.csv"
            columns = [r["attname"] for r in await conn.fetch(_STORED_COLUMNS, f'"{name}"')]
            await conn.copy_from_table(
                name, output=path, format="csv", header=True, columns=columns
            )
            path.chmod(0o600)
            rows = await conn.fetchval(f'SELECT count(*) FROM "{name}"')
            tables[name] = {"rows": rows, "file": path.name, "sha256": sha256(path)}
        schema = [
            {"version": a.version, "name": a.name, "checksum": a.checksum}
            for a in await migrations.applied(conn)
        ]
        newest = await conn.fetchrow(
            "SELECT case_id, seq, type, recorded_at FROM complaint_events"
            " ORDER BY recorded_at DESC, case_id, seq DESC LIMIT 1"
        )
        cases = await conn.fetchval("SELECT count(*) FROM complaint_cases")
        server = await conn.fetchval("SHOW server_version")
    return Exported(
        tables=tables,
        schema=schema,
        newest_event=(
            {**dict(newest), "recorded_at": newest["recorded_at"].isoformat()} if newest else None
        ),
        cases=cases,
        server_version=server,
        snapshot_at=snapshot_at,
    )


_FORCED = (
    "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relforcerowsecurity"
)


async def _unforced(conn: Conn) -> list[str]:
    """Within the connection's transaction, the owner reads and writes every shop's rows
    (row-level security is forced on the owner too, and COPY FROM refuses a table under
    it); the tables to force again before the transaction ends."""
    names = [r["name"] for r in await conn.fetch(_FORCED)]
    for name in names:
        await conn.execute(f'ALTER TABLE "{name}" NO FORCE ROW LEVEL SECURITY')
    return names


async def _forced(conn: Conn, names: list[str]) -> None:
    for name in names:
        await conn.execute(f'ALTER TABLE "{name}" FORCE ROW LEVEL SECURITY')


@scope.as_owner
async def rows_in(pool: asyncpg.Pool) -> dict[str, int]:
    """Rows per table of the schema (schema_migrations aside), every shop's: all zero means
    empty. Read as the owner in a transaction that is rolled back."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            await _unforced(conn)
            names = [r["name"] for r in await conn.fetch(_TABLES)]
            return {
                name: await conn.fetchval(f'SELECT count(*) FROM "{name}"')
                for name in names
                if name != SCHEMA_TABLE
            }
        finally:
            await tx.rollback()


def load_order(tables: list[str], references: list[tuple[str, str]]) -> list[str]:
    """Tables ordered so each comes after the tables it refers to (names sorted otherwise)."""
    parents = {t: {p for c, p in references if c == t and p != t and p in tables} for t in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = sorted(t for t in tables if t not in ordered and parents[t] <= set(ordered))
        if not ready:  # a cycle: foreign keys both ways, which this schema never has
            raise RestoreRefused(
                f"tables refer to each other: {sorted(set(tables) - set(ordered))}"
            )
        ordered += ready
    return ordered


async def load(pool: asyncpg.Pool, folder: Path, schema: list[dict[str, Any]]) -> dict[str, int]:
    """Into an empty database: migrate to the backup's schema, copy every table in one
    transaction, move the sequences past the copied ids, then apply later migrations."""
    full = {t: n for t, n in (await rows_in(pool)).items() if n}
    if full:
        raise RestoreRefused(
            f"the database is not empty ({', '.join(f'{t}: {n} rows' for t, n in full.items())})"
            ": restore into a new database (createdb), never over data"
        )
    known = {m.version: m for m in migrations.migrations()}
    backup_versions = [s["version"] for s in schema]
    newer = [v for v in backup_versions if v not in known]
    if newer:
        raise RestoreRefused(
            f"the backup has migration {max(newer):04d}, which this release does not know: "
            "restore with the release that made the backup (its manifest names it)"
        )
    for s in schema:
        if s["checksum"] and s["checksum"] != known[s["version"]].checksum:
            raise RestoreRefused(
                f"migration {known[s['version']].label} differs from the one the backup's "
                "database applied: restore with the release that made the backup"
            )
    present = await migrations.applied_versions(pool)
    if present - set(backup_versions):
        raise RestoreRefused(
            f"the database is migrated past the backup (to {max(present):04d}): restore into a "
            "new database that is not migrated yet, and let restore migrate it"
        )
    upto = max(backup_versions, default=0)
    await migrations.migrate(pool, up_to=upto)
    with scope.owner():
        loaded = await _copy_in(pool, folder)
    await migrations.migrate(pool)  # what this release adds after the backup's schema
    return loaded


async def _copy_in(pool: asyncpg.Pool, folder: Path) -> dict[str, int]:
    async with pool.acquire() as conn, conn.transaction():
        forced = await _unforced(conn)
        names = [r["name"] for r in await conn.fetch(_TABLES)]
        refs = [(r["child"], r["parent"]) for r in await conn.fetch(_REFERENCES)]
        loaded: dict[str, int] = {}
        order = load_order([n for n in names if n != SCHEMA_TABLE], refs)
        # The backup is the whole truth: rows the migrations seeded (a table's one row of
        # state) give way to the backup's, children before their parents.
        for name in reversed(order):
            if (folder / f"{name}.csv").exists():
                await conn.execute(f'DELETE FROM "{name}"')
        for name in order:
            path = folder / f"{name}.csv"
            if not path.exists():
                continue  # a table later migrations made: empty in the backup's release
            with path.open() as f:
                header = f.readline().rstrip("\r\n")
            columns = next(csv.reader([header]))
            result = await conn.copy_to_table(
                name, source=path, format="csv", header=True, columns=columns
            )
            loaded[name] = int(result.split()[-1])
        for r in await conn.fetch(_SEQUENCES):
            await conn.execute(
                f'SELECT setval($1, COALESCE((SELECT max("{r["column_name"]}") '
                f'FROM "{r["table_name"]}"), 0) + 1, false)',
                r["seq"],
            )
        await _forced(conn, forced)
    return loaded

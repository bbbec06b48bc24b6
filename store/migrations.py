"""Numbered schema migrations, applied once each and recorded in `schema_migrations`.

Only `complaints migrate` and a worker start apply them, one process at a time under an
advisory lock, and only when one is pending: DDL takes locks that queue behind any open
transaction (and every later query queues behind the DDL), so read paths never run it and
a database user that may only SELECT can still list, report and export.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import asyncpg

from store import scope
from store.connections import Db

MIGRATION_LOCK = 7_301_554  # advisory lock id: one migrating process at a time
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# A migration's line `\ir ../sql/NAME.sql` (psql's include, relative to the migration) is
# replaced by that file: a function kept readable in one place (store/sql/) is created by
# the migrations that load it.
_INCLUDE = re.compile(r"^\\ir \.\./sql/([a-z0-9_]+\.sql)$", re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    # Of the file as written (an included function file may grow for a later migration
    # that loads it again, without making an applied migration "edited").
    checksum: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    applied_at: datetime
    checksum: str | None  # None: applied before checksums were recorded


class SchemaNotReady(Exception):
    """The database lacks migrations this code needs."""


class MigrationEdited(SchemaNotReady):
    """An applied migration's file differs from what was applied: the database and the code
    no longer describe the same schema, and running on would hide it."""


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files("store").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            text = entry.read_text()
            checksum = hashlib.sha256(text.encode()).hexdigest()
            found.append(Migration(int(match[1]), match[2], _included(text), checksum))
    found.sort(key=lambda m: m.version)
    assert [m.version for m in found] == list(range(1, len(found) + 1)), "a gap in migrations"
    return found


def _included(sql: str) -> str:
    folder = resources.files("store").joinpath("sql")
    return _INCLUDE.sub(lambda m: folder.joinpath(m[1]).read_text(), sql)


@scope.as_owner
async def applied_versions(conn: Db) -> set[int]:
    """What the database has, read without any lock (none at all on a fresh database)."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return set()
    return {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}


@scope.as_owner
async def applied(conn: Db) -> list[Applied]:
    """Each applied migration with its checksum (None where it was applied unrecorded)."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return []
    has_checksum = await conn.fetchval(
        "SELECT count(*) FROM information_schema.columns"
        " WHERE table_name = 'schema_migrations' AND column_name = 'checksum'"
        " AND table_schema = current_schema()"
    )
    column = "checksum" if has_checksum else "NULL::text AS checksum"
    rows = await conn.fetch(
        f"SELECT version, name, applied_at, {column} FROM schema_migrations ORDER BY version"
    )
    return [Applied(r["version"], r["name"], r["applied_at"], r["checksum"]) for r in rows]


def edited(done: list[Applied], known: list[Migration]) -> list[Migration]:
    """The applied migrations whose files changed since."""
    sums = {a.version: a.checksum for a in done}
    return [m for m in known if sums.get(m.version) not in (None, m.checksum)]


def _refuse_edited(done: list[Applied]) -> None:
    changed = edited(done, migrations())
    if changed:
        raise MigrationEdited(
            f"migration {changed[0].label} was changed after it was applied: restore the file "
            "as it was applied and put the change in a new migration (`complaints migrate "
            "--status` lists them)"
        )


@scope.as_owner
async def pending(pool: asyncpg.Pool, up_to: int | None = None) -> list[Migration]:
    done = await applied_versions(pool)
    return [
        m for m in migrations() if m.version not in done and (up_to is None or m.version <= up_to)
    ]


@scope.as_owner
async def migrate(pool: asyncpg.Pool, up_to: int | None = None) -> list[Migration]:
    """Apply what is pending (up to version `up_to`: a restore loads a backup's rows into the
    schema they were written in), each in order and all in one transaction; returns them."""
    before = await applied(pool)
    _refuse_edited(before)
    if not await pending(pool, up_to) and all(a.checksum for a in before):
        return []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        await conn.execute("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text")
        known = migrations()
        # Applied before checksums were kept: recorded as the files are now, once.
        for m in known:
            await conn.execute(
                "UPDATE schema_migrations SET checksum = $2"
                " WHERE version = $1 AND checksum IS NULL",
                m.version,
                m.checksum,
            )
        _refuse_edited(await applied(conn))  # another process may have migrated meanwhile
        done = await applied_versions(conn)
        todo = [m for m in known if m.version not in done and (up_to is None or m.version <= up_to)]
        for m in todo:
            await conn.execute(m.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                m.version,
                m.name,
                m.checksum,
            )
    return todo


@scope.as_owner
async def require_current(pool: asyncpg.Pool) -> None:
    """For read paths: a clear refusal instead of 'relation does not exist'."""
    _refuse_edited(await applied(pool))
    missing = await pending(pool)
    if missing:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in missing)
        raise SchemaNotReady(
            f"the database is missing migrations {names}: run `complaints migrate` "
            "(a worker start also applies them)"
        )

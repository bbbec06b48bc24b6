"""Numbered schema migrations, applied once each and recorded in `schema_migrations`.

Only `complaints migrate` and a worker start apply them, one process at a time under an
advisory lock, and only when one is pending: DDL takes locks that queue behind any open
transaction (and every later query queues behind the DDL), so read paths never run it and
a database user that may only SELECT can still list, report and export.
"""

import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

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


class SchemaNotReady(Exception):
    """The database lacks migrations this code needs."""


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files("store").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], _included(entry.read_text())))
    found.sort(key=lambda m: m.version)
    assert [m.version for m in found] == list(range(1, len(found) + 1)), "a gap in migrations"
    return found


def _included(sql: str) -> str:
    folder = resources.files("store").joinpath("sql")
    return _INCLUDE.sub(lambda m: folder.joinpath(m[1]).read_text(), sql)


async def applied_versions(conn: asyncpg.Connection | asyncpg.Pool) -> set[int]:
    """What the database has, read without any lock (none at all on a fresh database)."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return set()
    return {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}


async def pending(pool: asyncpg.Pool) -> list[Migration]:
    done = await applied_versions(pool)
    return [m for m in migrations() if m.version not in done]


async def migrate(pool: asyncpg.Pool) -> list[Migration]:
    """Apply what is pending, each in order and all in one transaction; returns them."""
    if not await pending(pool):
        return []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = await applied_versions(conn)  # another process may have migrated meanwhile
        todo = [m for m in migrations() if m.version not in done]
        for m in todo:
            await conn.execute(m.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name
            )
    return todo


async def require_current(pool: asyncpg.Pool) -> None:
    """For read paths: a clear refusal instead of 'relation does not exist'."""
    missing = await pending(pool)
    if missing:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in missing)
        raise SchemaNotReady(
            f"the database is missing migrations {names}: run `complaints migrate` "
            "(a worker start also applies them)"
        )

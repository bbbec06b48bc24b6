"""A connection for a few statements in a row: taken from a pool, or the one a caller
already holds (e.g. under a session lock it must keep, store.cases.one_opening)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A connection as the code holds one: opened on its own, or lent by a pool (a proxy).
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
Db: TypeAlias = "asyncpg.Pool[asyncpg.Record] | Conn"


def one_row(row: "asyncpg.Record | None") -> "asyncpg.Record":
    """The row a statement always returns (an aggregate, an upsert's RETURNING)."""
    if row is None:
        raise LookupError("the statement returned no row")
    return row


@asynccontextmanager
async def one_connection(db: Db) -> AsyncIterator[Conn]:
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            yield conn
    else:
        yield db


async def ping(db: Db) -> None:
    """Raises unless PostgreSQL answers a statement on `db`."""
    await db.fetchval("SELECT 1")

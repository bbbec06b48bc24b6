"""A connection for a few statements in a row: taken from a pool, or the one a caller
already holds (e.g. under a session lock it must keep, store.cases.one_opening)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import asyncpg

Db: TypeAlias = asyncpg.Pool | asyncpg.Connection


@asynccontextmanager
async def one_connection(db: Db) -> AsyncIterator[asyncpg.Connection]:
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            yield conn
    else:
        yield db


async def ping(db: Db) -> None:
    """Raises unless PostgreSQL answers a statement on `db`."""
    await db.fetchval("SELECT 1")

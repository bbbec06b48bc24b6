"""Bulk rows for the benchmarks: COPY refuses a table under row-level security, so seeding
runs as the database's owner (a superuser on the embedded server and in CI), its rows the
first shop's by the column's default."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from infra.shop_ids import FIRST_SHOP
from store import scope
from store.connections import Conn


@asynccontextmanager
async def loading(pool: asyncpg.Pool) -> AsyncIterator[Conn]:
    with scope.owner():
        async with pool.acquire() as conn:
            await conn.execute("SELECT set_config('complaints.shop', $1, false)", FIRST_SHOP)
            try:
                yield conn
            finally:  # as the pool's hook left it (the owner's: no shop), which it remembers
                await conn.execute("RESET complaints.shop")

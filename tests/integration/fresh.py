"""A database of its own for a test that counts every row (gauges, backups, retention)."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from infra import postgres
from infra.shop_ids import FIRST_SHOP
from store import migrations
from tests.conftest import with_database


@asynccontextmanager
async def fresh_database(server_url: str, migrated: bool = True) -> AsyncIterator[str]:
    """A new, empty database on the test server (migrated unless told not to); dropped after."""
    name = f"complaints_fresh_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = with_database(server_url, name)
        if migrated:
            pool = await postgres.connect(url, max_size=2, scope=FIRST_SHOP)
            try:
                await migrations.migrate(pool)
            finally:
                await pool.close()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

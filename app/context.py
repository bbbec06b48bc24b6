"""What the application layer runs on: the settings, a Temporal client and a PostgreSQL
pool, each opened on first use. The CLI makes one per command; the API one per process
(both are safe to share between concurrent requests)."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING

import asyncpg

from app.refusals import Unavailable
from infra import postgres
from infra.rulebook import Effective
from infra.settings import Settings
from store import migrations, rulebook

if TYPE_CHECKING:  # Temporal's client is imported when one is made: a read needs none
    from temporalio.client import Client


class Context:
    def __init__(
        self,
        settings: Settings,
        client: Client | None = None,
        pool: asyncpg.Pool | None = None,
        pool_size: int = 2,
    ) -> None:
        self.settings = settings
        self._client = client
        self._pool = pool
        self._owns_pool = pool is None
        self._pool_size = pool_size
        self._lock = asyncio.Lock()
        self._rules = Effective(settings, self._read_rules)

    async def shop_settings(self) -> Settings:
        """The settings with the owner's rulebook on top, as the pages and the API show the
        shop (its language, its zone): read at most every few seconds
        (infra.rulebook.Effective); the environment's alone when there is no database."""
        return await self._rules.get()

    def rules_changed(self) -> None:
        """This process has just changed the rulebook: the next ask reads it again."""
        self._rules.forget()

    async def _read_rules(self) -> dict[str, str]:
        return await rulebook.rules(await self.pool())

    async def client(self) -> Client:
        async with self._lock:
            if self._client is None:
                self._client = await connect(self.settings)
            return self._client

    async def pool(self) -> asyncpg.Pool:
        """A pool on a database whose migrations are all in (checked by reading only)."""
        async with self._lock:
            if self._pool is None:
                self._pool = await open_pool(self.settings, self._pool_size)
            return self._pool

    async def close(self) -> None:
        if self._pool is not None and self._owns_pool:
            await self._pool.close()
        self._pool = None

    async def __aenter__(self) -> Context:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()


async def connect(settings: Settings) -> Client:
    from infra import connection

    try:
        return await connection.connect(settings)
    except RuntimeError as err:
        raise Unavailable(
            f"cannot reach Temporal at {settings.temporal_address}: start the service with "
            "`make run` (or set TEMPORAL_ADDRESS)"
        ) from err


async def open_pool(settings: Settings, size: int = 2, schema: bool = True) -> asyncpg.Pool:
    """A pool on the service's database; with `schema`, one whose migrations are all in
    (checked by reading, never by running DDL)."""
    url = postgres.configured_url(settings.database_url, settings.data_dir)
    if url is None:
        raise Unavailable("no database: set DATABASE_URL or start the service with `make run`")
    try:
        pool = await postgres.connect(
            url, max_size=size, statement_cache_size=settings.database_statement_cache_size
        )
    except asyncpg.InsufficientPrivilegeError as err:
        raise Unavailable(f"PostgreSQL refused this user: {err}") from err
    except (OSError, asyncpg.PostgresError) as err:
        raise Unavailable(f"cannot reach PostgreSQL: {err}") from err
    if schema:
        try:
            await migrations.require_current(pool)
        except migrations.SchemaNotReady as err:
            await pool.close()
            raise Unavailable(str(err)) from err
    return pool

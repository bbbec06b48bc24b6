"""Running the service: schema migrations, Temporal's search attributes, the read model's
rebuild, undelivered notices."""

from typing import Any, NamedTuple

import asyncpg
from temporalio.service import RPCError, RPCStatusCode

from app.context import Context, open_pool
from app.identity import NOTICES, REBUILD, Actor, require
from app.refusals import Conflict, InvalidInput, Unavailable
from infra import temporal_server
from store import migrations
from store.outbox import Outbox
from store.read_model import rebuild_read_model
from workflows import search_attributes


class _NoSender:
    async def send(self, notice: dict[str, Any]) -> None:
        raise RuntimeError("reading the outbox sends nothing")


async def migrate(ctx: Context) -> list[migrations.Migration]:
    """Apply pending migrations (no identity: the staff table may not exist yet)."""
    pool = await open_pool(ctx.settings, schema=False)
    try:
        return await migrations.migrate(pool)
    except migrations.MigrationEdited as err:
        raise Conflict(str(err)) from None
    except asyncpg.InsufficientPrivilegeError as err:
        raise Unavailable(f"this PostgreSQL user may not change the schema: {err}") from err
    finally:
        await pool.close()


class MigrationStatus(NamedTuple):
    applied: list[migrations.Applied]
    pending: list[migrations.Migration]
    edited: list[migrations.Migration]


async def migration_status(ctx: Context) -> MigrationStatus:
    """What the database has applied, what is pending, and what changed since it was
    applied; read only, so it works for a user that may not change the schema."""
    pool = await open_pool(ctx.settings, schema=False)
    try:
        done = await migrations.applied(pool)
        known = migrations.migrations()
        versions = {a.version for a in done}
        todo = [m for m in known if m.version not in versions]
        return MigrationStatus(done, todo, migrations.edited(done, known))
    finally:
        await pool.close()


async def setup(ctx: Context) -> tuple[list[str], list[str]]:
    """Register the custom search attributes the worker requires; those present stay as
    they are, so running it again is harmless. Returns (added, present) descriptions."""
    client = await ctx.client()
    namespace, keys = ctx.settings.temporal_namespace, search_attributes.ALL

    async def missing() -> list[str]:
        try:
            return await temporal_server.missing_search_attributes(client, keys, namespace)
        except temporal_server.SearchAttributeClash as err:
            raise InvalidInput(str(err)) from err
        except RPCError as err:
            raise Unavailable(f"namespace {namespace}: {err.message}") from err

    absent = await missing()
    adding = tuple(k for k in keys if k.name in absent)
    if absent:
        try:
            await temporal_server.register_search_attributes(client, adding, namespace)
        except RPCError as err:
            if err.status != RPCStatusCode.ALREADY_EXISTS or await missing():
                raise Unavailable(f"namespace {namespace}: {err.message}") from err
            absent = []  # another `setup` added them meanwhile
    if not absent:
        return [], [k.name for k in keys]
    return [f"{k.name} ({k.indexed_value_type.name.capitalize()})" for k in adding], []


async def rebuild(ctx: Context, actor: Actor) -> int:
    require(actor, REBUILD)
    return await rebuild_read_model(await ctx.pool())


async def unsent_notices(ctx: Context, actor: Actor, limit: int) -> list[dict[str, Any]]:
    require(actor, NOTICES)
    if limit < 1:
        raise InvalidInput("--limit starts at 1")
    return await Outbox(await ctx.pool(), _NoSender()).unsent(limit)


async def delivered_messages(ctx: Context, actor: Actor, limit: int) -> list[dict[str, Any]]:
    """Customer messages done, newest first, with what became of each."""
    require(actor, NOTICES)
    if limit < 1:
        raise InvalidInput("--limit starts at 1")
    return await Outbox(await ctx.pool(), _NoSender()).delivered(limit)

"""The rulebook the owner has set, the shop's one-off closures and extra openings, and the
record of every change to them (who, when, before, after)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg

from store.connections import Conn, one_row


@dataclass(frozen=True)
class Change:
    id: int
    at: datetime
    by: str
    what: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Opening:
    day: date
    hours: str
    reason: str


@dataclass(frozen=True)
class ShopRules:
    """Everything a case's rules are read from, besides the environment."""

    rules: dict[str, str]
    closures: dict[date, str]
    openings: tuple[Opening, ...]


async def rules(pool: asyncpg.Pool) -> dict[str, str]:
    rows = await pool.fetch("SELECT key, value FROM rulebook ORDER BY key")
    return {r["key"]: r["value"] for r in rows}


async def shop_rules(pool: asyncpg.Pool, since: date | None = None) -> ShopRules:
    """The rules set, closures and openings from `since` on, in one round trip's worth."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        set_rules = await conn.fetch("SELECT key, value FROM rulebook")
        closed = await conn.fetch(
            "SELECT day, reason FROM calendar_closures WHERE day >= $1 ORDER BY day",
            since or date.min,
        )
        opened = await conn.fetch(
            "SELECT day, hours, reason FROM calendar_openings WHERE day >= $1 ORDER BY day",
            since or date.min,
        )
    return ShopRules(
        rules={r["key"]: r["value"] for r in set_rules},
        closures={r["day"]: r["reason"] for r in closed},
        openings=tuple(Opening(r["day"], r["hours"], r["reason"]) for r in opened),
    )


async def set_rules(pool: asyncpg.Pool, values: Mapping[str, str | None], by: str) -> list[Change]:
    """Set (or, with None, unset) rules in one transaction; each one that changes is
    recorded. Returns the changes (none when every value was already so)."""
    out = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE rulebook IN SHARE ROW EXCLUSIVE MODE")
        for key, value in values.items():
            before = await conn.fetchval("SELECT value FROM rulebook WHERE key = $1", key)
            if before == value:
                continue
            if value is None:
                await conn.execute("DELETE FROM rulebook WHERE key = $1", key)
            else:
                await conn.execute(
                    "INSERT INTO rulebook (key, value, updated_by) VALUES ($1, $2, $3) "
                    "ON CONFLICT (shop_id, key) DO UPDATE SET value = EXCLUDED.value, "
                    "updated_at = now(), updated_by = EXCLUDED.updated_by",
                    key,
                    value,
                    by,
                )
            out.append(await _record(conn, by, key, before, value))
    return out


async def close_day(pool: asyncpg.Pool, day: date, reason: str, by: str) -> Change | None:
    """A one-off closure, recorded; None if the day was closed already for that reason."""
    async with pool.acquire() as conn, conn.transaction():
        before = await conn.fetchval(
            "SELECT reason FROM calendar_closures WHERE day = $1 FOR UPDATE", day
        )
        if before == reason:
            return None
        await conn.execute(
            "INSERT INTO calendar_closures (day, reason) VALUES ($1, $2) "
            "ON CONFLICT (shop_id, day) DO UPDATE SET reason = EXCLUDED.reason",
            day,
            reason,
        )
        return await _record(conn, by, f"closed {day.isoformat()}", before, reason)


async def open_day(
    pool: asyncpg.Pool, day: date, hours: str | None, reason: str, by: str
) -> Change | None:
    """A one-off extra opening (`hours`), or None to remove one; recorded."""
    async with pool.acquire() as conn, conn.transaction():
        before = await conn.fetchval(
            "SELECT hours FROM calendar_openings WHERE day = $1 FOR UPDATE", day
        )
        if before == hours:
            return None
        if hours is None:
            await conn.execute("DELETE FROM calendar_openings WHERE day = $1", day)
        else:
            await conn.execute(
                "INSERT INTO calendar_openings (day, hours, reason) VALUES ($1, $2, $3) "
                "ON CONFLICT (shop_id, day) "
                "DO UPDATE SET hours = EXCLUDED.hours, reason = EXCLUDED.reason",
                day,
                hours,
                reason,
            )
        return await _record(conn, by, f"opened {day.isoformat()}", before, hours)


async def changes(pool: asyncpg.Pool, limit: int = 50) -> list[Change]:
    rows = await pool.fetch(
        "SELECT id, at, by, what, before, after FROM rulebook_changes "
        "ORDER BY at DESC, id DESC LIMIT $1",
        limit,
    )
    return [Change(**dict(r)) for r in rows]


async def open_case_ids(pool: asyncpg.Pool) -> list[str]:
    """The cases whose rules a change should reach: every one not closed or withdrawn."""
    rows = await pool.fetch(
        "SELECT case_id FROM complaint_cases WHERE status NOT IN ('closed', 'withdrawn') "
        "ORDER BY opened_at"
    )
    return [r["case_id"] for r in rows]


async def delivery_version(pool: asyncpg.Pool) -> int:
    """The count of changes so far; read before signalling the open cases, so that
    `delivered` clears the mark only if no change came in the meantime."""
    return int(await pool.fetchval("SELECT version FROM rulebook_delivery"))


async def undelivered(pool: asyncpg.Pool, older_than: timedelta) -> int | None:
    """The version of a change that may not have reached every open case, left so for
    `older_than` (the process that stored it died, or Temporal was away); None if every
    open case has the rules as they are (or the signalling may still be under way)."""
    version = await pool.fetchval(
        "SELECT version FROM rulebook_delivery WHERE changed_at < now() - $1::interval",
        older_than,
    )
    return None if version is None else int(version)


async def delivered(pool: asyncpg.Pool, version: int) -> bool:
    """Every open case has been signalled since the rulebook was at `version`: clear the
    mark, unless a newer change came meanwhile (it is still to be delivered)."""
    status = await pool.execute(
        "UPDATE rulebook_delivery SET changed_at = NULL "
        "WHERE version = $1 AND changed_at IS NOT NULL",
        version,
    )
    return bool(status == "UPDATE 1")


async def _record(conn: Conn, by: str, what: str, before: str | None, after: str | None) -> Change:
    # In the change's own transaction: the change is to be delivered to the open cases
    # (its row lock also puts concurrent changes in line, so versions follow commits).
    await conn.execute("UPDATE rulebook_delivery SET version = version + 1, changed_at = now()")
    row = await conn.fetchrow(
        "INSERT INTO rulebook_changes (by, what, before, after) VALUES ($1, $2, $3, $4) "
        "RETURNING id, at, by, what, before, after",
        by,
        what,
        before,
        after,
    )
    return Change(**dict(one_row(row)))


async def updated_by(pool: asyncpg.Pool) -> dict[str, str]:
    """Who last set each rule the owner's rulebook holds."""
    rows = await pool.fetch("SELECT key, updated_by FROM rulebook")
    return {r["key"]: r["updated_by"] for r in rows}

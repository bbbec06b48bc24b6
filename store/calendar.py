"""The shop's one-off closures, kept in PostgreSQL."""

from datetime import date

import asyncpg


async def closures(pool: asyncpg.Pool, since: date | None = None) -> dict[date, str]:
    rows = await pool.fetch(
        "SELECT day, reason FROM calendar_closures WHERE day >= $1 ORDER BY day",
        since or date.min,
    )
    return {r["day"]: r["reason"] for r in rows}


async def close(pool: asyncpg.Pool, day: date, reason: str) -> bool:
    """Record a closure; False if the day was closed already (its reason is updated)."""
    inserted = await pool.fetchval(
        "INSERT INTO calendar_closures (day, reason) VALUES ($1, $2) "
        "ON CONFLICT (shop_id, day) DO UPDATE SET reason = EXCLUDED.reason "
        "RETURNING (xmax = 0)",
        day,
        reason,
    )
    return bool(inserted)

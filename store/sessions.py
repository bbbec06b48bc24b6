"""Staff sign-in links and sessions on the pages: rows keyed by the SHA-256 of their token."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import asyncpg


@dataclass(frozen=True)
class SessionRow:
    id: int
    name: str  # the staff member's
    role: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    device: str
    revoked_at: datetime | None
    shop_id: str | None


LinkRefusal = Literal["unknown", "used", "expired", "revoked"]


async def add_link(pool: asyncpg.Pool, name: str, token_sha256: str, lasts: timedelta) -> bool:
    """A sign-in link for the active member of that name; False when there is none."""
    added = await pool.fetchval(
        "INSERT INTO staff_sign_in_links (token_sha256, staff_id, expires_at) "
        "SELECT $1, id, now() + $3::interval FROM staff WHERE name = $2 AND revoked_at IS NULL "
        "RETURNING true",
        token_sha256,
        name,
        lasts,
    )
    return bool(added)


async def use_link(
    pool: asyncpg.Pool, link_sha256: str, session_sha256: str, lasts: timedelta, device: str
) -> LinkRefusal | None:
    """Spend the link and start a session in one transaction; or why the link is refused.
    The UPDATE is the single-use check: of two taps at once, one finds used_at set."""
    async with pool.acquire() as conn, conn.transaction():
        spent = await conn.fetchrow(
            "UPDATE staff_sign_in_links l SET used_at = now() FROM staff s "
            "WHERE l.token_sha256 = $1 AND l.used_at IS NULL AND l.expires_at > now() "
            "AND s.id = l.staff_id AND s.revoked_at IS NULL RETURNING l.staff_id, l.shop_id",
            link_sha256,
        )
        if spent is not None:
            await conn.execute(  # the session is for the link's shop
                "INSERT INTO staff_sessions (token_sha256, staff_id, expires_at, device, shop_id) "
                "VALUES ($1, $2, now() + $3::interval, $4, $5)",
                session_sha256,
                spent["staff_id"],
                lasts,
                device,
                spent["shop_id"],
            )
            return None
        row = await conn.fetchrow(
            "SELECT l.used_at IS NOT NULL AS used, l.expires_at <= now() AS expired, "
            "s.revoked_at IS NOT NULL AS revoked FROM staff_sign_in_links l "
            "JOIN staff s ON s.id = l.staff_id WHERE l.token_sha256 = $1",
            link_sha256,
        )
    if row is None:
        return "unknown"
    if row["revoked"]:
        return "revoked"
    return "used" if row["used"] else "expired"


_SESSION = (
    "SELECT x.id, s.name, s.role, x.created_at, x.expires_at, x.last_seen_at, x.device, "
    "x.revoked_at, x.shop_id FROM staff_sessions x JOIN staff s ON s.id = x.staff_id"
)


async def live_session(pool: asyncpg.Pool, session_sha256: str) -> SessionRow | None:
    """The session if it is neither expired, revoked, nor its member's revoked; seen now
    (at most once a minute, so reading pages does not write on every request)."""
    row = await pool.fetchrow(
        f"{_SESSION} WHERE x.token_sha256 = $1 AND x.revoked_at IS NULL "
        "AND x.expires_at > now() AND s.revoked_at IS NULL",
        session_sha256,
    )
    if row is None:
        return None
    await pool.execute(
        "UPDATE staff_sessions SET last_seen_at = now() "
        "WHERE id = $1 AND last_seen_at < now() - interval '1 minute'",
        row["id"],
    )
    return SessionRow(**dict(row))


async def live_sessions(pool: asyncpg.Pool) -> list[SessionRow]:
    rows = await pool.fetch(
        f"{_SESSION} WHERE x.revoked_at IS NULL AND x.expires_at > now() "
        "AND s.revoked_at IS NULL ORDER BY s.name, x.last_seen_at DESC"
    )
    return [SessionRow(**dict(r)) for r in rows]


async def end_session(pool: asyncpg.Pool, session_id: int) -> bool:
    ended = await pool.fetchval(
        "UPDATE staff_sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL "
        "RETURNING true",
        session_id,
    )
    return bool(ended)


async def end_session_by_token(pool: asyncpg.Pool, session_sha256: str) -> None:
    await pool.execute(
        "UPDATE staff_sessions SET revoked_at = now() "
        "WHERE token_sha256 = $1 AND revoked_at IS NULL",
        session_sha256,
    )


async def link_holder(
    pool: asyncpg.Pool, link_sha256: str
) -> tuple[str | None, LinkRefusal | None]:
    """Whose link this is and, if it cannot be used, why; nothing is spent."""
    row = await pool.fetchrow(
        "SELECT s.name, l.used_at IS NOT NULL AS used, l.expires_at <= now() AS expired, "
        "s.revoked_at IS NOT NULL AS revoked FROM staff_sign_in_links l "
        "JOIN staff s ON s.id = l.staff_id WHERE l.token_sha256 = $1",
        link_sha256,
    )
    if row is None:
        return None, "unknown"
    why: LinkRefusal | None = (
        "revoked"
        if row["revoked"]
        else "used"
        if row["used"]
        else "expired"
        if row["expired"]
        else None
    )
    return row["name"], why

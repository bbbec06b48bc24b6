"""Staff accounts: names, roles and the hashes of their API tokens."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from store import scope


@dataclass(frozen=True)
class StaffRow:
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    shop_id: str | None  # None: an operator, of no shop


_COLUMNS = "name, role, created_at, revoked_at, shop_id"


def _row(record: asyncpg.Record | None) -> StaffRow | None:
    return None if record is None else StaffRow(**dict(record))


async def add(pool: asyncpg.Pool, name: str, role: str, token_sha256: str) -> bool:
    """A member of the shop in scope; False when an active member already has this name."""
    inserted = await pool.fetchval(
        "INSERT INTO staff (name, role, token_sha256) VALUES ($1, $2, $3) "
        "ON CONFLICT (shop_id, name) WHERE revoked_at IS NULL DO NOTHING RETURNING true",
        name,
        role,
        token_sha256,
    )
    return bool(inserted)


async def add_operator(pool: asyncpg.Pool, name: str, token_sha256: str) -> bool:
    """An operator, of no shop; False when an active operator already has this name."""
    with scope.every_shop():
        inserted = await pool.fetchval(
            "INSERT INTO staff (name, role, token_sha256, shop_id) "
            "VALUES ($1, 'operator', $2, NULL) "
            "ON CONFLICT (name) WHERE revoked_at IS NULL AND shop_id IS NULL DO NOTHING "
            "RETURNING true",
            name,
            token_sha256,
        )
    return bool(inserted)


async def by_token(pool: asyncpg.Pool, token_sha256: str) -> StaffRow | None:
    """Whoever's token it is, in any shop (the token says which)."""
    with scope.every_shop():
        row = await pool.fetchrow(
            f"SELECT {_COLUMNS} FROM staff WHERE token_sha256 = $1", token_sha256
        )
    return _row(row)


async def named(pool: asyncpg.Pool, name: str) -> list[StaffRow]:
    """Every member of that name in any shop (and any operator), the active ones first."""
    with scope.every_shop():
        rows = await pool.fetch(
            f"SELECT {_COLUMNS} FROM staff WHERE name = $1 "
            "ORDER BY revoked_at IS NULL DESC, revoked_at DESC",
            name,
        )
    return [StaffRow(**dict(r)) for r in rows]


async def by_name(pool: asyncpg.Pool, name: str) -> StaffRow | None:
    """The active member of that name, else the most recently revoked one."""
    return _row(
        await pool.fetchrow(
            f"SELECT {_COLUMNS} FROM staff WHERE name = $1 "
            "ORDER BY revoked_at IS NULL DESC, revoked_at DESC LIMIT 1",
            name,
        )
    )


async def everyone(pool: asyncpg.Pool) -> list[StaffRow]:
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM staff ORDER BY revoked_at IS NOT NULL, name")
    return [StaffRow(**dict(r)) for r in rows]


async def revoke(pool: asyncpg.Pool, name: str) -> datetime | None:
    """When the active member of that name was revoked; None if there is none."""
    revoked: datetime | None = await pool.fetchval(
        "UPDATE staff SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL "
        "RETURNING revoked_at",
        name,
    )
    return revoked

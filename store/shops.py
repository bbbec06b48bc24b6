"""Shops: the tenants of one deployment. Read and written by the system role (an operator
adds shops; sweeps visit them one after another)."""

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from store import scope
from store.connections import one_row


@dataclass(frozen=True)
class ShopRow:
    shop_id: str
    name: str
    created_at: datetime


async def add(pool: asyncpg.Pool, shop_id: str, name: str) -> ShopRow:
    with scope.every_shop():
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO shops (shop_id, name) VALUES ($1, $2) "
                "RETURNING shop_id, name, created_at",
                shop_id,
                name,
            )
            # The shop's mark of rulebook changes delivered (store.rulebook).
            await conn.execute("INSERT INTO rulebook_delivery (shop_id) VALUES ($1)", shop_id)
    return ShopRow(**dict(one_row(row)))


async def everyone(pool: asyncpg.Pool) -> list[ShopRow]:
    with scope.every_shop():
        rows = await pool.fetch("SELECT shop_id, name, created_at FROM shops ORDER BY created_at")
    return [ShopRow(**dict(r)) for r in rows]


async def ids(pool: asyncpg.Pool) -> list[str]:
    with scope.every_shop():
        return [r["shop_id"] for r in await pool.fetch("SELECT shop_id FROM shops ORDER BY 1")]


async def by_id(pool: asyncpg.Pool, shop_id: str) -> ShopRow | None:
    with scope.every_shop():
        row = await pool.fetchrow(
            "SELECT shop_id, name, created_at FROM shops WHERE shop_id = $1", shop_id
        )
    return None if row is None else ShopRow(**dict(row))


async def shop_of_case(pool: asyncpg.Pool, case_id: str) -> str | None:
    """Whose case this is (case ids are unique across shops): for a customer's link, which
    names its case and no shop."""
    with scope.every_shop():
        shop: str | None = await pool.fetchval(
            "SELECT shop_id FROM complaint_cases WHERE case_id = $1", case_id
        )
    return shop


async def shop_of_customer(pool: asyncpg.Pool, customer_id: str) -> str | None:
    """Whose customer this is (references are unique across shops): for an opt-out link."""
    with scope.every_shop():
        shop: str | None = await pool.fetchval(
            "SELECT shop_id FROM customers WHERE id = $1", customer_id
        )
    return shop


async def each(
    pool: asyncpg.Pool, run: Callable[[], Awaitable[Mapping[str, int]]]
) -> dict[str, int]:
    """`run` once for every shop, in the shop's scope (its rows, its rulebook); the counts
    added up. A sweep of the service's own schedule is made of these."""
    totals: Counter[str] = Counter()
    for shop in await ids(pool):
        with scope.shop(shop):
            totals.update(await run())
    return dict(totals)

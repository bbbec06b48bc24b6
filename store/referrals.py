"""Visits one by one (`customer_visits`: the repeat-visit rate needs their dates), who
referred whom, and the rewards a referral earns: both sides a discount on their next visit,
and the referrer a free check-up on every Nth referral. A reward is used up once."""

from datetime import datetime

import asyncpg
from pydantic import BaseModel, Field

from store.connections import Conn, Db


class RewardTerms(BaseModel):
    """The shop's amounts (the guides: 5-10 % off for both sides, a free check-up for
    three referrals)."""

    referred_percent: int = Field(default=10, ge=0, le=100)
    referrer_percent: int = Field(default=10, ge=0, le=100)
    free_check_every: int = Field(default=3, ge=1)


class Reward(BaseModel):
    id: int
    kind: str  # referred_discount, referrer_discount, free_check
    percent: int | None
    granted_at: datetime
    redeemed_at: datetime | None = None


class ReferrerStanding(BaseModel):
    """The referrer's side of a referral: how many they brought, what is waiting for them."""

    customer_id: str
    referrals: int
    rewards: list[Reward]


class ReferralRefused(ValueError):
    """A referral that cannot be recorded; the message says why and what to do."""


_REWARDS = """
SELECT id, kind, percent, granted_at, redeemed_at FROM referral_rewards
WHERE customer_id = $1 AND redeemed_at IS NULL ORDER BY id
"""


async def referrer_of(conn: Conn, customer_id: str | None, referrer: str) -> str:
    """The referrer's customer id, checked: on file, not the customer themselves, and the
    customer new (a referral brings a new customer: it counts on the first visit)."""
    referrer_id: str | None = await conn.fetchval(
        "SELECT id FROM customers WHERE phone = $1 AND forgotten_at IS NULL", referrer
    )
    if referrer_id is None:
        raise ReferralRefused(
            "referred_by: no customer with that phone; record the referrer's own visit first"
        )
    if referrer_id == customer_id:
        raise ReferralRefused("referred_by: a customer cannot refer themselves")
    if customer_id is not None:
        earlier = await conn.fetchval(
            "SELECT visits > 0 OR referred_by IS NOT NULL FROM customers WHERE id = $1",
            customer_id,
        )
        if earlier:
            raise ReferralRefused(
                "referred_by: this customer has visited before; a referral counts on the "
                "first visit only"
            )
    return referrer_id


async def record(
    conn: Conn,
    customer_id: str,
    at: datetime,
    referrer_id: str | None,
    terms: RewardTerms,
) -> int:
    """The visit's row, and for a referral both sides' rewards; returns the visit's id.
    Runs inside the caller's transaction (the visit count goes up in the same one)."""
    visit_id: int = await conn.fetchval(
        "INSERT INTO customer_visits (customer_id, visited_at, referred_by)"
        " VALUES ($1, $2, $3) RETURNING id",
        customer_id,
        at,
        referrer_id,
    )
    if referrer_id is None:
        return visit_id
    await conn.execute(
        "UPDATE customers SET referred_by = $2 WHERE id = $1", customer_id, referrer_id
    )
    grant = (
        "INSERT INTO referral_rewards (customer_id, kind, percent, visit_id, granted_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
    )
    await conn.execute(
        grant, customer_id, "referred_discount", terms.referred_percent, visit_id, at
    )
    await conn.execute(
        grant, referrer_id, "referrer_discount", terms.referrer_percent, visit_id, at
    )
    referrals = await referral_count(conn, referrer_id)
    if referrals % terms.free_check_every == 0:
        await conn.execute(grant, referrer_id, "free_check", None, visit_id, at)
    return visit_id


async def referral_count(conn: Db, referrer_id: str) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM customer_visits WHERE referred_by = $1", referrer_id
    )
    return count


async def open_rewards(conn: Db, customer_id: str) -> list[Reward]:
    return [Reward(**dict(r)) for r in await conn.fetch(_REWARDS, customer_id)]


async def standing(conn: Db, referrer_id: str) -> ReferrerStanding:
    return ReferrerStanding(
        customer_id=referrer_id,
        referrals=await referral_count(conn, referrer_id),
        rewards=await open_rewards(conn, referrer_id),
    )


async def redeem(pool: asyncpg.Pool, customer_id: str, reward_id: int) -> Reward:
    """Use a reward up: once, and only by the customer it was granted to."""
    row = await pool.fetchrow(
        "UPDATE referral_rewards SET redeemed_at = now()"
        " WHERE id = $1 AND customer_id = $2 AND redeemed_at IS NULL"
        " RETURNING id, kind, percent, granted_at, redeemed_at",
        reward_id,
        customer_id,
    )
    if row is None:
        used = await pool.fetchval(
            "SELECT redeemed_at FROM referral_rewards WHERE id = $1 AND customer_id = $2",
            reward_id,
            customer_id,
        )
        raise ReferralRefused(
            f"reward {reward_id} was used already ({used:%Y-%m-%d})"
            if used
            else f"no reward {reward_id} for this customer"
        )
    return Reward(**dict(row))

"""Customers by phone number: visits recorded at the counter, the tier derived from them."""

from datetime import UTC, datetime

import asyncpg
from pydantic import BaseModel, Field
from temporalio import activity

from domain.model import CustomerProfile, Phone
from domain.policy import tier_for


class TierThresholds(BaseModel):
    silver_from: int = Field(default=3, ge=1)
    gold_from: int = Field(default=5, ge=1)


class CustomerDirectory:
    def __init__(self, pool: asyncpg.Pool, thresholds: TierThresholds | None = None) -> None:
        self.pool = pool
        self.thresholds = thresholds or TierThresholds()

    async def record_visit(self, phone: Phone, name: str | None = None) -> CustomerProfile:
        """One more visit; `phone` must already be normalized (the Phone type does it)."""
        now = datetime.now(UTC)
        await self.pool.execute(
            """
            INSERT INTO customers (phone, name, visits, first_visit_at, last_visit_at)
            VALUES ($1, $2, 1, $3, $3)
            ON CONFLICT (phone) DO UPDATE SET
              visits = customers.visits + 1,
              name = COALESCE(EXCLUDED.name, customers.name),
              last_visit_at = EXCLUDED.last_visit_at
            """,
            phone,
            name,
            now,
        )
        return await self.profile(phone)

    async def profile(self, phone: str) -> CustomerProfile:
        row = await self.pool.fetchrow(
            """
            SELECT (SELECT visits FROM customers WHERE phone = $1) AS visits,
                   (SELECT count(*) FROM complaint_cases WHERE customer_phone = $1) AS cases
            """,
            phone,
        )
        visits = row["visits"] or 0
        t = self.thresholds
        return CustomerProfile(
            visits=visits,
            tier=tier_for(visits, t.silver_from, t.gold_from),
            previous_cases=row["cases"],
        )


class CustomerActivities:
    def __init__(self, directory: CustomerDirectory) -> None:
        self.directory = directory

    @activity.defn(name="customer_profile")
    async def customer_profile(self, phone: str) -> CustomerProfile:
        return await self.directory.profile(phone)

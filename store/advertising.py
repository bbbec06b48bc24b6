"""Advertising messages in PostgreSQL: who is due a keep-in-touch message, and the record
of each one (claimed before it is sent, so one period never gets two)."""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel

from domain.advertising import KEEP_IN_TOUCH, TRANSACTION_WINDOW, Consent


class Candidate(BaseModel):
    """A customer due a keep-in-touch message (staff may see the name; logs never do)."""

    customer_id: str
    name: str | None
    phone: str
    visits: int
    last_visit_at: datetime
    marketing_at: datetime | None
    night_at: datetime | None
    opted_out_at: datetime | None
    last_advertised_at: datetime | None

    @property
    def consent(self) -> Consent:
        return Consent(
            marketing_at=self.marketing_at,
            night_at=self.night_at,
            opted_out_at=self.opted_out_at,
            last_transaction_at=self.last_visit_at,
        )


# Not seen for `after`, not written to about this last visit yet, with a basis (consent, or
# a visit within the transaction window and no opt-out), not asking for no messages at all.
_DUE = """
SELECT c.id AS customer_id, c.name, c.phone, c.visits, c.last_visit_at,
       c.marketing_consent_at AS marketing_at, c.night_consent_at AS night_at, c.opted_out_at,
       (SELECT max(a.sent_at) FROM advertisements a WHERE a.customer_id = c.id)
         AS last_advertised_at
FROM customers c
WHERE c.forgotten_at IS NULL AND NOT c.no_messages
  AND c.last_visit_at <= $1::timestamptz - $2::interval
  AND (c.marketing_consent_at IS NOT NULL
       OR (c.opted_out_at IS NULL AND c.last_visit_at >= $1::timestamptz - $3::interval))
  AND NOT EXISTS (SELECT 1 FROM advertisements a
                  WHERE a.customer_id = c.id AND a.kind = $4 AND a.period = c.last_visit_at)
ORDER BY c.last_visit_at, c.id
LIMIT $5
"""


async def due(
    pool: asyncpg.Pool, now: datetime, after: timedelta, limit: int = 500
) -> list[Candidate]:
    rows = await pool.fetch(_DUE, now, after, TRANSACTION_WINDOW, KEEP_IN_TOUCH, limit)
    return [Candidate(**dict(r)) for r in rows]


async def claim(pool: asyncpg.Pool, candidate: Candidate, basis: str, now: datetime) -> str | None:
    """The message's id, once per customer and period; None if another run took it."""
    ad_id = uuid.uuid4()
    taken = await pool.fetchval(
        "INSERT INTO advertisements (id, customer_id, kind, period, basis, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
        ad_id,
        candidate.customer_id,
        KEEP_IN_TOUCH,
        candidate.last_visit_at,
        basis,
        now,
    )
    return str(taken) if taken else None


async def sent(pool: asyncpg.Pool, ad_id: str, delivery: dict[str, Any], now: datetime) -> None:
    await pool.execute(
        "UPDATE advertisements SET sent_at = $2, delivery = $3 WHERE id = $1",
        uuid.UUID(ad_id),
        now,
        json.dumps(delivery),
    )


async def release(pool: asyncpg.Pool, ad_id: str) -> None:
    """A send that failed: the claim goes, so the next run tries again."""
    await pool.execute("DELETE FROM advertisements WHERE id = $1", uuid.UUID(ad_id))


async def sent_to(pool: asyncpg.Pool, customer_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT id, kind, period, basis, sent_at FROM advertisements WHERE customer_id = $1"
        " ORDER BY created_at",
        customer_id,
    )
    return [dict(r) for r in rows]

"""Advertising messages in PostgreSQL: who is due a keep-in-touch message, and the record
of each one (claimed before it is sent, so one period never gets two). A claim whose send
failed or whose sender died stays, unsettled, until a later run has asked the provider
whether it went (notify.keep_in_touch): it is never simply sent again under a new id."""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel

from domain.advertising import KEEP_IN_TOUCH, ONE_A_DAY, TRANSACTION_WINDOW, Consent


class Candidate(BaseModel):
    """A customer due a keep-in-touch message (staff may see the name; logs never do)."""

    customer_id: str
    name: str | None
    phone: str
    visits: int
    last_visit_at: datetime | None  # None: a complainant who never visited
    # The period a message follows: the last contact, a visit or a closed case.
    last_contact_at: datetime
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


# Not seen for `after` (the last contact: the later of the last visit and the last closed
# case), not written to about this contact yet, with a basis (consent, or a visit within the
# transaction window and no opt-out: a complaint is no transaction), not asking for no
# messages at all. Either those a message may reach now ($6 false) or those the hour or the
# once-a-day rule holds ($6 true), so the held ones never fill the batch ahead of the others:
# at night ($5) only night-time consents go; nobody twice within $7. The domain's
# may_advertise says the same of each candidate.
_DUE = """
SELECT c.id AS customer_id, c.name, c.phone, c.visits, c.last_visit_at,
       GREATEST(c.last_visit_at, c.last_case_closed_at) AS last_contact_at,
       c.marketing_consent_at AS marketing_at, c.night_consent_at AS night_at, c.opted_out_at,
       a.last_advertised_at
FROM customers c
LEFT JOIN LATERAL (SELECT max(sent_at) AS last_advertised_at FROM advertisements
                   WHERE customer_id = c.id) a ON true
WHERE c.forgotten_at IS NULL AND NOT c.no_messages
  AND GREATEST(c.last_visit_at, c.last_case_closed_at) <= $1::timestamptz - $2::interval
  AND (c.marketing_consent_at IS NOT NULL
       OR (c.opted_out_at IS NULL AND c.last_visit_at >= $1::timestamptz - $3::interval))
  AND NOT EXISTS (SELECT 1 FROM advertisements d
                  WHERE d.customer_id = c.id AND d.kind = $4
                    AND d.period = GREATEST(c.last_visit_at, c.last_case_closed_at))
  AND (($5 AND c.night_consent_at IS NULL)
       OR coalesce(a.last_advertised_at > $1::timestamptz - $7::interval, false)) = $6
ORDER BY GREATEST(c.last_visit_at, c.last_case_closed_at), c.id
LIMIT $8
"""


async def due(
    pool: asyncpg.Pool,
    now: datetime,
    after: timedelta,
    at_night: bool,
    limit: int = 500,
    held: bool = False,
) -> list[Candidate]:
    """Who a keep-in-touch message may reach now (`held`: who is due one but held by the
    hour or the once-a-day rule), the longest unseen first, at most `limit`."""
    rows = await pool.fetch(
        _DUE, now, after, TRANSACTION_WINDOW, KEEP_IN_TOUCH, at_night, held, ONE_A_DAY, limit
    )
    return [Candidate(**dict(r)) for r in rows]


async def claim(
    pool: asyncpg.Pool, candidate: Candidate, basis: str, now: datetime, lease: timedelta
) -> str | None:
    """The message's id, once per customer and period; None if another run took it. The
    claim is leased (the database's clock) for as long as one send may take."""
    ad_id = uuid.uuid4()
    taken = await pool.fetchval(
        "INSERT INTO advertisements (id, customer_id, kind, period, basis, created_at,"
        " claimed_until) VALUES ($1, $2, $3, $4, $5, $6, now() + $7::interval)"
        " ON CONFLICT DO NOTHING RETURNING id",
        ad_id,
        candidate.customer_id,
        KEEP_IN_TOUCH,
        candidate.last_contact_at,
        basis,
        now,
        lease,
    )
    return str(taken) if taken else None


async def sent(pool: asyncpg.Pool, ad_id: str, delivery: dict[str, Any], now: datetime) -> None:
    await pool.execute(
        "UPDATE advertisements SET sent_at = $2, delivery = $3, claimed_until = NULL,"
        " last_error = NULL WHERE id = $1",
        uuid.UUID(ad_id),
        now,
        json.dumps(delivery),
    )


async def failed(pool: asyncpg.Pool, ad_id: str, error: str) -> None:
    """A send that raised: the provider may still have taken the message (an answer lost
    to a timeout), so the claim and its id stay for the next run to look up."""
    await pool.execute(
        "UPDATE advertisements SET claimed_until = NULL, last_error = $2 WHERE id = $1",
        uuid.UUID(ad_id),
        error[:500],
    )


async def release(pool: asyncpg.Pool, ad_id: str) -> None:
    """A claim the provider has no message for: it goes, so the period is due again and
    its message is planned afresh (basis, hours, once a day) by this run or a later one."""
    await pool.execute(
        "DELETE FROM advertisements WHERE id = $1 AND sent_at IS NULL", uuid.UUID(ad_id)
    )


class Unsettled(BaseModel):
    """A claimed message with no recorded outcome: its send failed, or its sender died."""

    ad_id: str
    customer_id: str
    phone: str | None  # None: the customer was forgotten since
    attempts: int


# Unsettled and not leased to a run sending it now; taken with a fresh lease, so two runs
# never settle the same one.
_UNSETTLED = """
UPDATE advertisements a SET claimed_until = now() + $2::interval, attempts = attempts + 1
FROM (SELECT id FROM advertisements
      WHERE sent_at IS NULL AND kind = $1 AND (claimed_until IS NULL OR claimed_until < now())
      ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
WHERE a.id = due.id
RETURNING a.id, a.customer_id, a.attempts,
  (SELECT c.phone FROM customers c WHERE c.id = a.customer_id AND c.forgotten_at IS NULL)
    AS phone
"""


async def unsettled(pool: asyncpg.Pool, lease: timedelta, limit: int = 500) -> list[Unsettled]:
    rows = await pool.fetch(_UNSETTLED, KEEP_IN_TOUCH, lease, limit)
    return [
        Unsettled(
            ad_id=str(r["id"]),
            customer_id=r["customer_id"],
            phone=r["phone"],
            attempts=r["attempts"],
        )
        for r in rows
    ]


async def sent_to(pool: asyncpg.Pool, customer_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT id, kind, period, basis, sent_at FROM advertisements WHERE customer_id = $1"
        " ORDER BY created_at",
        customer_id,
    )
    return [dict(r) for r in rows]

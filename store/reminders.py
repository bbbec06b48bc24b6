"""Keep-in-touch reminders to staff in PostgreSQL (`keep_in_touch_reminders`): the regular
customers due a call in place of a message no message may carry, and the record of each
reminder (one per customer and period: the last visit it follows). No name or phone."""

import uuid
from datetime import datetime, timedelta

import asyncpg
from pydantic import BaseModel

from domain.advertising import TRANSACTION_WINDOW, Consent


class CallCandidate(BaseModel):
    """A regular customer not seen for a while (their reference, never name or phone)."""

    customer_id: str
    visits: int
    last_visit_at: datetime | None
    last_contact_at: datetime  # the period: the later of the last visit and closed case
    no_messages: bool
    marketing_at: datetime | None
    opted_out_at: datetime | None
    last_case_id: str | None  # where staff find the name and number

    @property
    def consent(self) -> Consent:
        return Consent(
            marketing_at=self.marketing_at,
            opted_out_at=self.opted_out_at,
            last_transaction_at=self.last_visit_at,
        )


# Regulars not seen for `after` (the last contact: a visit or a closed case), not opted
# out, not yet reminded about this contact (a reminder claimed and not delivered is due
# again, under its own id), whom no message may reach: they asked for none, or there is no
# basis (no consent, no visit within the transaction window). The domain's
# call_instead_of_advertising says the same of each; filtered here, so the customers a
# message does reach never fill the batch ahead of them.
_DUE = """
SELECT c.id AS customer_id, c.visits, c.last_visit_at,
       GREATEST(c.last_visit_at, c.last_case_closed_at) AS last_contact_at, c.no_messages,
       c.marketing_consent_at AS marketing_at, c.opted_out_at,
       (SELECT k.case_id FROM complaint_cases k WHERE k.customer_id = c.id
        ORDER BY k.opened_at DESC LIMIT 1) AS last_case_id
FROM customers c
WHERE c.forgotten_at IS NULL AND c.visits >= $3 AND c.opted_out_at IS NULL
  AND GREATEST(c.last_visit_at, c.last_case_closed_at) <= $1::timestamptz - $2::interval
  AND (c.no_messages OR (c.marketing_consent_at IS NULL
       AND (c.last_visit_at IS NULL OR c.last_visit_at < $1::timestamptz - $5::interval)))
  AND NOT EXISTS (SELECT 1 FROM keep_in_touch_reminders r WHERE r.customer_id = c.id
                  AND r.period = GREATEST(c.last_visit_at, c.last_case_closed_at)
                  AND r.sent_at IS NOT NULL)
ORDER BY GREATEST(c.last_visit_at, c.last_case_closed_at), c.id
LIMIT $4
"""


async def due(
    pool: asyncpg.Pool, now: datetime, after: timedelta, regular_from: int, limit: int = 500
) -> list[CallCandidate]:
    rows = await pool.fetch(_DUE, now, after, regular_from, limit, TRANSACTION_WINDOW)
    return [CallCandidate(**dict(r)) for r in rows]


async def claim(pool: asyncpg.Pool, candidate: CallCandidate) -> str | None:
    """The reminder's id, one per customer and period: a new one, or the one an earlier
    try did not deliver (sent again under its id, so the receiver can drop a repeat); None
    when it was delivered meanwhile."""
    taken = await pool.fetchval(
        "INSERT INTO keep_in_touch_reminders (id, customer_id, period) VALUES ($1, $2, $3)"
        " ON CONFLICT (shop_id, customer_id, period) DO UPDATE SET created_at = now()"
        " WHERE keep_in_touch_reminders.sent_at IS NULL RETURNING id",
        uuid.uuid4(),
        candidate.customer_id,
        candidate.last_contact_at,
    )
    return str(taken) if taken else None


async def sent(pool: asyncpg.Pool, reminder_id: str) -> None:
    await pool.execute(
        "UPDATE keep_in_touch_reminders SET sent_at = now(), last_error = NULL WHERE id = $1",
        uuid.UUID(reminder_id),
    )


async def failed(pool: asyncpg.Pool, reminder_id: str, error: str) -> None:
    await pool.execute(
        "UPDATE keep_in_touch_reminders SET last_error = $2 WHERE id = $1",
        uuid.UUID(reminder_id),
        error[:500],
    )


async def reminded(pool: asyncpg.Pool, customer_id: str) -> list[dict[str, object]]:
    rows = await pool.fetch(
        "SELECT id, period, created_at, sent_at, last_error FROM keep_in_touch_reminders"
        " WHERE customer_id = $1 ORDER BY created_at",
        customer_id,
    )
    return [dict(r) for r in rows]

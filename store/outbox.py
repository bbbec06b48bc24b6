"""The notification outbox: rows written with their events; claimed, sent outside any
transaction, then marked sent. Every delivery of a notice carries the notice's id, so a
receiver that saw it before (a timeout after it had answered) can drop the repeat."""

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import NAMESPACE_URL, uuid5

import asyncpg
import structlog

from domain.notifications import CUSTOMER, Language, call_instead, outdated
from store.delivery import Delivery, Rechecker, Sender, delivery_of

log = structlog.get_logger(__name__)


class Count(Protocol):
    """What the outbox reports of each delivery: a metric name, its description, the
    notice's kind, and for a customer message its result. The caller decides where it goes
    (the worker: its metrics endpoint); storage knows no meter."""

    def __call__(self, name: str, description: str, kind: str, result: str = "") -> None: ...


def _uncounted(name: str, description: str, kind: str, result: str = "") -> None:
    return None


_CLAIM = """
UPDATE notifications SET claimed_until = now() + $2::interval,
                         attempts = attempts + 1, last_attempt_at = now()
WHERE id = (SELECT id FROM notifications WHERE case_id = $1 AND sent_at IS NULL
              -- one held (quiet or closed hours) lets the case's later notices pass;
              -- $3: the case's own clock, which a time-skipping test moves ahead of now()
              AND (not_before IS NULL OR not_before <= GREATEST(now(), $3))
            ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
  AND (claimed_until IS NULL OR claimed_until < now())
RETURNING id, case_id, kind, recipient, message, data, created_at, not_before, attempts
"""
_SENT = """
UPDATE notifications SET sent_at = now(), claimed_until = NULL, delivery = $2 WHERE id = $1
"""
# A message the provider refused for good (a wrong number, a template it does not know):
# done, not delivered; trying again would only be refused again.
_REFUSED = """
UPDATE notifications SET sent_at = now(), claimed_until = NULL, delivery = $2,
       last_error = $3 WHERE id = $1
"""
_NO_MESSAGES = """
WITH done AS (
  UPDATE notifications SET sent_at = now(), claimed_until = NULL,
         last_error = 'not sent: the customer asked for no messages; staff were told to call'
  WHERE id = $1 RETURNING case_id, event_id
)
INSERT INTO notifications (id, case_id, event_id, kind, recipient, message, data, created_at)
SELECT $2, case_id, event_id, 'call_instead', 'staff', $3, $4, now() FROM done
ON CONFLICT (id) DO NOTHING
"""
_FAILED = "UPDATE notifications SET claimed_until = NULL, last_error = $2 WHERE id = $1"
_UNDELIVERABLE = """
UPDATE notifications SET sent_at = now(), claimed_until = NULL,
       last_error = 'not sent: no address (the customer was forgotten)' WHERE id = $1
"""
_OUTDATED = """
UPDATE notifications SET sent_at = now(), claimed_until = NULL,
       last_error = 'not sent: the case moved on while it was held' WHERE id = $1
"""
_CASE_NOW = "SELECT status, step FROM complaint_cases WHERE case_id = $1"
_ADDRESS = "SELECT phone, no_messages FROM customers WHERE id = $1 AND forgotten_at IS NULL"
_UNSENT = """
SELECT id, case_id, kind, recipient, created_at, attempts, last_attempt_at, last_error,
       claimed_until > now() AS sending, not_before
FROM notifications WHERE sent_at IS NULL ORDER BY created_at, id LIMIT $1
"""
_DELIVERED = """
SELECT id, case_id, kind, recipient, created_at, sent_at, attempts, last_error, delivery
FROM notifications WHERE sent_at IS NOT NULL AND recipient = 'customer'
ORDER BY sent_at DESC, id LIMIT $1
"""
_STRANDED = """
SELECT DISTINCT case_id FROM notifications
WHERE sent_at IS NULL AND created_at < now() - $1::interval
  AND (claimed_until IS NULL OR claimed_until < now())
  AND (not_before IS NULL OR not_before <= now())
"""


# Messages the provider had accepted without a final result when they were sent; looked up
# again by the sweep for as long as a result may still come (`within`).
_ACCEPTED = """
SELECT id, case_id, kind, delivery FROM notifications
WHERE recipient = 'customer' AND sent_at > now() - $1::interval
  AND delivery->>'result' = 'accepted'
ORDER BY sent_at, id LIMIT $2
"""
_RESULT = """
UPDATE notifications SET delivery = $2, last_error = $3
WHERE id = $1 AND delivery->>'result' = 'accepted'
"""
_CASE_MESSAGES = """
SELECT id, kind, created_at, not_before, sent_at, attempts, last_error, delivery,
       claimed_until > now() AS sending
FROM notifications WHERE case_id = $1 AND recipient = 'customer'
ORDER BY created_at, id
"""


class Outbox:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sender: Sender,
        lease: timedelta | None = None,
        count: Count = _uncounted,
        language: Language | Callable[[], Awaitable[Language]] = "ko",
    ) -> None:
        self.pool = pool
        self.sender = sender
        self.count = count
        # Of the "call instead" notice: fixed, or the rulebook's as it is now.
        self.language = language
        # Longer than one send may take: a claim that expires frees the notice for a retry.
        self.lease = lease or timedelta(seconds=getattr(sender, "timeout", 10.0) + 30)

    async def send_pending(self, case_id: str, as_of: datetime | None = None) -> int:
        """Send the case's unsent notices in order; returns how many went out.

        Each notice is claimed in its own short statement and sent with no transaction
        open, so a slow receiver holds no row lock and no connection. A failure is noted on
        the row and raised, so the caller retries it; later notices of the case wait
        behind it, keeping their order.
        """
        sent = 0
        while True:
            row = await self.pool.fetchrow(_CLAIM, case_id, self.lease, as_of)
            if row is None:
                return sent  # nothing unsent, or the head notice is being sent elsewhere
            notice = dict(row) | {"id": str(row["id"]), "data": json.loads(row["data"])}
            address = await self._address(notice)
            if address is None:
                await self.pool.execute(_UNDELIVERABLE, row["id"])
                continue
            if not address:
                await self._call_instead(notice)
                continue
            if await self._outdated(notice):
                await self.pool.execute(_OUTDATED, row["id"])
                continue
            try:
                delivery = await self.sender.send(notice)
            except Exception as err:
                await self.pool.execute(_FAILED, row["id"], f"{type(err).__name__}: {err}"[:500])
                self.count(
                    "complaints_notices_failed", "Notice deliveries that failed", notice["kind"]
                )
                raise
            await self._record(notice, delivery)
            sent += 1

    async def _record(self, notice: dict[str, Any], delivery: Delivery | None) -> None:
        """Mark the notice done, with what became of it when the sender says."""
        if delivery is None:
            await self.pool.execute(_SENT, notice["id"], None)
            self.count("complaints_notices_sent", "Notices delivered", notice["kind"])
            return
        self.count(
            "complaints_messages",
            "Customer messages by result (sent, fallback_sms, accepted, failed)",
            notice["kind"],
            delivery.result,
        )
        as_json = json.dumps(delivery.as_json())
        if delivery.result == "failed":
            why = f"not delivered: {delivery.status_code} {delivery.detail}".strip()
            await self.pool.execute(_REFUSED, notice["id"], as_json, why[:500])
            log.warning(
                "customer message refused by the provider",
                case_id=notice["case_id"],
                notice_id=notice["id"],
                kind=notice["kind"],
                status_code=delivery.status_code,
            )
            return
        await self.pool.execute(_SENT, notice["id"], as_json)
        self.count("complaints_notices_sent", "Notices delivered", notice["kind"])

    async def _call_instead(self, notice: dict[str, Any]) -> None:
        """The customer asked for no messages: none goes out, and staff get a notice to
        call instead (written beside it, from the same event; sent after it)."""
        staff_id = uuid5(NAMESPACE_URL, f"{notice['id']}/call_instead")
        language = self.language if isinstance(self.language, str) else await self.language()
        message = call_instead(notice["kind"], notice["case_id"], language)
        data = json.dumps({"case_id": notice["case_id"], "about": notice["kind"]})
        await self.pool.execute(_NO_MESSAGES, notice["id"], staff_id, message, data)
        self.count(
            "complaints_messages", "Customer messages by result", notice["kind"], "no_messages"
        )

    async def _outdated(self, notice: dict[str, Any]) -> bool:
        """A staff reminder held for opening hours that the case has moved past since."""
        if notice["not_before"] is None or notice["recipient"] == CUSTOMER:
            return False
        case = await self.pool.fetchrow(_CASE_NOW, notice["case_id"])
        return case is not None and outdated(
            notice["kind"], notice["data"], case["status"], case["step"]
        )

    async def _address(self, notice: dict[str, Any]) -> bool | None:
        """Fill in where a customer notice goes, from `customers` (never stored with the
        notice); None when the customer has been forgotten since, False when they asked
        for no messages."""
        customer_id = notice["data"].get("customer_id")
        if notice["recipient"] != "customer" or not customer_id:
            return True
        customer = await self.pool.fetchrow(_ADDRESS, customer_id)
        if customer is None:
            return None
        notice["data"] = notice["data"] | {"to": customer["phone"]}
        return not customer["no_messages"]

    async def sweep(self, older_than: timedelta = timedelta(minutes=1)) -> dict[str, int]:
        """Send what a case's own sender gave up on (retries exhausted, a worker gone):
        every case with an unsent, unclaimed notice older than `older_than`."""
        cases = [r["case_id"] for r in await self.pool.fetch(_STRANDED, older_than)]
        sent = failed = 0
        for case_id in cases:
            try:
                sent += await self.send_pending(case_id)
            except Exception as err:  # one receiver's trouble must not stop the others
                failed += 1
                log.warning("notice not sent by the sweep", case_id=case_id, error=str(err))
        return {"cases": len(cases), "sent": sent, "failed": failed, **await self.recheck()}

    async def recheck(
        self, within: timedelta = timedelta(days=3), limit: int = 200
    ) -> dict[str, int]:
        """Look up again the customer messages the provider had only accepted, and record
        each final result (sent, fell back to SMS, failed) as the send would have."""
        checker = self.sender
        if not isinstance(checker, Rechecker):
            return {"rechecked": 0, "settled": 0}
        rows = await self.pool.fetch(_ACCEPTED, within, limit)
        settled = 0
        for row in rows:
            accepted = delivery_of(json.loads(row["delivery"]))
            try:
                now = await checker.recheck(accepted)
            except Exception as err:  # the provider away: the next sweep asks again
                log.warning("delivery not looked up", case_id=row["case_id"], error=str(err))
                break
            if now is None or now.result == "accepted":
                continue
            why = f"not delivered: {now.status_code} {now.detail}".strip()
            await self.pool.execute(
                _RESULT,
                row["id"],
                json.dumps(now.as_json()),
                why[:500] if now.result == "failed" else None,
            )
            self.count(
                "complaints_messages",
                "Customer messages by result (sent, fallback_sms, accepted, failed)",
                row["kind"],
                now.result,
            )
            settled += 1
        return {"rechecked": len(rows), "settled": settled}

    async def unsent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The notices not yet delivered, oldest first (no message text: it may be the
        customer's)."""
        rows = await self.pool.fetch(_UNSENT, limit)
        return [dict(r) | {"id": str(r["id"]), "sending": bool(r["sending"])} for r in rows]

    async def delivered(self, limit: int = 100) -> list[dict[str, Any]]:
        """Customer messages done, newest first, with what became of each (no number, no
        text)."""
        rows = await self.pool.fetch(_DELIVERED, limit)
        return [
            dict(r)
            | {"id": str(r["id"]), "delivery": json.loads(r["delivery"]) if r["delivery"] else None}
            for r in rows
        ]


async def held_notices(pool: asyncpg.Pool) -> tuple[int, datetime | None]:
    """How many notices are held (quiet or closed hours), and when the first may go: for
    the inbox's strip. Reads the pending notices' partial index alone."""
    row = await pool.fetchrow(
        "SELECT count(*) AS n, min(not_before) AS first FROM notifications "
        "WHERE sent_at IS NULL AND not_before > now()"
    )
    assert row is not None
    return int(row["n"]), row["first"]


async def case_messages(pool: asyncpg.Pool, case_id: str) -> list[dict[str, Any]]:
    """The customer messages of one case, oldest first, with what became of each (no
    number, no text): for the staff case page."""
    rows = await pool.fetch(_CASE_MESSAGES, case_id)
    return [
        dict(r)
        | {
            "id": str(r["id"]),
            "sending": bool(r["sending"]),
            "delivery": json.loads(r["delivery"]) if r["delivery"] else None,
        }
        for r in rows
    ]

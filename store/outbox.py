"""The notification outbox: rows written with their events; claimed, sent outside any
transaction, then marked sent. Every delivery of a notice carries the notice's id, so a
receiver that saw it before (a timeout after it had answered) can drop the repeat."""

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog

from domain.notifications import CUSTOMER, outdated
from notify.senders import Sender

log = structlog.get_logger(__name__)

# What the outbox reports of each delivery: (metric name, description, notice kind). The
# caller decides where it goes (the worker: its metrics endpoint); storage knows no meter.
Count = Callable[[str, str, str], None]


def _uncounted(name: str, description: str, kind: str) -> None:
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
RETURNING id, case_id, kind, recipient, message, data, created_at, not_before
"""
_SENT = "UPDATE notifications SET sent_at = now(), claimed_until = NULL WHERE id = $1"
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
_ADDRESS = "SELECT phone FROM customers WHERE id = $1 AND forgotten_at IS NULL"
_UNSENT = """
SELECT id, case_id, kind, recipient, created_at, attempts, last_attempt_at, last_error,
       claimed_until > now() AS sending, not_before
FROM notifications WHERE sent_at IS NULL ORDER BY created_at, id LIMIT $1
"""
_STRANDED = """
SELECT DISTINCT case_id FROM notifications
WHERE sent_at IS NULL AND created_at < now() - $1::interval
  AND (claimed_until IS NULL OR claimed_until < now())
  AND (not_before IS NULL OR not_before <= now())
"""


class Outbox:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sender: Sender,
        lease: timedelta | None = None,
        count: Count = _uncounted,
    ) -> None:
        self.pool = pool
        self.sender = sender
        self.count = count
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
            if not await self._address(notice):
                await self.pool.execute(_UNDELIVERABLE, row["id"])
                continue
            if await self._outdated(notice):
                await self.pool.execute(_OUTDATED, row["id"])
                continue
            try:
                await self.sender.send(notice)
            except Exception as err:
                await self.pool.execute(_FAILED, row["id"], f"{type(err).__name__}: {err}"[:500])
                self.count(
                    "complaints_notices_failed", "Notice deliveries that failed", notice["kind"]
                )
                raise
            await self.pool.execute(_SENT, row["id"])
            self.count("complaints_notices_sent", "Notices delivered", notice["kind"])
            sent += 1

    async def _outdated(self, notice: dict[str, Any]) -> bool:
        """A staff reminder held for opening hours that the case has moved past since."""
        if notice["not_before"] is None or notice["recipient"] == CUSTOMER:
            return False
        case = await self.pool.fetchrow(_CASE_NOW, notice["case_id"])
        return case is not None and outdated(
            notice["kind"], notice["data"], case["status"], case["step"]
        )

    async def _address(self, notice: dict[str, Any]) -> bool:
        """Fill in where a customer notice goes, from `customers` (never stored with the
        notice); False when the customer has been forgotten since."""
        customer_id = notice["data"].get("customer_id")
        if notice["recipient"] != "customer" or not customer_id:
            return True
        phone = await self.pool.fetchval(_ADDRESS, customer_id)
        if phone is None:
            return False
        notice["data"] = notice["data"] | {"to": phone}
        return True

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
        return {"cases": len(cases), "sent": sent, "failed": failed}

    async def unsent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The notices not yet delivered, oldest first (no message text: it may be the
        customer's)."""
        rows = await self.pool.fetch(_UNSENT, limit)
        return [dict(r) | {"id": str(r["id"]), "sending": bool(r["sending"])} for r in rows]

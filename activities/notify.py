"""The notification outbox: rows written with their events, sent here, marked once sent."""

import asyncio
import json
import urllib.request
from typing import Any, Protocol

import asyncpg
import structlog
from temporalio import activity

log = structlog.get_logger(__name__)


class Sender(Protocol):
    async def send(self, notice: dict[str, Any]) -> None: ...


class LogSender:
    """The default: a structured log line per notice. A staff notice is logged whole; one
    to the customer only by kind, since its text and address are the customer's."""

    async def send(self, notice: dict[str, Any]) -> None:
        to_staff = notice["recipient"] != "customer"
        log.info(
            "notification",
            case_id=notice["case_id"],
            kind=notice["kind"],
            recipient=notice["recipient"],
            **({"message": notice["message"]} if to_staff else {}),
        )


class WebhookSender:
    """POSTs each notice as JSON; any non-2xx answer is a failure to retry."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    async def send(self, notice: dict[str, Any]) -> None:
        body = json.dumps(notice, default=str).encode()
        await asyncio.to_thread(self._post, body)

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            if not 200 <= response.status < 300:
                raise RuntimeError(f"webhook answered {response.status}")


class Outbox:
    def __init__(self, pool: asyncpg.Pool, sender: Sender) -> None:
        self.pool = pool
        self.sender = sender

    async def send_pending(self, case_id: str) -> int:
        """Send the case's unsent notices in order; returns how many went out.

        Each row is locked while it is sent, so two workers never send it both; a failure
        is recorded on the row and raised, so the activity retries it later.
        """
        sent = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    "SELECT id, case_id, kind, recipient, message, data, created_at "
                    "FROM notifications WHERE case_id = $1 AND sent_at IS NULL "
                    "ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                    case_id,
                )
                if row is None:
                    return sent
                notice = dict(row) | {"id": str(row["id"]), "data": json.loads(row["data"])}
                try:
                    await self.sender.send(notice)
                except Exception as err:
                    await conn.execute(
                        "UPDATE notifications SET attempts = attempts + 1, last_error = $2 "
                        "WHERE id = $1",
                        row["id"],
                        str(err)[:500],
                    )
                    failed = err
                else:
                    await conn.execute(
                        "UPDATE notifications SET attempts = attempts + 1, sent_at = now() "
                        "WHERE id = $1",
                        row["id"],
                    )
                    sent += 1
                    continue
            raise failed  # after the failure's transaction committed


class NotifyActivities:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    @activity.defn(name="send_notifications")
    async def send_notifications(self, case_id: str) -> int:
        return await self.outbox.send_pending(case_id)

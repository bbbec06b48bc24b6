"""Notices leave the outbox here: the senders (a log line, or a signed webhook POST) and the
activities that drive the outbox (its SQL lives in store.outbox)."""

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from standardwebhooks.webhooks import Webhook
from temporalio import activity

from store.outbox import Outbox

log = structlog.get_logger(__name__)


class LogSender:
    """The default: a structured log line per notice. A staff notice is logged whole; one
    to the customer only by kind, since its text and address are the customer's."""

    async def send(self, notice: dict[str, Any]) -> None:
        to_staff = notice["recipient"] != "customer"
        log.info(
            "notification",
            case_id=notice["case_id"],
            notice_id=notice["id"],
            kind=notice["kind"],
            recipient=notice["recipient"],
            **({"message": notice["message"]} if to_staff else {}),
        )


class WebhookSender:
    """POSTs each notice as JSON, signed the Standard Webhooks way (`webhook-id` is the
    notice id and doubles as the idempotency key); any non-2xx answer is a failure."""

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url = url
        self.signer = Webhook(secret)
        self.timeout = timeout

    def headers(self, notice_id: str, body: str, now: datetime) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "webhook-id": notice_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self.signer.sign(notice_id, now, body),
            "idempotency-key": notice_id,
        }

    async def send(self, notice: dict[str, Any]) -> None:
        body = json.dumps(notice, default=str, ensure_ascii=False)
        headers = self.headers(notice["id"], body, datetime.now(UTC))
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(self.url, content=body.encode(), headers=headers)
        except httpx.TimeoutException:
            raise RuntimeError(f"webhook did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as err:
            raise RuntimeError(f"webhook unreachable: {type(err).__name__}: {err}") from None
        if not response.is_success:
            raise RuntimeError(f"webhook answered {response.status_code}")


class NotifyActivities:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    @activity.defn(name="send_notifications")
    async def send_notifications(self, case_id: str, as_of: datetime | None = None) -> int:
        """The case's due notices; `as_of` is the workflow's time when it releases a held
        one (never earlier than the database's clock)."""
        return await self.outbox.send_pending(case_id, as_of)

    @activity.defn(name="sweep_notifications")
    async def sweep_notifications(self) -> dict[str, int]:
        return await self.outbox.sweep()

"""Notices as signed webhook POSTs (COMPLAINTS_WEBHOOK_URL, COMPLAINTS_WEBHOOK_SECRET)."""

import json
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from store.delivery import NoticeRow


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

    async def send(self, notice: NoticeRow) -> None:
        # A resend carries the very same body: the attempt count is the outbox's own.
        sent = {k: v for k, v in notice.items() if k != "attempts"}
        body = json.dumps(sent, default=str, ensure_ascii=False)
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

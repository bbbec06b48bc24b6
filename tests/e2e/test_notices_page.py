"""The notices not delivered yet, on a phone: what each is about and for whom, in Korean,
and why it has not gone (held until a time, failed and retried), each linked to its case.
No message text is shown (it may be the customer's)."""

import uuid
from datetime import UTC, datetime, timedelta

from tests.e2e.test_pages import (  # noqa: F401  (site: the pages' module fixture, reused)
    PHONE,
    Site,
    _open,
    accessible,
    fits_a_phone,
    shot,
    site,
)
from tests.helpers import STAFF

SECRET = "고객이 남긴 비밀 문장"


async def outbox_row(
    site: Site,  # noqa: F811
    case_id: str,
    kind: str,
    recipient: str,
    **more: object,
) -> None:
    """A notice as the outbox keeps it (the worker writes these with the case's events)."""
    await site.pool.execute(
        "INSERT INTO notifications (id, case_id, event_id, kind, recipient, message, data,"
        " created_at, not_before, attempts, last_error)"
        " SELECT $1, $2, event_id, $3, $4, $5, '{}', now(), $6, $7, $8"
        " FROM complaint_events WHERE case_id = $2 AND seq = 1",
        uuid.uuid4(),
        case_id,
        kind,
        recipient,
        SECRET,
        more.get("not_before"),
        more.get("attempts", 0),
        more.get("last_error"),
    )


async def test_staff_see_what_has_not_gone_and_why(site: Site) -> None:  # noqa: F811
    page = await site.signed_in(STAFF, PHONE)
    case_id = await _open(site, page)
    tomorrow = datetime.now(UTC) + timedelta(hours=20)
    await outbox_row(site, case_id, "response_due_soon", "staff", not_before=tomorrow)
    await outbox_row(
        site, case_id, "escalated", "owner", attempts=3, last_error="webhook answered 503"
    )
    await page.get_by_role("link", name="알림", exact=True).click()
    await page.wait_for_url(f"{site.url}/staff/notifications")
    text = await page.locator("main").inner_text()
    assert "기한 임박 알림" in text and "직원에게" in text and "대기 중" in text, text
    assert "기한 지남: 보고" in text and "대표에게" in text, text
    assert "보내지 못함: webhook answered 503" in text and "3번 시도" in text, text
    assert SECRET not in await page.content(), "no message text on the page"
    await page.locator(f"a[href='/staff/cases/{case_id}']").first.click()
    await page.wait_for_url(f"{site.url}/staff/cases/{case_id}")
    await page.goto(f"{site.url}/staff/notifications")
    await shot(page, "phone-notices")
    await accessible(page)
    await fits_a_phone(page)
    # Delivered, they leave the page.
    await site.pool.execute("UPDATE notifications SET sent_at = now() WHERE message = $1", SECRET)
    await page.reload()
    text = await page.locator("main").inner_text()
    assert "기한 지남: 보고" not in text and "기한 임박 알림" not in text, text
    await page.context.close()

"""Marketing consent on a case's customer card, on a phone: the card shows yes or no, the
night-time consent and the last change (when, how, by whom); staff record what the customer
said, by them, via the staff page; a form without a choice is refused in Korean beside the
field and changes nothing. Nothing personal goes into a URL."""

from typing import Any

from tests.e2e.test_pages import (  # noqa: F401  (site: the pages' module fixture, reused)
    PHONE,
    Site,
    _open,
    accessible,
    assert_no_personal_data,
    fits_a_phone,
    shot,
    site,
    submit,
)
from tests.helpers import STAFF


async def consent_rows(site: Site, case_id: str) -> list[dict[str, Any]]:  # noqa: F811
    rows = await site.pool.fetch(
        "SELECT k.scope, k.given, k.via, k.by_whom FROM customer_consents k"
        " JOIN customers c ON c.id = k.customer_id"
        " JOIN complaint_cases x ON x.customer_id = c.id WHERE x.case_id = $1 ORDER BY k.id",
        case_id,
    )
    return [dict(r) for r in rows]


async def test_staff_record_consent_on_the_customer_card(site: Site) -> None:  # noqa: F811
    page = await site.signed_in(STAFF, PHONE)
    case_id = await _open(site, page)
    card = page.locator("#consent")
    text = await card.inner_text()
    assert "광고 수신 동의" in text and "동의 안 함" in text
    assert "기록된 동의나 철회가 없습니다." in text

    await card.get_by_text("고객의 의사 기록하기").click()
    await card.get_by_label("광고 메시지 받기에 동의, 밤 9시~아침 8시도 괜찮음").check()
    await submit(page, "#consent form")
    text = await page.locator("#consent").inner_text()
    assert "동의 (" in text and "동의 안 함" not in text  # both consents, with since when
    assert "마지막 변경: 광고 수신 동의" in text and f"직원 페이지 · {STAFF}" in text
    assert await consent_rows(site, case_id) == [
        {"scope": "marketing", "given": True, "via": "staff_page", "by_whom": STAFF},
        {"scope": "night", "given": True, "via": "staff_page", "by_whom": STAFF},
    ]
    await accessible(page)
    await fits_a_phone(page)
    await page.locator("#consent").get_by_text("고객의 의사 기록하기").click()
    await page.locator("#consent").scroll_into_view_if_needed()
    await shot(page, "phone-consent")

    # No choice (the browser's `required` bypassed): one Korean line, nothing recorded
    csrf = await page.locator("#consent input[name=csrf]").get_attribute("value")
    refused = await page.request.post(
        f"{site.url}/staff/cases/{case_id}/consent", form={"csrf": str(csrf)}, max_redirects=0
    )
    assert refused.status == 422
    assert "고객이 말한 내용을 하나 고르세요." in await refused.text()
    assert len(await consent_rows(site, case_id)) == 2

    # The customer withdraws: recorded as an opt-out, by staff, on the page (form still open)
    await page.locator("#consent").get_by_label("광고 메시지 받지 않음 (동의 철회)").check()
    await submit(page, "#consent form")
    text = await page.locator("#consent").inner_text()
    assert "마지막 변경: 광고 수신 철회" in text and "수신거부" in text
    assert (await consent_rows(site, case_id))[-2:] == [
        {"scope": "marketing", "given": False, "via": "staff_page", "by_whom": STAFF},
        {"scope": "night", "given": False, "via": "staff_page", "by_whom": STAFF},
    ]
    name = await page.locator(".who strong").inner_text()
    phone = await page.locator(".who a.call").inner_text()
    assert_no_personal_data(site.visited, name, phone)
    await page.context.close()

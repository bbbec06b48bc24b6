"""Issue 25's "Done when", walked as people do it: staff open a KakaoTalk case and walk it to
an offer on the staff pages (Chromium), the customer reads each message on the stand-in
provider's own page (its HTML, as `make run` shows it), opens the link found there on a
390x844 phone, chooses a remedy and, after the prevention, gives the score that closes the
case. The real parts: the app under uvicorn, a worker, the dev server, PostgreSQL and the
stand-in; the follow-up comes two seconds after the prevention and no quiet hours hold it
(tests/conftest.py), as COMPLAINTS_FOLLOW_UP_AFTER=2m COMPLAINTS_QUIET_HOURS= would."""

from typing import Any

import pytest

from app import sessions
from tests.e2e.test_customer_pages import (  # noqa: F401  (provider, shop: the module's fixtures)
    Shop,
    by_of,
    digits,
    plain_words,
    provider,
    shop,
)
from tests.e2e.test_pages import (
    accessible,
    assert_no_personal_data,
    customer,
    fits_a_phone,
    shot,
    submit,
)
from tests.helpers import STAFF, event_types, eventually

pytestmark = pytest.mark.db


async def link_on_the_standin_page(at: Shop, page: Any, number: str, template: str) -> str:
    """The customer link in the row of the stand-in's page for `number` and `template`,
    waiting (reloading) until that one row is there."""

    async def arrived() -> str:
        await page.goto(f"{at.provider}/")
        rows = page.locator("tr").filter(has_text=number).filter(has_text=f"STANDIN-{template}")
        assert await rows.count() == 1, f"{template} for the number: {await rows.count()} rows"
        assert "sent" in await rows.inner_text(), "delivered as a KakaoTalk notification"
        link = rows.locator("a[href*='/c/']")
        assert await link.count() == 1
        href = await link.get_attribute("href")
        assert href and href.startswith(f"{at.url}/c/"), href
        return href

    return await eventually(arrived, timeout=30)


async def test_a_kakaotalk_customer_walks_from_the_receipt_to_the_score(
    shop: Shop,  # noqa: F811
) -> None:
    shop.visited.clear()
    name, phone = customer()
    number = digits(phone)

    # Staff open the case on the staff pages, on channel kakaotalk.
    staff = await shop.phone()
    await staff.goto(await sessions.sign_in_link(shop.ctx, STAFF))
    await staff.get_by_role("button", name="로그인").click()
    await staff.wait_for_url(f"{shop.url}/staff/")
    await staff.get_by_role("link", name="새 민원").click()
    await staff.get_by_label("고객 이름").fill(name)
    await staff.get_by_label("전화번호").fill(phone)
    await staff.get_by_label("접수 경로").select_option("kakaotalk")
    await staff.get_by_label("보상 요구").check()
    await staff.get_by_label("무슨 일이 있었나").fill("에어컨 수리 후에도 물이 샙니다")
    await submit(staff, "form.stack")
    case_id = (await staff.locator(".big-id").inner_text()).strip()
    row = await shop.pool.fetchrow(
        "SELECT channel FROM complaint_cases WHERE case_id = $1", case_id
    )
    assert row["channel"] == "kakaotalk"

    # The receipt shows on the stand-in's page (not only in its JSON), with the status link.
    inbox = await (await shop.browser.new_context()).new_page()  # the provider's console
    status_link = await link_on_the_standin_page(shop, inbox, number, "case_received")
    assert (
        case_id
        in await inbox.locator("tr")
        .filter(has_text="STANDIN-case_received")
        .filter(has_text=number)
        .inner_text()
    ), "the receipt names the case"

    # Staff walk to the offer on the staff pages.
    await staff.get_by_label("무엇에 대해 사과했나").fill("물이 다시 새서 죄송합니다")
    await submit(staff, "#now form")
    await staff.get_by_label("고객이 한 말 (그대로)").fill("바닥이 두 번이나 젖었어요")
    await submit(staff, "#now form")
    await staff.get_by_label("원인", exact=True).fill("배수 호스가 꺾여 있었습니다")
    await staff.get_by_label("우리 잘못").check()
    await submit(staff, "#now form")
    await staff.get_by_label("무료 재작업").check()
    await staff.locator("#terms_free_redo").fill("내일 오전 10시에 다시 설치")
    await staff.get_by_label("부분 환불").check()
    await staff.get_by_label("제안 내용").fill("다시 설치하거나 절반 환불")
    await submit(staff, "#now form")
    assert (await event_types(shop.pool, case_id))[-1] == "resolution_offered"

    # The customer opens the offer's link from the stand-in's page on a phone and chooses.
    offer_link = await link_on_the_standin_page(shop, inbox, number, "offer_to_choose")
    assert offer_link != status_link
    page = await shop.phone()
    await page.goto(offer_link)
    assert page.viewport_size == {"width": 390, "height": 844}
    assert await page.get_by_role("heading", name=f"접수번호 {case_id}").is_visible()
    assert "내일 오전 10시에 다시 설치" in await page.locator("#choose").inner_text()
    await plain_words(page)
    await accessible(page)
    await fits_a_phone(page)
    await page.get_by_label("무료 재작업").check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="선택 보내기").click()
    assert "고르신 방법: 무료 재작업" in await page.locator("main").inner_text()
    assert await by_of(shop.pool, case_id, "resolution_accepted") == ["customer"]

    # The staff case page shows the customer's choice, made by the customer.
    await staff.goto(f"{shop.url}/staff/cases/{case_id}")
    chosen = staff.locator(".timeline li").filter(has_text="고객이 선택함")
    assert await chosen.count() == 1
    said = await chosen.inner_text()
    assert "고객" in said and "무료 재작업: 내일 오전 10시에 다시 설치" in said, said
    assert "customer" not in said, "the actor in the page's language"
    await fits_a_phone(staff)
    await shot(staff, "day-one-staff-sees-the-choice")

    # Staff show the prevention; the rating link arrives; the customer's score closes it.
    await staff.get_by_label("재발 방지 조치").fill("설치 후 배수 시험을 합니다")
    await submit(staff, "#now form")
    rating_link = await link_on_the_standin_page(shop, inbox, number, "rating_requested")
    await page.goto(rating_link)
    await fits_a_phone(page)
    await page.get_by_label("5점").check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="점수 보내기").click()
    assert "남겨 주신 점수: 5점" in await page.locator("main").inner_text()
    await shot(page, "day-one-customer-rated")
    row = await shop.pool.fetchrow(
        "SELECT status, rating FROM complaint_cases WHERE case_id = $1", case_id
    )
    assert (row["status"], row["rating"]) == ("closed", 5)
    assert await by_of(shop.pool, case_id, "case_closed") == ["customer"]
    await staff.goto(f"{shop.url}/staff/cases/{case_id}")
    assert "이 민원은 끝났습니다" in await staff.locator("#now").inner_text()

    assert_no_personal_data(shop.visited, name, phone)
    for context in (staff.context, page.context, inbox.context):
        await context.close()

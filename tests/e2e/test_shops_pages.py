"""Each shop's staff on the pages in Chromium, on a phone: what an operator tries once two
shops are on one deployment (the rest of the cross-shop checks: test_shops.py)."""

from typing import Any

import pytest

from app import sessions
from infra.shop_ids import FIRST_SHOP
from store import scope
from tests.e2e.test_pages import ARGS, CHROMIUM, PHONE, fits_a_phone, submit
from tests.e2e.test_shops import Shops, a_phone, shops  # noqa: F401  (its fixture)
from tests.helpers import STAFF

pytestmark = pytest.mark.db


async def test_each_shops_staff_walk_their_case_on_a_phone_and_see_only_their_shop(
    shops: Shops,  # noqa: F811
) -> None:
    """What an operator tries: a member of each shop opens and walks a case on the pages;
    neither inbox shows the other's, and the other's case id typed in answers "no case"."""
    from playwright.async_api import async_playwright

    async def walk(browser: Any, name: str, shop: str) -> tuple[Any, str]:
        with scope.shop(shop):
            link = await sessions.sign_in_link(shops.ctx, name)
        page = await (await browser.new_context(viewport=PHONE)).new_page()
        await page.goto(link)
        await page.locator("form button[type=submit]").click()
        await page.wait_for_url(f"{shops.url}/staff/")
        await page.goto(f"{shops.url}/staff/cases/new")
        await page.locator("input[name=name]").fill("Yoon Sera")
        await page.locator("input[name=phone]").fill(a_phone())
        await page.locator("input[name=motive][value=anger]").check()
        await page.locator("textarea[name=what]").fill("The repair took three visits")
        await submit(page, "form.stack")
        case_id = (await page.locator(".big-id").inner_text()).strip()
        await page.locator("#now textarea[name=what]").fill("Sorry it took three visits")
        await submit(page, "#now form")
        await page.locator("#now textarea[name=customer_words]").fill("I lost three mornings")
        await submit(page, "#now form")
        assert "Sorry it took three visits" in await page.locator(".timeline").inner_text()
        return page, case_id

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            a_page, a_case = await walk(browser, STAFF, FIRST_SHOP)
            b_page, b_case = await walk(browser, STAFF, shops.b)  # the same name in B
            for page, mine, theirs in ((a_page, a_case, b_case), (b_page, b_case, a_case)):
                for case_id, shown in ((mine, True), (theirs, False)):  # typed in the filter
                    await page.goto(f"{shops.url}/staff/?case_id={case_id}")
                    inbox = await page.locator("main").inner_text()
                    assert (case_id in inbox) == shown, (case_id, inbox)
                answer = await page.goto(f"{shops.url}/staff/cases/{theirs}")
                assert answer is not None and answer.status == 404
                await fits_a_phone(page)
        finally:
            await browser.close()
    with scope.every_shop():
        shops_of = dict(
            await shops.pool.fetch(
                "SELECT case_id, shop_id FROM complaint_cases WHERE case_id = ANY($1)",
                [a_case, b_case],
            )
        )
    assert shops_of == {a_case: FIRST_SHOP, b_case: shops.b}

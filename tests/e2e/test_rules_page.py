"""The rulebook page on a phone: the owner sets a break, a contradiction is refused in one
Korean line with nothing changed, staff only read; it fits 390 px and passes axe."""

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.e2e.test_pages import PHONE, Site, accessible, fits_a_phone, shot, site, submit
from tests.helpers import OWNER, STAFF

pytestmark = pytest.mark.db
__all__ = ["site"]  # the fixture, used by name


@pytest.fixture
async def clean_rulebook(pool: asyncpg.Pool) -> AsyncIterator[None]:
    await pool.execute("DELETE FROM rulebook")
    yield
    await pool.execute("DELETE FROM rulebook")


async def test_the_owner_sets_a_break_on_a_phone_and_a_contradiction_is_refused(
    site: Site, pool: asyncpg.Pool, clean_rulebook: None
) -> None:
    page = await site.signed_in(OWNER, PHONE)
    await page.goto(f"{site.url}/staff/rules")
    await accessible(page)
    await fits_a_phone(page)
    hours = "form[action='/staff/rules/hours']"
    await page.locator(hours).locator("input[name=days]").fill("mon")
    await page.locator(hours).locator("input[name=periods]").fill("11:00-15:00,14:00-22:00")
    await page.locator(hours).locator("button[type=submit]").click()
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert (await alert.inner_text()).startswith("바꾸지 않았습니다: 시간대가 겹치거나")
    assert await pool.fetchval("SELECT count(*) FROM rulebook") == 0
    await page.goto(f"{site.url}/staff/rules")
    await page.locator(hours).locator("input[name=days]").fill("mon-sun")
    await page.locator(hours).locator("input[name=periods]").fill("11:00-15:00,17:00-22:00")
    await submit(page, hours)
    assert await page.get_by_role("status").count() == 1
    text = await page.locator("main").inner_text()
    assert "11:00-15:00, 17:00-22:00" in text  # the next days, with the break
    assert "opening_hours:" in text  # the change, listed
    await shot(page, "phone-rules")
    await accessible(page)
    await fits_a_phone(page)
    await page.context.close()


async def test_staff_read_the_rulebook_without_forms(site: Site, clean_rulebook: None) -> None:
    page = await site.signed_in(STAFF, PHONE)
    await page.goto(f"{site.url}/staff/rules")
    assert await page.locator("form[action^='/staff/rules/']").count() == 0
    assert "response_target" in await page.locator("main").inner_text()
    await fits_a_phone(page)
    await page.context.close()


async def test_a_manager_closes_a_day_on_a_phone_and_the_next_days_say_why(
    site: Site, pool: asyncpg.Pool, clean_rulebook: None
) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from tests.helpers import MANAGER

    day = (datetime.now(ZoneInfo("Asia/Seoul")) + timedelta(days=3)).date()
    await pool.execute("DELETE FROM calendar_closures WHERE day = $1", day)
    try:
        page = await site.signed_in(MANAGER, PHONE)
        await page.goto(f"{site.url}/staff/rules")
        close = "form[action='/staff/rules/close']"
        await page.locator(close).locator("input[name=day]").fill(day.isoformat())
        await page.locator(close).locator("input[name=reason]").fill("장례로 휴무")
        await submit(page, close)
        assert await page.get_by_role("status").count() == 1
        text = await page.locator("main").inner_text()
        assert "장례로 휴무" in text
        assert (
            await pool.fetchval("SELECT reason FROM calendar_closures WHERE day = $1", day)
            == "장례로 휴무"
        )
        await accessible(page)
        await fits_a_phone(page)
        await page.context.close()
    finally:
        await pool.execute("DELETE FROM calendar_closures WHERE day = $1", day)

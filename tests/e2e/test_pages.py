"""The staff pages in headless Chromium on the real stack (the app served by uvicorn, a
worker, the dev server, PostgreSQL): signing in by a one-time link, opening a case and
walking it through the five steps and the customer's answer on a phone-sized screen and on a
desktop one, roles, CSRF, refused links, no personal data in URLs, no sideways scrolling,
and axe-core's accessibility check (served from tests/, nothing from a CDN)."""

import re
import shutil
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from app import sessions
from app import staff as staff_accounts
from app.context import Context
from app.identity import token_hash
from infra import postgres
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from store import scope
from tests.api_server import served
from tests.conftest import free_port
from tests.e2e.test_cli import Cli
from tests.helpers import OWNER, STAFF, add_staff, event_types
from worker import build_worker

pytestmark = pytest.mark.db
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "pages"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

if not Path(CHROMIUM).exists():
    pytest.skip(
        "Chromium is not installed: `apt-get install chromium` (.ci/run does)",
        allow_module_level=True,
    )


@dataclass
class Site:
    url: str
    ctx: Context
    browser: Any
    pool: asyncpg.Pool
    visited: list[str] = field(default_factory=list)

    async def link(self, name: str) -> str:
        with scope.shop(FIRST_SHOP):  # as `complaints staff link` acts for the CLI's shop
            return await sessions.sign_in_link(self.ctx, name)

    async def device(self, viewport: dict[str, int]) -> Any:
        """A fresh browser profile (a new device); every URL it requests is recorded."""
        context = await self.browser.new_context(viewport=viewport, bypass_csp=True)
        context.on("request", lambda request: self.visited.append(request.url))
        return context

    async def signed_in(self, name: str, viewport: dict[str, int]) -> Any:
        page = await (await self.device(viewport)).new_page()
        await page.goto(await self.link(name))
        await page.get_by_role("button", name="로그인").click()
        await page.wait_for_url(f"{self.url}/staff/")
        return page


@pytest.fixture(scope="module")
async def site(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, database_url: str, staff_tokens: Any
) -> AsyncIterator[Site]:
    from playwright.async_api import async_playwright

    port = free_port()
    settings = Settings(
        task_queue=f"complaints-{uuid.uuid4().hex[:8]}",
        database_url=database_url,
        language="ko",
        api_port=port,
        public_url=f"http://127.0.0.1:{port}",
    )
    # The app and the worker on the service's own pool (it acts for no shop unasked), as in
    # production; Site.pool (the first shop's) is for the tests' own rows.
    service = await postgres.connect(database_url, max_size=8)
    ctx = Context(settings, client=dev_env.client, pool=service)
    try:
        async with (
            served(ctx),
            build_worker(dev_env.client, service, settings),
            async_playwright() as p,
        ):
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield Site(settings.public_url, ctx, browser, pool)
            await browser.close()
    finally:
        await service.close()


def customer() -> tuple[str, str]:
    # 010-2xxx to 010-4xxx: every such number exists (010-5970 to 010-5999 do not)
    middle, last = 2000 + uuid.uuid4().int % 3000, uuid.uuid4().int % 10000
    return f"김민지{uuid.uuid4().hex[:4]}", f"010-{middle:04d}-{last:04d}"


def assert_no_personal_data(urls: list[str], name: str, phone: str) -> None:
    digits = phone.replace("-", "")
    for url in urls:
        plain = urllib.parse.unquote_plus(url)
        assert name not in plain, url
        assert phone not in plain and digits not in plain and digits[1:] not in plain, url


async def fits_a_phone(page: Any) -> None:
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width}px"


async def accessible(page: Any) -> None:
    """axe-core finds nothing serious or critical on the page."""
    await page.evaluate(AXE.read_text())
    found = await page.evaluate(
        """async () => (await axe.run()).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"""
    )
    assert found == [], f"{page.url}: {found}"


async def shot(page: Any, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


async def submit(page: Any, form: str) -> None:
    """Send a form and wait for the page it leads to (post-redirect-get)."""
    async with page.expect_navigation():
        await page.locator(form).locator("button[type=submit]").click()


async def test_the_cli_prints_a_one_time_link_that_signs_in_once(
    site: Site, dev_env: WorkflowEnvironment, pool: asyncpg.Pool, database_url: str
) -> None:
    cli = Cli(dev_env, site.ctx.settings)
    cli.env["COMPLAINTS_PUBLIC_URL"] = site.url
    out = await cli("staff", "link", STAFF)
    link = out.strip().splitlines()[-1]
    assert re.fullmatch(re.escape(site.url) + r"/staff/sign-in/lnk_[\w-]{43}", link), out
    token = link.rsplit("/", 1)[1]
    stored = await pool.fetchval(
        "SELECT count(*) FROM staff_sign_in_links WHERE token_sha256 = $1", token_hash(token)
    )
    assert stored == 1 and not await pool.fetchval(
        "SELECT count(*) FROM staff_sign_in_links WHERE token_sha256 = $1", token
    ), "only the hash of the token is stored"

    phone = await (await site.device(PHONE)).new_page()
    await phone.goto(link)  # a link preview fetching the page does not spend it
    await phone.goto(link)
    await phone.get_by_role("button", name="로그인").click()
    await phone.wait_for_url(f"{site.url}/staff/")
    assert await phone.get_by_role("heading", name="오늘 할 일").is_visible()
    cookie = next(c for c in await phone.context.cookies() if c["name"] == "complaints_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    assert cookie["expires"] > time.time() + 29 * 86400, "a session lasts 30 days"

    other = await (await site.device(PHONE)).new_page()
    used = await other.goto(link)
    assert used.status == 401
    assert "이미 사용한 링크" in await other.content()
    again = await other.request.post(link)
    assert again.status == 401, "a used link starts no session"
    assert not any(c["name"] == "complaints_session" for c in await other.context.cookies())

    stale = await site.link(STAFF)
    await pool.execute(
        "UPDATE staff_sign_in_links SET expires_at = now() - interval '1 second' "
        "WHERE token_sha256 = $1",
        token_hash(stale.rsplit("/", 1)[1]),
    )
    expired = await other.goto(stale)
    assert expired.status == 401 and "만료된 링크" in await other.content()
    assert (await other.request.post(stale)).status == 401

    # Without a session the pages send you to sign in.
    await other.goto(f"{site.url}/")
    assert other.url == f"{site.url}/staff/sign-in"
    await phone.context.close()
    await other.context.close()


async def _walk(
    site: Site, who: str, viewport: dict[str, int], label: str, logs: pytest.CaptureFixture[str]
) -> None:
    name, phone_number = customer()
    site.visited.clear()
    page = await site.signed_in(who, viewport)
    narrow = viewport["width"] <= PHONE["width"]

    async def check(step: str) -> None:
        if narrow:
            await fits_a_phone(page)
        await shot(page, f"{label}-{step}")

    await page.get_by_role("link", name="새 민원").click()
    await page.get_by_label("고객 이름").fill(name)
    await page.get_by_label("전화번호").fill(phone_number)
    await page.get_by_label("접수 경로").select_option("phone")
    await page.get_by_label("보상 요구").check()
    await page.get_by_label("무슨 일이 있었나").fill("케이크가 찌그러진 채 배달되었습니다")
    await check("new")
    await submit(page, "form.stack")
    case_id = (await page.locator(".big-id").inner_text()).strip()
    assert re.fullmatch(r"[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}", case_id)
    assert page.url.startswith(f"{site.url}/staff/cases/{case_id}")
    assert await page.get_by_role("link", name=re.compile(r"010-")).get_attribute("href") == (
        "tel:+82" + phone_number.replace("-", "")[1:]
    )
    await check("opened")

    # A refusal: the CLI's line in the page's language, beside the field, with what was
    # typed kept.
    what = page.get_by_label("무엇에 대해 사과했나")
    assert "죄송합니다" in await what.input_value(), "a starter phrase for the motive"
    starter = await what.input_value()
    await submit(page, "#now form")  # saved as it came: its blank would reach the customer
    blank = await page.locator("#now .refusal").inner_text()
    assert "[무엇] 자리를 실제 내용으로 바꿔 주세요" in blank, blank
    assert await what.input_value() == starter
    await what.fill("케이크를 찌그러뜨려\u200b 죄송합니다")
    await submit(page, "#now form")
    refusal = page.locator("#now .refusal")
    said = await refusal.inner_text()
    assert "눈에 보이지 않는 문자(U+200B)" in said, said
    assert await what.input_value() == "케이크를 찌그러뜨려\u200b 죄송합니다"
    await check("refused")

    await what.fill("생일 케이크를 찌그러진 채 배달해 죄송합니다")
    await submit(page, "#now form")
    # Said back once: what was kept, and what comes next (no second tap to be sure).
    assert await page.locator("#now .saved").inner_text() == (
        "✓ 저장했습니다: 사과. 이제 할 일: 공감"
    )
    await page.get_by_label("고객이 한 말 (그대로)").fill("아들 생일이었는데 다 망쳤어요")
    await submit(page, "#now form")
    await page.get_by_label("원인", exact=True).fill("배달 차량에서 상자가 미끄러졌습니다")
    await page.get_by_label("우리 잘못").check()
    await submit(page, "#now form")

    # The remedies allowed now, with why; the override is the owner's alone.
    assert "손해를 보상받고 싶어 합니다" in await page.locator(".why").inner_text()
    overrides = await page.locator("textarea[name=override_reason]").count()
    assert overrides == (1 if who == OWNER else 0)
    if who == STAFF:
        csrf = await page.locator("#now input[name=csrf]").input_value()
        forged = await page.request.post(
            f"{site.url}/staff/cases/{case_id}/offer",
            form={
                "csrf": csrf,
                "option": "full_refund",
                "plan": "전액 환불",
                "override_reason": "단골이라서",
            },
            max_redirects=0,
        )
        assert forged.status == 403, await forged.text()
        assert "직원 역할이라 할 수 없는 일입니다. 대표만 할 수 있습니다" in await forged.text()
    await page.get_by_label("무료 재작업").check()
    await page.locator("#terms_free_redo").fill("내일 정오까지 새 케이크 배달")
    await page.get_by_label("부분 환불").check()
    # The standard terms come prefilled in the page's language, with the shop's amounts.
    assert await page.locator("#terms_partial_refund").input_value() == "가격의 50% 환불"
    await page.get_by_label("제안 내용").fill("내일 정오까지 새 케이크, 또는 절반 환불")
    await check("offer")
    await submit(page, "#now form")

    await page.get_by_label("선택: 무료 재작업").check()
    assert "가격의 50% 환불" in await page.locator("#now").inner_text()
    await check("answer")
    await submit(page, "#now form")
    await page.get_by_label("재발 방지 조치").fill("두 차량 모두 미끄럼 방지 매트를 깝니다")
    await submit(page, "#now form")
    await page.get_by_label("5", exact=True).check()
    await page.get_by_label("고객 의견 (선택)").fill("새 케이크 최고")
    await check("follow-up")
    await submit(page, "#now form")
    assert "이 민원은 끝났습니다" in await page.locator("#now").inner_text()
    timeline = await page.locator(".timeline").inner_text()
    for said in ("민원 접수", "사과", "공감", "원인 분석", "해결책 제시", "고객이 선택함"):
        assert said in timeline
    assert who in timeline, "who acted"
    await check("done")

    assert await event_types(site.pool, case_id) == [
        "case_opened",
        "apologized",
        "empathized",
        "cause_analyzed",
        "resolution_offered",
        "resolution_accepted",
        "prevention_shown",
        "satisfaction_recorded",
        "case_closed",
    ]
    await page.get_by_role("link", name="오늘 할 일").click()
    await page.get_by_text("필터", exact=True).click()
    await page.get_by_label("민원 번호").fill(case_id)
    await page.get_by_role("button", name="적용").click()
    await page.wait_for_load_state()
    assert "0건" in await page.locator(".count").inner_text(), "a closed case leaves the inbox"
    assert_no_personal_data(site.visited, name, phone_number)
    logged = logs.readouterr()
    assert_no_personal_data([logged.out, logged.err], name, phone_number)
    assert f"case_id={case_id}" in logged.out, "the worker's log lines were captured"
    await page.context.close()


async def test_a_staff_member_walks_a_case_on_a_phone(
    site: Site, capfd: pytest.CaptureFixture[str]
) -> None:
    await _walk(site, STAFF, PHONE, "phone", capfd)


async def test_the_owner_walks_a_case_on_a_desktop(
    site: Site, capfd: pytest.CaptureFixture[str]
) -> None:
    await _walk(site, OWNER, DESKTOP, "desktop", capfd)


async def _open(site: Site, page: Any, motive: str = "보상 요구") -> str:
    name, phone_number = customer()
    await page.goto(f"{site.url}/staff/cases/new")
    await page.get_by_label("고객 이름").fill(name)
    await page.get_by_label("전화번호").fill(phone_number)
    await page.get_by_label(motive).check()
    await page.get_by_label("무슨 일이 있었나").fill("수리 후에도 에어컨에서 물이 샙니다")
    await submit(page, "form.stack")
    return (await page.locator(".big-id").inner_text()).strip()


async def test_a_post_without_the_csrf_token_changes_nothing(site: Site) -> None:
    page = await site.signed_in(STAFF, PHONE)
    case_id = await _open(site, page)
    before = await event_types(site.pool, case_id)
    for form in ({"what": "사과합니다"}, {"what": "사과합니다", "csrf": "x" * 64}):
        refused = await page.request.post(
            f"{site.url}/staff/cases/{case_id}/apology", form=form, max_redirects=0
        )
        assert refused.status == 403
    opened = await page.request.post(
        f"{site.url}/staff/cases",
        form={"name": "누구", "phone": "010-5555-0000", "channel": "phone", "motive": "anger",
              "what": "x"},
        max_redirects=0,
    )  # fmt: skip
    assert opened.status == 403
    assert await event_types(site.pool, case_id) == before
    await page.context.close()


async def test_the_inbox_and_a_case_page_pass_axe_and_fit_a_phone(site: Site) -> None:
    page = await site.signed_in(STAFF, PHONE)
    case_id = await _open(site, page, "다른 고객 보호")
    await accessible(page)
    await fits_a_phone(page)
    await page.goto(f"{site.url}/staff/")
    card = page.locator(".card", has=page.locator(f"text={case_id}"))
    assert re.search(r"\d+(시간|분)( \d+분)? 남음", await card.inner_text()), "time left in words"
    assert await page.locator("#cases[hx-trigger='every 30s']").count() == 1
    await shot(page, "phone-inbox")
    await accessible(page)
    await fits_a_phone(page)
    # The htmx poll asks for the list alone, with the filters it was given.
    await page.goto(f"{site.url}/staff/?motive=protect_others")
    polled = await page.request.get(
        f"{site.url}/staff/?motive=protect_others", headers={"HX-Request": "true"}
    )
    body = await polled.text()
    assert body.lstrip().startswith('<div id="cases"') and case_id in body
    assert 'hx-get="/staff/?motive=protect_others"' in body
    await page.goto(f"{site.url}/staff/owner")
    await accessible(page)
    await fits_a_phone(page)
    await page.context.close()


async def _to_the_offer(site: Site, page: Any) -> str:
    case_id = await _open(site, page)
    for label, text in (
        ("무엇에 대해 사과했나", "물이 다시 새서 죄송합니다"),
        ("고객이 한 말 (그대로)", "바닥이 두 번이나 젖었어요"),
        ("원인", "배수 호스가 꺾여 있었습니다"),
    ):
        await page.get_by_label(label, exact=True).fill(text)
        if label == "원인":
            await page.get_by_label("우리 잘못").check()
        await submit(page, "#now form")
    return case_id


async def _offer_declined(page: Any, reason: str) -> None:
    await page.get_by_label("부분 환불").check()
    await page.get_by_label("제안 내용").fill("절반 환불해 드리겠습니다")
    await submit(page, "#now form")
    await page.get_by_label("거절", exact=True).check()
    await page.get_by_label("거절 이유").fill(reason)
    await submit(page, "#now form")


async def test_a_second_decline_waits_on_the_owner_who_may_withdraw(site: Site) -> None:
    staff = await site.signed_in(STAFF, PHONE)
    case_id = await _to_the_offer(site, staff)
    await _offer_declined(staff, "절반은 부족해요")
    await _offer_declined(staff, "역시 싫어요")
    assert await staff.locator("textarea[name=reason]").count() == 0, "staff cannot withdraw"
    csrf = await staff.locator("input[name=csrf]").first.input_value()
    forged = await staff.request.post(
        f"{site.url}/staff/cases/{case_id}/withdrawal",
        form={"csrf": csrf, "reason": "그만"},
        max_redirects=0,
    )
    assert forged.status == 403

    owner = await site.signed_in(OWNER, PHONE)
    await owner.get_by_role("link", name="대표 확인").click()
    card = owner.locator(".card", has=owner.locator(f"text={case_id}"))
    assert "두 번 거절" in await card.inner_text()
    await shot(owner, "phone-owner")
    await fits_a_phone(owner)
    await card.get_by_role("link").click()
    await owner.locator(".withdraw summary").click()
    await owner.get_by_label("철회 이유").fill("고객과 합의하여 종결")
    await submit(owner, ".withdraw form")
    assert "이 민원은 끝났습니다" in await owner.locator("#now").inner_text()
    assert (await event_types(site.pool, case_id))[-1] == "case_withdrawn"
    await owner.goto(f"{site.url}/staff/owner")
    assert case_id not in await owner.content()
    await staff.context.close()
    await owner.context.close()


async def test_sessions_are_listed_ended_by_the_owner_and_by_staff_revoke(site: Site) -> None:
    name = f"Temp {uuid.uuid4().hex[:6]}"
    await add_staff(site.pool, name, "staff")
    temp = await site.signed_in(name, PHONE)
    owner = await site.signed_in(OWNER, PHONE)
    await owner.get_by_role("link", name="로그인 기기").click()
    card = owner.locator(".card", has=owner.locator(f"text={name}"))
    await card.get_by_role("button").click()
    await owner.wait_for_load_state()
    assert name not in await owner.content()
    await temp.reload()
    assert temp.url == f"{site.url}/staff/sign-in", "an ended session signs nobody in"

    temp = await site.signed_in(name, PHONE)
    assert (await temp.request.get(f"{site.url}/staff/sessions")).status == 403
    with scope.shop(FIRST_SHOP):  # as `complaints staff revoke` acts for the CLI's shop
        await staff_accounts.revoke(site.ctx, name)
    await temp.reload()
    assert temp.url == f"{site.url}/staff/sign-in", "`staff revoke` ends every session"
    await temp.context.close()
    await owner.context.close()


async def test_a_returning_customer_is_recognized_and_found_by_phone(site: Site) -> None:
    site.visited.clear()
    page = await site.signed_in(STAFF, PHONE)
    name, phone_number = customer()
    await page.goto(f"{site.url}/staff/cases/new")
    await page.get_by_label("고객 이름").fill(name)
    await page.get_by_label("전화번호").fill(phone_number)
    await page.get_by_label("감정 해소").check()
    await page.get_by_label("무슨 일이 있었나").fill("직원이 불친절했습니다")
    await submit(page, "form.stack")
    case_id = (await page.locator(".big-id").inner_text()).strip()

    await page.goto(f"{site.url}/staff/cases/new")
    await page.get_by_label("전화번호").press_sequentially(phone_number.replace("-", ""))
    returning = page.locator("#returning")
    await returning.get_by_text(name).wait_for()
    assert "이전 민원 1건" in await returning.inner_text()
    assert case_id in await returning.inner_text(), "the customer's open case is shown"
    await shot(page, "phone-returning")
    await fits_a_phone(page)

    await page.goto(f"{site.url}/staff/")
    await page.get_by_text("전화번호로 찾기").click()
    await page.get_by_label("고객 전화번호").fill(phone_number)
    await submit(page, "form.search")
    assert page.url == f"{site.url}/staff/search"
    assert case_id in await page.locator(".cards").inner_text()
    await page.get_by_label("고객 전화번호").fill("12")
    await submit(page, "form.search")
    assert "전화번호: 번호를 확인해 주세요" in await page.locator(".refusal").inner_text()
    assert_no_personal_data(site.visited, name, phone_number)
    await page.context.close()


async def test_the_report_draws_its_bars_on_the_server(site: Site) -> None:
    staff = await site.signed_in(STAFF, PHONE)
    assert (await staff.request.get(f"{site.url}/staff/reports")).status == 403
    assert await staff.get_by_role("link", name="보고서").count() == 0
    owner = await site.signed_in(OWNER, PHONE)
    await _open(site, owner)
    await owner.get_by_role("link", name="보고서").click()
    opened = owner.locator(".figures div", has_text="접수")
    assert int(await opened.locator("dd").inner_text()) >= 1
    assert await owner.locator(".bars svg rect").count() >= 2 * 5, "one bar per step at least"
    await accessible(owner)
    await fits_a_phone(owner)
    await shot(owner, "phone-reports")
    csv = await owner.request.get(f"{site.url}/staff/exports/cases.csv")
    assert csv.status == 200 and csv.text and "case_id" in await csv.text()
    assert "김민지" not in await csv.text(), "the export carries no names"
    await staff.context.close()
    await owner.context.close()


async def test_the_pages_speak_english_when_the_shop_does(site: Site) -> None:
    english = site.ctx.settings.model_copy(update={"language": "en"})
    ctx = Context(english, client=await site.ctx.client(), pool=site.pool)
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as browser:
        link = (await sessions.sign_in_link(ctx, STAFF)).replace(site.url, "")
        assert "Sign in as Test Staff" in (await browser.get(link)).text
        signed = await browser.post(link, headers={"Origin": "http://shop"})
        assert signed.status_code == 303 and signed.headers["location"] == "/staff/"
        inbox_page = await browser.get("/staff/")
        assert '<html lang="en">' in inbox_page.text and "Today" in inbox_page.text
        assert "오늘" not in inbox_page.text
        used = await browser.get(link)
        assert used.status_code == 401 and "used already" in used.text
        # Another site's page cannot post a link for you (login CSRF).
        fresh = (await sessions.sign_in_link(ctx, STAFF)).replace(site.url, "")
        assert (await browser.post(fresh, headers={"Origin": "http://evil"})).status_code == 403


async def test_a_visit_with_a_referral_from_the_customer_card_rewards_both_sides(
    site: Site,
) -> None:
    """`complaints visit PHONE --referred-by PHONE2` from the case page: both sides see
    their reward, used once at the next visit; a bad number is refused beside the form."""
    site.visited.clear()
    page = await site.signed_in(STAFF, PHONE)
    referrer_case = await _open(site, page)
    referrer_phone = await page.locator(".who a.call").inner_text()
    referred_case = await _open(site, page, "감정 해소")
    card = page.locator("#visit")

    await page.goto(f"{site.url}/staff/cases/{referred_case}")
    assert "남은 혜택이 없습니다." in await card.inner_text()
    await card.get_by_text("오늘 방문 기록하기").click()
    await card.get_by_label("소개해 준 분의 전화번호").fill("12")
    await submit(page, "#visit form")
    assert await page.locator("#visit .refusal").count() == 1
    assert "남은 혜택이 없습니다." in await card.inner_text(), "nothing recorded"

    await card.get_by_label("소개해 준 분의 전화번호").fill(referrer_phone)
    await submit(page, "#visit form")
    assert "오늘 방문" in await page.locator("p.saved[role=status]").inner_text()
    assert "소개받아 오신 할인" in await card.inner_text()
    await accessible(page)
    await fits_a_phone(page)
    await shot(page, "phone-visit-referred")

    await page.goto(f"{site.url}/staff/cases/{referrer_case}")
    assert "소개 감사 할인" in await page.locator("#visit").inner_text()

    await page.goto(f"{site.url}/staff/cases/{referred_case}")
    await card.get_by_text("오늘 방문 기록하기").click()
    await card.get_by_label("소개받아 오신 할인", exact=False).check()
    await submit(page, "#visit form")
    assert "남은 혜택이 없습니다." in await page.locator("#visit").inner_text()
    await page.context.close()

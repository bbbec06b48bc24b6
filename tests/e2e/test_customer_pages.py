"""The customer's pages in headless Chromium (390x844) on the real stack: the app served by
uvicorn, a worker, the dev server, PostgreSQL and the stand-in provider. The links come from
the messages the stand-in received (GET /messages), so the whole path is checked: template,
signed link, page, application-layer call, event with the customer as actor."""

import asyncio
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from app import cases, sessions
from app.context import Context
from app.customer_answers import csrf_token
from app.identity import Actor, Role
from infra.links import link_signer
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from notify import standin
from tests.api_server import served
from tests.conftest import free_port
from tests.e2e.test_pages import (
    ARGS,
    CHROMIUM,
    PHONE,
    accessible,
    assert_no_personal_data,
    customer,
    fits_a_phone,
    shot,
)
from tests.helpers import STAFF, event_types, eventually
from worker import build_worker

pytestmark = pytest.mark.db
STAFF_ACTOR = Actor(STAFF, Role.STAFF, shop=FIRST_SHOP)
INTERNAL = ("analyze_cause", "offer_resolution", "awaiting", "escalat", "customer_response")


@dataclass
class Shop:
    url: str
    ctx: Context
    browser: Any
    pool: asyncpg.Pool
    provider: str
    visited: list[str] = field(default_factory=list)

    async def phone(self, headers: dict[str, str] | None = None) -> Any:
        """A new phone-sized browser; every URL it asks for is recorded."""
        context = await self.browser.new_context(
            viewport=PHONE, bypass_csp=True, extra_http_headers=headers or {}
        )
        context.on("request", lambda request: self.visited.append(request.url))
        return await context.new_page()

    def messages(self, number: str, kind: str) -> list[dict[str, Any]]:
        listed = httpx.get(f"{self.provider}/messages").json()
        return [m for m in listed if m["to"] == number and m["template_id"] == f"STANDIN-{kind}"]

    async def link_in(self, number: str, kind: str) -> str:
        """The customer link in the (one) message of `kind` the stand-in got for `number`."""

        async def arrived() -> str:
            found_messages = self.messages(number, kind)
            assert len(found_messages) == 1, found_messages
            message = found_messages[0]
            found = re.search(r"(https?://\S+/c/\S+)", message["text"])
            assert found, message["text"]
            return found[1]

        return await eventually(arrived, timeout=30)


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    state = standin.StandinState.for_language("ko")
    port = free_port()
    server = standin.server(port, state=state)
    thread = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the stand-in did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
async def shop(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    database_url: str,
    staff_tokens: Any,
    provider: str,
) -> AsyncIterator[Shop]:
    from playwright.async_api import async_playwright

    port = free_port()
    settings = Settings(
        task_queue=f"complaints-{uuid.uuid4().hex[:8]}",
        database_url=database_url,
        language="ko",
        api_port=port,
        public_url=f"http://127.0.0.1:{port}",
        messages="standin",
        standin_port=int(provider.rsplit(":", 1)[1]),
        follow_up_after=timedelta(seconds=2),  # the rating link comes two seconds after
    )
    ctx = Context(settings, client=dev_env.client, pool=pool)
    async with (
        served(ctx),
        build_worker(dev_env.client, pool, settings),
        async_playwright() as p,
    ):
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield Shop(settings.public_url, ctx, browser, pool, provider)
        await browser.close()


def digits(phone: str) -> str:
    return phone.replace("-", "")


async def offered_case(shop: Shop) -> tuple[str, str, str]:
    """A case walked by staff (the application layer) to an offer of two remedies; returns
    its id, the customer's name and phone."""
    name, phone = customer()
    ctx = shop.ctx
    opened = await cases.open_case(
        ctx, STAFF_ACTOR, name=name, phone=phone, channel="kakaotalk", motive="compensation",
        what="에어컨 수리 후에도 물이 샙니다",
    )  # fmt: skip
    case_id = opened.case_id
    await cases.apologize(ctx, STAFF_ACTOR, case_id, "물이 다시 새서 죄송합니다")
    await cases.empathize(ctx, STAFF_ACTOR, case_id, "바닥이 두 번이나 젖었어요")
    await cases.analyze_cause(ctx, STAFF_ACTOR, case_id, "배수 호스가 꺾여 있었습니다", "ours")
    options = [
        cases.remedy("free_redo", "내일 오전 10시에 다시 설치"),
        cases.remedy("partial_refund", "수리비 50% 환불"),
    ]
    await cases.offer_resolution(ctx, STAFF_ACTOR, case_id, "다시 설치하거나 절반 환불", options)
    return case_id, name, phone


async def by_of(pool: asyncpg.Pool, case_id: str, event: str) -> list[str | None]:
    rows = await pool.fetch(
        "SELECT data->>'by' AS by FROM complaint_events WHERE case_id = $1 AND type = $2"
        " ORDER BY seq",
        case_id,
        event,
    )
    return [r["by"] for r in rows]


async def plain_words(page: Any) -> None:
    text = (await page.locator("main").inner_text()).lower()
    for term in INTERNAL:
        assert term not in text, f"an internal term on the customer's page: {term}"


async def test_the_offer_link_lets_the_customer_choose_once_as_the_actor(shop: Shop) -> None:
    shop.visited.clear()
    case_id, name, phone = await offered_case(shop)
    link = await shop.link_in(digits(phone), "offer_to_choose")
    assert link.startswith(f"{shop.url}/c/") and case_id not in link

    page = await shop.phone()
    await page.goto(link)
    assert await page.get_by_role("heading", name=f"접수번호 {case_id}").is_visible()
    assert "원하시는 방법을 골라 주세요" in await page.locator("main").inner_text()
    assert "수리비 50% 환불" in await page.locator("#choose").inner_text(), "the offer's terms"
    await plain_words(page)
    await accessible(page)
    await fits_a_phone(page)
    await shot(page, "customer-choose")

    # Without the form's CSRF token nothing is recorded.
    forged = await page.request.post(
        f"{link}/choose", form={"answer": "free_redo", "round": "1"}, max_redirects=0
    )
    assert forged.status == 403
    assert (await event_types(shop.pool, case_id))[-1] == "resolution_offered"

    csrf = await page.locator("#choose input[name=csrf]").input_value()
    await page.get_by_label("무료 재작업").check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="선택 보내기").click()
    assert "보내 주신 답변을 받았습니다" in await page.locator("[role=status]").inner_text()
    assert "고르신 방법: 무료 재작업" in await page.locator("main").inner_text()
    assert await page.locator("#choose").count() == 0, "no second form"
    assert await by_of(shop.pool, case_id, "resolution_accepted") == ["customer"]
    await accessible(page)
    await fits_a_phone(page)

    # The same answer again (a resend, a double tap) changes nothing and says so.
    before = await event_types(shop.pool, case_id)
    again = await page.request.post(
        f"{link}/choose", form={"csrf": csrf, "answer": "partial_refund", "round": "1"}
    )
    assert again.status == 200 and "이미 받은 답변입니다" in await again.text()
    await page.goto(link)  # the link used again
    assert "고르신 방법: 무료 재작업" in await page.locator("main").inner_text()
    assert await event_types(shop.pool, case_id) == before

    # Writing back: kept for staff, with a notice that carries no text; kept once.
    for _ in range(2):
        await page.get_by_label("남기실 말씀").fill("설치 기사님 방문 전에 전화 주세요")
        async with page.expect_navigation():
            await page.get_by_role("button", name="글 보내기").click()
    assert "같은 글을 이미 받았습니다" in await page.locator("[role=status]").inner_text()
    notes = await shop.pool.fetch("SELECT body FROM customer_notes WHERE case_id = $1", case_id)
    assert [n["body"] for n in notes] == ["설치 기사님 방문 전에 전화 주세요"]
    notice = await shop.pool.fetchrow(
        "SELECT recipient, message FROM notifications WHERE case_id = $1"
        " AND kind = 'customer_wrote'",
        case_id,
    )
    assert notice["recipient"] == "staff" and "전화 주세요" not in notice["message"]
    staff = await shop.phone()
    await staff.goto(await sessions.sign_in_link(shop.ctx, STAFF))
    await staff.get_by_role("button", name="로그인").click()
    await staff.wait_for_url(f"{shop.url}/staff/")
    await staff.goto(f"{shop.url}/staff/cases/{case_id}")
    assert (
        "설치 기사님 방문 전에 전화 주세요" in await staff.locator("#notes-h + p + ol").inner_text()
    )
    assert "· 고객" in await staff.locator(".timeline").last.inner_text(), "who chose"
    await staff.context.close()
    assert_no_personal_data(shop.visited, name, phone)
    await page.context.close()


async def test_the_rating_link_closes_the_case_with_the_customers_score(shop: Shop) -> None:
    shop.visited.clear()
    case_id, name, phone = await offered_case(shop)
    await cases.record_customer_response(shop.ctx, STAFF_ACTOR, case_id, choice="free_redo")
    await cases.show_prevention(shop.ctx, STAFF_ACTOR, case_id, "설치 후 배수 시험을 합니다")
    link = await shop.link_in(digits(phone), "rating_requested")

    page = await shop.phone()
    await page.goto(link)
    assert "해결되었습니다" in await page.locator("main").inner_text()
    await plain_words(page)
    await accessible(page)
    await fits_a_phone(page)
    await shot(page, "customer-rate")
    csrf = await page.locator("#rating input[name=csrf]").input_value()
    async with page.expect_navigation():
        await page.get_by_role("button", name="점수 보내기").click()
    assert "1점부터 5점" in await page.locator(".refusal").inner_text(), "beside the field"
    await page.get_by_label("4점").check()
    await page.get_by_label("하고 싶은 말씀 (선택)").fill("빨리 고쳐 주셔서 고맙습니다")
    async with page.expect_navigation():
        await page.get_by_role("button", name="점수 보내기").click()
    assert "남겨 주신 점수: 4점" in await page.locator("main").inner_text()
    assert "마무리되었습니다" in await page.locator("main").inner_text()
    row = await shop.pool.fetchrow(
        "SELECT status, rating FROM complaint_cases WHERE case_id = $1", case_id
    )
    assert (row["status"], row["rating"]) == ("closed", 4)
    assert await by_of(shop.pool, case_id, "satisfaction_recorded") == ["customer"]
    assert await by_of(shop.pool, case_id, "case_closed") == ["customer"]

    before = await event_types(shop.pool, case_id)
    again = await page.request.post(f"{link}/rate", form={"csrf": csrf, "score": "1", "round": "0"})
    assert "이미 받은 답변입니다" in await again.text()
    assert await event_types(shop.pool, case_id) == before
    assert_no_personal_data(shop.visited, name, phone)
    await page.context.close()


async def test_an_expired_or_altered_link_changes_nothing_and_says_how_to_reach_the_shop(
    shop: Shop,
) -> None:
    case_id, _, _ = await offered_case(shop)
    signer = link_signer(shop.ctx.settings)
    stale = signer.token(case_id, "choose", datetime.now(UTC) - timedelta(minutes=1))
    page = await shop.phone()
    shown = await page.goto(f"{shop.url}/c/{stale}")
    assert shown.status == 410
    text = await page.locator("main").inner_text()
    assert "링크 사용 기간이 지났습니다" in text and f"접수번호 {case_id}" in text
    posted = await page.request.post(
        f"{shop.url}/c/{stale}/choose",
        form={"csrf": csrf_token(shop.ctx, stale), "answer": "free_redo", "round": "1"},
    )
    assert posted.status == 410
    await accessible(page)
    await fits_a_phone(page)

    fresh = signer.issue(case_id, "choose", timedelta(days=1), datetime.now(UTC))
    altered = fresh[:-2] + ("AA" if not fresh.endswith("AA") else "BB")
    assert (await page.goto(f"{shop.url}/c/{altered}")).status == 404
    assert "이 링크를 열 수 없습니다" in await page.locator("h1").inner_text()
    other_purpose = signer.issue(case_id, "status", timedelta(days=1), datetime.now(UTC))
    refused = await page.request.post(
        f"{shop.url}/c/{other_purpose}/choose",
        form={"csrf": csrf_token(shop.ctx, other_purpose), "answer": "free_redo", "round": "1"},
    )
    assert refused.status == 403, "a status link chooses nothing"
    assert (await event_types(shop.pool, case_id))[-1] == "resolution_offered"
    await page.context.close()


async def test_the_public_form_opens_a_web_case_and_refuses_a_flood(shop: Shop) -> None:
    shop.visited.clear()
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    page = await shop.phone({"X-Forwarded-For": address})
    name, phone = customer()
    await page.goto(f"{shop.url}/c/new")
    await accessible(page)
    await fits_a_phone(page)
    await page.get_by_label("이름").fill(name)
    await page.get_by_label("휴대전화 번호").fill("010-12")
    await page.get_by_label("무슨 일이 있었나요?").fill("예약 시간에 갔는데 한 시간을 기다렸습니다")
    async with page.expect_navigation():
        await page.get_by_role("button", name="접수하기").click()
    refusal = page.locator("#err-phone")
    assert "휴대전화 번호를 확인해 주세요" in await refusal.inner_text(), "beside the field"
    assert await page.get_by_label("이름").input_value() == name, "what was typed is kept"
    await page.get_by_label("휴대전화 번호").fill(phone)
    await page.get_by_label("기분이 상했고, 사과를 받고 싶습니다").check()
    await shot(page, "customer-intake")
    async with page.expect_navigation():
        await page.get_by_role("button", name="접수하기").click()
    assert "접수되었습니다" in await page.locator("[role=status]").inner_text()
    case_id = (await page.locator("h1").inner_text()).removeprefix("접수번호 ").strip()
    row = await shop.pool.fetchrow(
        "SELECT channel, motive FROM complaint_cases WHERE case_id = $1", case_id
    )
    assert (row["channel"], row["motive"]) == ("web", "anger")
    assert await by_of(shop.pool, case_id, "case_opened") == ["web form"]
    received = await eventually(
        lambda: _one(shop.messages(digits(phone), "case_received")), timeout=30
    )
    assert case_id in received["text"]
    await plain_words(page)
    await accessible(page)
    await fits_a_phone(page)
    assert_no_personal_data(shop.visited, name, phone)

    # A bot fills the field people never see: thanked, nothing opened.
    _, bot_phone = customer()
    form = {"name": "bot", "phone": bot_phone, "what": "spam", "website": "http://spam"}
    trapped = await page.request.post(f"{shop.url}/c/new", form=form)
    assert trapped.status == 200 and "감사합니다" in await trapped.text()
    assert (
        await shop.pool.fetchval(
            "SELECT count(*) FROM customers WHERE phone = $1", "+82" + digits(bot_phone)[1:]
        )
        == 0
    )

    # A flood from one address: four more go through (five an hour), the sixth is refused.
    for _ in range(4):
        _, other = customer()
        sent = await page.request.post(
            f"{shop.url}/c/new", form={"name": "손님", "phone": other, "what": "불만입니다"}
        )
        assert sent.ok and "/c/" in sent.url
    await page.goto(f"{shop.url}/c/new")
    _, last = customer()
    await page.get_by_label("이름").fill("손님")
    await page.get_by_label("휴대전화 번호").fill(last)
    await page.get_by_label("무슨 일이 있었나요?").fill("또 불만입니다")
    async with page.expect_navigation():
        await page.get_by_role("button", name="접수하기").click()
    assert "너무 많이 접수되었습니다" in await page.locator(".refusal").inner_text()
    assert (
        await shop.pool.fetchval(
            "SELECT count(*) FROM customers WHERE phone = $1", "+82" + digits(last)[1:]
        )
        == 0
    ), "the refused one opened nothing"
    await page.context.close()


async def test_one_phone_is_limited_from_any_address(shop: Shop) -> None:
    _, phone = customer()
    async with httpx.AsyncClient(base_url=shop.url) as client:
        statuses = []
        for n in range(4):
            sent = await client.post(
                "/c/new",
                data={"name": "손님", "phone": phone, "what": f"불만 {n}"},
                headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
            )
            statuses.append(sent.status_code)
        assert statuses == [303, 303, 303, 429]
        assert 'id="err-phone"' in sent.text and "이 번호로 오늘 접수가 많았습니다" in sent.text


def _one(found: list[dict[str, Any]]) -> Any:
    async def check() -> dict[str, Any]:
        assert len(found) == 1, found
        return found[0]

    return check()


async def test_the_customer_page_speaks_english_when_the_shop_does(shop: Shop) -> None:
    case_id, _, _ = await offered_case(shop)
    english = shop.ctx.settings.model_copy(update={"language": "en"})
    ctx = Context(english, client=await shop.ctx.client(), pool=shop.pool)
    token = link_signer(english).issue(case_id, "choose", timedelta(days=1), datetime.now(UTC))
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as browser:
        page = await browser.get(f"/c/{token}")
        assert '<html lang="en">' in page.text and f"Reference {case_id}" in page.text
        assert "Please choose the one you prefer" in page.text and "접수" not in page.text
        form = await browser.get("/c/new")
        assert "Tell us what went wrong" in form.text


async def test_a_delay_told_on_the_staff_page_reaches_the_customer_and_shows_each_message(
    shop: Shop,
) -> None:
    shop.visited.clear()
    name, phone = customer()
    opened = await cases.open_case(
        shop.ctx, STAFF_ACTOR, name=name, phone=phone, channel="kakaotalk",
        motive="compensation", what="케이크가 찌그러져 도착했습니다",
    )  # fmt: skip
    case_id = opened.case_id
    # The receipt carries the customer's status link, which opens their page.
    status_link = await shop.link_in(digits(phone), "case_received")
    customer_page = await shop.phone()
    await customer_page.goto(status_link)
    assert await customer_page.get_by_role("heading", name=f"접수번호 {case_id}").is_visible()
    await customer_page.context.close()

    staff = await shop.phone()
    await staff.goto(await sessions.sign_in_link(shop.ctx, STAFF))
    await staff.get_by_role("button", name="로그인").click()
    await staff.wait_for_url(f"{shop.url}/staff/")

    async def delivered() -> None:
        await staff.goto(f"{shop.url}/staff/cases/{case_id}")
        shown = await staff.locator("#messages-h + p + ul").inner_text()
        assert "접수 안내" in shown and "카카오톡으로 도착" in shown, shown

    await eventually(delivered, timeout=30)
    await staff.locator("details.delay summary").click()
    until = staff.get_by_label("새 예정 시각")
    due = await until.input_value()  # the current due time, to move from
    earlier = datetime.fromisoformat(due) - timedelta(hours=1)
    await until.fill(f"{earlier:%Y-%m-%dT%H:%M}")
    await staff.get_by_label("사유 (고객이 읽습니다, 300자 이내)").fill("오븐이 고장 났습니다")
    async with staff.expect_navigation():
        await staff.get_by_role("button", name="지연 안내 보내기").click()
    assert "그보다 늦은 시각" in await staff.locator("details.delay [role=alert]").inner_text()
    assert "delay_recorded" not in await event_types(shop.pool, case_id), "nothing stored"
    later = datetime.fromisoformat(due) + timedelta(hours=3)
    await staff.get_by_label("새 예정 시각").fill(f"{later:%Y-%m-%dT%H:%M}")
    async with staff.expect_navigation():
        await staff.get_by_role("button", name="지연 안내 보내기").click()
    facts = await staff.locator("dl.facts").first.inner_text()
    assert "연기됨 (1회)" in facts and "지연 보상" in facts
    assert "지연 안내 (고객에게 알림)" in await staff.locator(".timeline").last.inner_text()

    (told,) = await eventually(lambda: _only(shop, digits(phone), "delay_announced"), timeout=30)
    assert "오븐이 고장 났습니다" in told["text"] and "다음 이용 시 10% 할인" in told["text"]
    assert f"{shop.url}/c/" in told["text"]

    async def listed() -> None:
        await staff.goto(f"{shop.url}/staff/cases/{case_id}")
        shown = await staff.locator("#messages-h + p + ul").inner_text()
        assert "지연 안내" in shown and shown.count("카카오톡으로 도착") == 2, shown

    await eventually(listed, timeout=30)
    await accessible(staff)
    await fits_a_phone(staff)
    await shot(staff, "staff-case-delay-and-messages")
    await staff.context.close()
    assert_no_personal_data(shop.visited, name, phone)


async def _only(shop: Shop, number: str, kind: str) -> list[dict[str, Any]]:
    found = shop.messages(number, kind)
    assert len(found) == 1, found
    return found


# The smallest PNG there is (1x1, one red pixel) and a JPEG's first bytes.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108020000009077"
    "53de0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


async def test_a_photo_sent_with_the_form_and_from_the_case_page_shows_to_staff(
    shop: Shop,
) -> None:
    shop.visited.clear()
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    page = await shop.phone({"X-Forwarded-For": address})
    name, phone = customer()
    await page.goto(f"{shop.url}/c/new")
    await page.get_by_label("이름").fill(name)
    await page.get_by_label("휴대전화 번호").fill(phone)
    await page.get_by_label("무슨 일이 있었나요?").fill("케이크 상자가 찌그러져 왔습니다")
    photo = page.get_by_label("사진 (선택, 5MB까지)")
    # Not a photo, whatever its name says: one line beside the field, nothing opened.
    await photo.set_input_files(
        {"name": "cake.jpg", "mimeType": "image/jpeg", "buffer": b"<html>not a photo</html>"}
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="접수하기").click()
    assert (await page.locator("#err-photo").inner_text()).strip() == (
        "사진 파일(JPEG, PNG, WebP, HEIC)만 보낼 수 있습니다."
    )
    # Too large: the same.
    big = JPEG_HEAD + bytes(5 * 1024 * 1024)
    await page.get_by_label("사진 (선택, 5MB까지)").set_input_files(
        {"name": "big.jpg", "mimeType": "image/jpeg", "buffer": big}
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="접수하기").click()
    assert "사진이 너무 큽니다" in await page.locator("#err-photo").inner_text()
    await fits_a_phone(page)
    customers = "SELECT count(*) FROM customers WHERE phone = $1"
    assert await shop.pool.fetchval(customers, "+82" + digits(phone)[1:]) == 0, "nothing opened"

    await page.get_by_label("사진 (선택, 5MB까지)").set_input_files(
        {"name": "케이크.png", "mimeType": "image/png", "buffer": PNG}
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="접수하기").click()
    case_id = (await page.locator("h1").inner_text()).removeprefix("접수번호 ").strip()
    kept = await shop.pool.fetch(
        "SELECT content_type, size FROM case_photos WHERE case_id = $1", case_id
    )
    assert [(r["content_type"], r["size"]) for r in kept] == [("image/png", len(PNG))]

    # From the case page: the same photo again is kept once; a WebP is a second one.
    webp = b"RIFF" + (30).to_bytes(4, "little") + b"WEBPVP8 " + bytes(22)
    await page.get_by_label("사진", exact=True).set_input_files(
        {"name": "a.png", "mimeType": "image/png", "buffer": PNG}
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="사진 보내기").click()
    assert "같은 사진을 이미 받았습니다" in await page.locator("[role=status]").inner_text()
    await page.get_by_label("사진", exact=True).set_input_files(
        {"name": "b.webp", "mimeType": "image/webp", "buffer": webp}
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="사진 보내기").click()
    assert "사진을 가게에 전했습니다" in await page.locator("[role=status]").inner_text()
    await accessible(page)
    await fits_a_phone(page)
    await shot(page, "customer-photo")
    await page.context.close()

    staff = await shop.phone()
    await staff.goto(await sessions.sign_in_link(shop.ctx, STAFF))
    await staff.get_by_role("button", name="로그인").click()
    await staff.wait_for_url(f"{shop.url}/staff/")
    await staff.goto(f"{shop.url}/staff/cases/{case_id}")
    first = staff.get_by_role("img", name="고객이 보낸 사진 1")
    await first.wait_for()
    assert await first.evaluate("img => img.complete && img.naturalWidth") == 1, "drawn"
    assert await staff.locator(".photos li").count() == 2
    src = await first.get_attribute("src")
    assert re.fullmatch(rf"/staff/cases/{case_id}/photos/[0-9a-f-]{{36}}", src or ""), src
    await fits_a_phone(staff)
    await shot(staff, "staff-case-photos")
    # Without a session the photo is not served.
    anonymous = await shop.phone()
    response = await anonymous.request.get(f"{shop.url}{src}", max_redirects=0)
    assert response.status in (303, 307, 401), response.status
    await anonymous.context.close()
    await staff.context.close()
    assert_no_personal_data(shop.visited, name, phone)
    assert not any("케이크.png" in u or "cake" in u for u in shop.visited)

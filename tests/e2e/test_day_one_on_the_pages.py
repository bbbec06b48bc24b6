"""Issue 24's "Done when", tried as a new shop employee would on the real stack (uvicorn, a
worker, the dev server, PostgreSQL, headless Chromium at 390x844): the owner adds them with
`complaints staff add` and sends the link from `complaints staff link`; they sign in on the
phone, open a case for a returning customer (recognized as the number is typed), walk the
five steps and the customer's answers through the pages, and see the case leave the inbox;
the owner, on a phone too, sees what waits on them. No other terminal step, no Temporal UI.

Also here: the inbox's "mine" filter and its held-notices strip."""

import re
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.e2e.test_cli import Cli
from tests.e2e.test_notices_page import outbox_row
from tests.e2e.test_pages import (  # noqa: F401  (site: the pages' module fixture, reused)
    PHONE,
    Site,
    _open,
    _to_the_offer,
    accessible,
    assert_no_personal_data,
    customer,
    fits_a_phone,
    shot,
    site,
    submit,
)
from tests.helpers import OWNER, STAFF, event_types

pytestmark = pytest.mark.db


async def _cli_link(site: Site, dev_env: WorkflowEnvironment, name: str) -> str:  # noqa: F811
    """The link `complaints staff link NAME` prints (the URL alone on its last line)."""
    cli = Cli(dev_env, site.ctx.settings)
    cli.env["COMPLAINTS_PUBLIC_URL"] = site.url
    link = (await cli("staff", "link", name)).strip().splitlines()[-1]
    assert link.startswith(f"{site.url}/staff/sign-in/"), link
    return link


async def _phone_signed_in(site: Site, link: str) -> Any:  # noqa: F811
    page = await (await site.device(PHONE)).new_page()
    await page.goto(link)
    await page.get_by_role("button", name="로그인").click()
    await page.wait_for_url(f"{site.url}/staff/")
    return page


async def _open_count(page: Any, url: str) -> int:
    await page.goto(url)
    found = re.search(r"(\d+)건", await page.locator(".count").inner_text())
    assert found, await page.locator(".count").inner_text()
    return int(found[1])


async def _offer(page: Any, plan: str) -> None:
    await page.get_by_label("부분 환불").check()
    await page.get_by_label("제안 내용").fill(plan)
    await submit(page, "#now form")


async def _declined(page: Any, reason: str) -> None:
    await page.get_by_label("거절", exact=True).check()
    await page.get_by_label("거절 이유").fill(reason)
    await submit(page, "#now form")


async def test_day_one_on_the_pages(
    site: Site,  # noqa: F811
    dev_env: WorkflowEnvironment,
    capfd: pytest.CaptureFixture[str],
) -> None:
    site.visited.clear()
    # The owner, at the terminal once: adds the new employee and sends them their link.
    newcomer = f"신입 {uuid.uuid4().hex[:6]}"
    cli = Cli(dev_env, site.ctx.settings)
    await cli("staff", "add", newcomer, "--role", "staff")
    staff_link = await _cli_link(site, dev_env, newcomer)
    owner = await _phone_signed_in(site, await _cli_link(site, dev_env, OWNER))

    # A customer who complained before (the owner took that call on the pages).
    name, phone_number = customer()
    await owner.get_by_role("link", name="새 민원").click()
    await owner.get_by_label("고객 이름").fill(name)
    await owner.get_by_label("전화번호").fill(phone_number)
    await owner.get_by_label("감정 해소").check()
    await owner.get_by_label("무슨 일이 있었나").fill("지난달 주문이 늦게 왔습니다")
    await submit(owner, "form.stack")
    earlier = (await owner.locator(".big-id").inner_text()).strip()

    # The employee opens the link on their phone: signed in, the inbox first.
    page = await _phone_signed_in(site, staff_link)
    assert await page.get_by_role("heading", name="오늘 할 일").is_visible()
    assert newcomer in await page.locator(".top").inner_text()
    before = await _open_count(page, f"{site.url}/staff/")

    # The same customer calls again: the form knows them as the number is typed.
    await page.get_by_role("link", name="새 민원").click()
    await page.get_by_label("전화번호").press_sequentially(phone_number.replace("-", ""))
    returning = page.locator("#returning")
    await returning.get_by_text(name).wait_for()
    assert "이전 민원 1건" in await returning.inner_text()
    assert earlier in await returning.inner_text(), "their open case is shown"
    await fits_a_phone(page)
    await shot(page, "day-one-returning")
    await page.get_by_label("고객 이름").fill(name)
    await page.get_by_label("보상 요구").check()
    await page.get_by_label("무슨 일이 있었나").fill("이번에도 케이크가 찌그러져 왔습니다")
    await submit(page, "form.stack")
    case_id = (await page.locator(".big-id").inner_text()).strip()
    assert re.fullmatch(r"[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}", case_id)
    assert "이전 민원 1" in await page.locator("main").inner_text(), "the case page knows them"
    assert await _open_count(page, f"{site.url}/staff/") == before + 1
    assert case_id in await page.locator("#cases").inner_text() or before + 1 > 20
    mine = await _open_count(page, f"{site.url}/staff/?mine=1")
    assert mine == 1 and case_id in await page.locator("#cases").inner_text()

    # The five steps, and the customer's answers, as the employee takes them on the phone.
    await page.goto(f"{site.url}/staff/cases/{case_id}")
    await page.get_by_label("무엇에 대해 사과했나").fill("또 케이크를 찌그러진 채 보내 죄송합니다")
    await submit(page, "#now form")
    await page.get_by_label("고객이 한 말 (그대로)").fill("두 번째라 너무 실망했어요")
    await submit(page, "#now form")
    await page.get_by_label("원인", exact=True).fill("상자 고정 띠를 빠뜨렸습니다")
    await page.get_by_label("우리 잘못").check()
    await submit(page, "#now form")
    await _offer(page, "절반 환불해 드리겠습니다")
    await _declined(page, "절반은 부족해요")
    await _offer(page, "절반 환불과 다음 주문 할인을 드리겠습니다")
    await _declined(page, "역시 부족해요")
    await fits_a_phone(page)

    # Declined twice: it waits on the owner, who sees it on their phone.
    await owner.get_by_role("link", name="대표 확인").click()
    await owner.wait_for_url(f"{site.url}/staff/owner")
    card = owner.locator(".card", has=owner.locator(f"text={case_id}"))
    assert "두 번 거절" in await card.inner_text()
    await fits_a_phone(owner)
    await accessible(owner)
    await shot(owner, "day-one-owner")

    await page.get_by_label("무료 재작업").check()
    await page.locator("#terms_free_redo").fill("오늘 저녁까지 새 케이크 배달")
    await page.get_by_label("제안 내용").fill("오늘 저녁까지 새 케이크를 보내 드리겠습니다")
    await submit(page, "#now form")
    await page.get_by_label("선택: 무료 재작업").check()
    await submit(page, "#now form")
    await page.get_by_label("재발 방지 조치").fill("포장 마지막에 고정 띠를 두 사람이 확인합니다")
    await submit(page, "#now form")
    await page.get_by_label("5", exact=True).check()
    await submit(page, "#now form")
    assert "이 민원은 끝났습니다" in await page.locator("#now").inner_text()
    await shot(page, "day-one-done")

    # The case has left the inbox: one fewer open, gone from the list and from "mine".
    await page.get_by_role("link", name="오늘 할 일").click()
    await page.wait_for_url(f"{site.url}/staff/")
    assert await _open_count(page, f"{site.url}/staff/") == before
    assert case_id not in await page.locator("#cases").inner_text()
    assert await _open_count(page, f"{site.url}/staff/?mine=1") == 0
    await owner.reload()
    assert case_id not in await owner.locator("main").inner_text(), "nothing waits any more"

    assert_no_personal_data(site.visited, name, phone_number)
    logged = capfd.readouterr()
    assert_no_personal_data([logged.out, logged.err], name, phone_number)
    assert "ClientDisconnect" not in logged.out + logged.err, "a cancelled lookup is no error"
    await page.context.close()
    await owner.context.close()


async def test_mine_is_what_i_opened_or_took_the_latest_step_of(site: Site) -> None:  # noqa: F811
    """Two people on the same shift: each sees their own; who takes a step takes the case
    along, and the one who opened it keeps it in view."""
    staff = await site.signed_in(STAFF, PHONE)
    owner = await site.signed_in(OWNER, PHONE)
    by_staff = await _open(site, staff)
    by_owner = await _open(site, owner)
    await owner.goto(f"{site.url}/staff/cases/{by_staff}")
    await owner.get_by_label("무엇에 대해 사과했나").fill("물이 다시 새서 죄송합니다")
    await submit(owner, "#now form")

    await staff.goto(f"{site.url}/staff/")
    await staff.get_by_text("필터", exact=True).click()
    await staff.get_by_label("내 민원만").check()
    await staff.get_by_role("button", name="적용").click()
    await staff.wait_for_url(re.compile(r".*[?&]mine=1"))
    listed = await staff.locator("#cases").inner_text()
    assert by_staff in listed and by_owner not in listed, "opened by me, handled by the owner"
    assert await staff.get_by_label("내 민원만").is_checked(), "the filter stays as chosen"
    # The poll keeps the filter, and says nobody's name in its URL.
    polled = await staff.locator("#cases").get_attribute("hx-get")
    assert polled.endswith("&mine=1") and STAFF not in urllib.parse.unquote_plus(polled), polled
    await accessible(staff)
    await fits_a_phone(staff)

    await owner.goto(f"{site.url}/staff/?mine=1")
    listed = await owner.locator("#cases").inner_text()
    assert by_staff in listed and by_owner in listed, "my latest step, and what I opened"
    # Only what is mine, in any other filter too.
    await owner.goto(f"{site.url}/staff/?mine=1&case_id={by_owner}")
    assert await owner.locator("#cases .card").count() == 1
    await staff.context.close()
    await owner.context.close()


async def test_the_inbox_shows_held_notices_and_links_to_them(site: Site) -> None:  # noqa: F811
    page = await site.signed_in(STAFF, PHONE)
    case_id = await _open(site, page)
    await page.goto(f"{site.url}/staff/")
    # Held for the night: the inbox says so inside the list it polls, so the next poll
    # brings it without a reload.
    tomorrow = datetime.now(UTC) + timedelta(hours=20)
    await outbox_row(site, case_id, "response_due_soon", "staff", not_before=tomorrow)
    await page.evaluate(  # the 30 s poll, now
        "htmx.ajax('GET', document.querySelector('#cases').getAttribute('hx-get'),"
        " {target: '#cases', swap: 'outerHTML'})"
    )
    strip = page.locator("#cases .held")
    await strip.wait_for()
    said = await strip.inner_text()
    assert re.search(r"보류된 알림 \d+건 · 첫 알림은 .+에 보냄", said), said
    await accessible(page)
    await fits_a_phone(page)
    await shot(page, "phone-inbox-held")
    await strip.get_by_role("link").click()
    await page.wait_for_url(f"{site.url}/staff/notifications")
    assert "대기 중" in await page.locator("main").inner_text()
    # Sent, the strip goes.
    await site.pool.execute("UPDATE notifications SET sent_at = now() WHERE not_before > now()")
    await page.reload()
    assert await page.locator("#cases .held").count() == 0
    await page.context.close()


async def test_staff_ask_the_owner_for_an_override_and_the_owner_sees_it(
    site: Site,  # noqa: F811
) -> None:
    staff = await site.signed_in(STAFF, PHONE)
    case_id = await _to_the_offer(site, staff)
    ask = staff.locator("details.ask-owner")
    await ask.locator("summary").click()
    wanted = ask.locator("input[name=wanted]").first
    kind = await wanted.get_attribute("value")
    # Refused beside the field, what was typed kept: no remedy chosen.
    await ask.get_by_label("요청 이유").fill("10년 단골이라 전액 환불을 원합니다")
    await submit(staff, "details.ask-owner form")
    assert await staff.locator("details.ask-owner .refusal").count() >= 1
    assert await ask.get_by_label("요청 이유").input_value() == "10년 단골이라 전액 환불을 원합니다"
    await wanted.check()
    await submit(staff, "details.ask-owner form")
    assert "대표에게 예외 요청" in await staff.locator(".timeline").inner_text()
    await accessible(staff)
    await fits_a_phone(staff)
    await shot(staff, "phone-ask-owner")
    assert (await event_types(site.pool, case_id))[-1] == "override_requested"
    told = await site.pool.fetch(
        "SELECT recipient, message FROM notifications WHERE case_id = $1 AND kind = $2",
        case_id,
        "override_requested",
    )
    assert [r["recipient"] for r in told] == ["owner"], "the owner hears of it"
    assert case_id in told[0]["message"] and "김민지" not in told[0]["message"]

    owner = await site.signed_in(OWNER, PHONE)
    await owner.get_by_role("link", name="대표 확인").click()
    card = owner.locator(".card", has=owner.locator(f"text={case_id}"))
    assert "예외 요청" in await card.inner_text()
    await fits_a_phone(owner)
    await accessible(owner)
    await shot(owner, "phone-owner-override-asked")
    await card.get_by_role("link").click()
    assert "10년 단골이라" in await owner.locator(".asked").inner_text()
    await owner.locator("details.override summary").click()
    await owner.locator(f"input[name=override_option][value={kind}]").check()
    await owner.get_by_label("정책 밖으로 제안하는 이유").fill("단골 고객, 요청대로 예외 승인")
    await owner.get_by_label("제안 내용").fill("요청하신 대로 해 드리겠습니다")
    await submit(owner, "#now form")
    assert (await event_types(site.pool, case_id))[-2:] == [
        "policy_overridden",
        "resolution_offered",
    ]
    await owner.goto(f"{site.url}/staff/owner")
    assert case_id not in await owner.locator("main").inner_text(), "the offer answered it"
    await staff.context.close()
    await owner.context.close()


async def test_the_other_pages_pass_axe_and_fit_a_phone(site: Site) -> None:  # noqa: F811
    """The pages no other test checks with axe: the sign-in link's page, the sign-in help,
    the new-case form, search results, the sessions list and a refusal (404)."""
    fresh = await (await site.device(PHONE)).new_page()
    for url in (await site.link(STAFF), f"{site.url}/staff/sign-in"):
        await fresh.goto(url)
        await accessible(fresh)
        await fits_a_phone(fresh)
    await fresh.context.close()

    owner = await site.signed_in(OWNER, PHONE)
    name, phone_number = customer()
    await owner.goto(f"{site.url}/staff/cases/new")
    await accessible(owner)
    await fits_a_phone(owner)
    await owner.get_by_label("고객 이름").fill(name)
    await owner.get_by_label("전화번호").fill(phone_number)
    await owner.get_by_label("감정 해소").check()
    await owner.get_by_label("무슨 일이 있었나").fill("주차장 안내가 없었습니다")
    await submit(owner, "form.stack")
    case_id = (await owner.locator(".big-id").inner_text()).strip()
    await owner.goto(f"{site.url}/staff/")
    await owner.get_by_text("전화번호로 찾기").click()
    await owner.get_by_label("고객 전화번호").fill(phone_number)
    await submit(owner, "form.search")
    assert case_id in await owner.locator(".cards").inner_text()
    await accessible(owner)
    await fits_a_phone(owner)
    for path, status in (("/staff/sessions", 200), ("/staff/cases/zzzz-zzzz-zzzz", 404)):
        answer = await owner.goto(f"{site.url}{path}")
        assert answer.status == status, path
        await accessible(owner)
        await fits_a_phone(owner)
    await owner.context.close()


async def test_a_double_tap_on_open_opens_one_case(site: Site) -> None:  # noqa: F811
    """The form's key: the same form sent twice (a second tap before the first answered)
    opens one case, and the second answer says it was opened already."""
    page = await site.signed_in(STAFF, PHONE)
    name, phone_number = customer()
    await page.goto(f"{site.url}/staff/cases/new")
    await page.get_by_label("고객 이름").fill(name)
    await page.get_by_label("전화번호").fill(phone_number)
    await page.get_by_label("감정 해소").check()
    await page.get_by_label("무슨 일이 있었나").fill("주문한 것과 다른 빵이 왔습니다")
    form = {
        field: await page.locator(f"form.stack [name={field}]").input_value()
        for field in ("csrf", "key")
    } | {
        "name": name,
        "phone": phone_number,
        "channel": "phone",
        "motive": "anger",
        "what": "주문한 것과 다른 빵이 왔습니다",
    }
    first = await page.request.post(f"{site.url}/staff/cases", form=form, max_redirects=0)
    second = await page.request.post(f"{site.url}/staff/cases", form=form, max_redirects=0)
    assert first.status == second.status == 303
    opened, again = first.headers["location"], second.headers["location"]
    case_id = opened.split("/staff/cases/", 1)[1].split("?", 1)[0]
    assert again.startswith(f"/staff/cases/{case_id}?") and "again=1" in again, again
    assert "again=1" not in opened
    customer_id = await site.pool.fetchval(
        "SELECT customer_id FROM complaint_cases WHERE case_id = $1", case_id
    )
    assert (
        customer_id is not None
        and await site.pool.fetchval(
            "SELECT count(*) FROM complaint_cases WHERE customer_id = $1", customer_id
        )
        == 1
    ), "one case for the customer"
    await page.goto(f"{site.url}{again}")
    assert case_id in await page.locator(".big-id").inner_text()
    await page.context.close()

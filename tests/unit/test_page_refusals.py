"""The pages say every refusal in the page's language: each refusal the rulebook and the
application layer can raise on a page has its shape in pages/refusals.py, comes out in
Korean under `ko` (no English left in it) and word for word as the CLI says it under `en`."""

import re
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from app import cases
from app.cases import case_id_of, phone_in, validated
from app.identity import OVERRIDE, REPORT, WITHDRAW, Actor, Role, require
from app.inbox import inbox_filter
from app.refusals import Conflict, Refusal, Unavailable
from domain.commands import AnalyzeCause, Apologize, Command, Empathize
from domain.decider import decide
from domain.errors import DomainError
from infra.settings import Settings
from pages import routes
from pages.catalogue import Catalogue
from pages.refusals import known, said
from tests.unit import test_delay
from tests.unit.test_decider import REFUSALS, T0, run

KO, EN = Catalogue("ko"), Catalogue("en")
HANGUL = re.compile(r"[가-힣]")
ENGLISH = re.compile(r"\b(the|is|not|must|case|only|may|waiting|allowed|step|check|give)\b")


def domain_refusals() -> list[Refusal]:
    """Each of the rulebook's refusals, as the application layer hands it to a page."""
    out: list[Refusal] = []
    for before, command, _, _ in REFUSALS:
        with pytest.raises(DomainError) as raised:
            decide(command, run(cast(list[Command], before)), T0 + timedelta(days=1))
        out.append(Conflict(str(raised.value)))
    return out


def refused(call: Callable[[], Any]) -> Refusal:
    with pytest.raises(Refusal) as raised:
        call()
    return raised.value


async def refused_async(call: Callable[[], Any]) -> Refusal:
    with pytest.raises(Refusal) as raised:
        await call()
    return raised.value


def app_refusals() -> list[Refusal]:
    staff, manager = Actor("Lee Jun", Role.STAFF), Actor("Park Mina", Role.MANAGER)
    return [
        refused(lambda: require(staff, OVERRIDE)),
        refused(lambda: require(staff, WITHDRAW)),
        refused(lambda: require(staff, REPORT)),
        refused(lambda: require(manager, OVERRIDE)),
        refused(lambda: case_id_of("no such case!")),
        refused(lambda: phone_in("12", "KR")),
        refused(lambda: phone_in("", "KR")),
        refused(lambda: inbox_filter(status="bogus")),
        refused(lambda: inbox_filter(motive="money")),
        refused(lambda: cases.remedy("a_pony", None)),
        refused(lambda: validated(lambda: Apologize(what=""))),
        refused(lambda: validated(lambda: Apologize(what="x" * 5000))),
        refused(lambda: validated(lambda: Empathize(customer_words="a\x07b"))),
        refused(lambda: validated(lambda: AnalyzeCause(cause=" ", fault="ours"))),  # type: ignore[arg-type]
        refused(lambda: routes._score("five")),
        refused(lambda: routes._day("2026-13-01")),
        Unavailable("cannot reach PostgreSQL: connection refused"),
    ]


async def form_refusals() -> list[Refusal]:
    """The forms' own checks, before anything is read or reaches a case."""
    staff = Actor("Lee Jun", Role.STAFF)
    no_ctx: Any = None  # these refusals come before anything is read
    shop: Any = SimpleNamespace(settings=Settings())

    def opening(**typed: str) -> Callable[[], Any]:
        form = {"name": "Kim Minji", "phone": "010-1234-5678", "channel": "phone"}
        form |= {"motive": "anger", "what": "The cake arrived crushed"} | typed
        return lambda: cases.open_case(
            shop,
            staff,
            name=form["name"],
            phone=form["phone"],
            channel=form["channel"],
            motive=form["motive"],
            what=form["what"],
        )

    return [
        await refused_async(opening(name="")),
        await refused_async(opening(channel="fax", motive="money")),
        await refused_async(opening(what="", phone="12")),
        refused(lambda: routes._filled_in("apology", {"what": "[무엇] 때문에 죄송합니다"})),
        await refused_async(lambda: routes._act(no_ctx, staff, "c0ffee", "answer", {})),
        await refused_async(lambda: routes._act(no_ctx, staff, "c0ffee", "bogus", {})),
    ]


def delay_refusals() -> list[Refusal]:
    """Each refusal of a delay (bad news before the deadline), as the case page shows it."""
    out: list[Refusal] = []
    for steps, now, until, _, _ in test_delay.REFUSED:
        with pytest.raises(DomainError) as raised:
            decide(test_delay.delay(until), test_delay.walked(test_delay.opened(), steps), now)
        out.append(Conflict(str(raised.value)))
    return out


async def every_refusal() -> list[Refusal]:
    return [
        *domain_refusals(),
        *delay_refusals(),
        *app_refusals(),
        *await form_refusals(),
    ]


async def test_every_refusal_a_page_shows_is_said_in_korean_under_ko() -> None:
    for err in await every_refusal():
        assert known(err), f"no shape for: {err.message}"
        text = said(err, KO)
        assert HANGUL.search(text), (err.message, text)
        unquoted = re.sub(r"'[^']*'", "", text)  # what was typed is shown as typed
        assert not ENGLISH.search(unquoted), (err.message, text)
        assert "{" not in text and "}" not in text, text


async def test_english_pages_say_the_line_the_cli_says() -> None:
    for err in await every_refusal():
        assert said(err, EN) == err.message


def test_a_few_lines_word_for_word() -> None:
    out_of_order = Conflict(
        "case 4f7k-q2mx is waiting for analyze cause, not offer resolution; "
        "done so far: apologize, empathize"
    )
    assert said(out_of_order, KO) == (
        "민원 4f7k-q2mx은(는) 원인 분석 단계를 기다립니다(해결책 제시 아님). "
        "지금까지 한 단계: 사과, 공감."
    )
    override = refused(lambda: require(Actor("Lee Jun", Role.STAFF), OVERRIDE))
    assert (
        said(override, KO)
        == "Lee Jun님은 직원 역할이라 할 수 없는 일입니다. 대표만 할 수 있습니다."
    )
    empty = refused(lambda: validated(lambda: Apologize(what="")))
    assert said(empty, KO) == "내용: 비어 있습니다. 적어 주세요."
    phone = refused(lambda: phone_in("12", "KR"))
    assert (
        said(phone, KO)
        == "전화번호: 번호를 확인해 주세요 (예: 010-1234-5678, 해외 번호는 +로 시작)."
    )


def test_an_invisible_character_is_called_invisible() -> None:
    hidden = refused(lambda: validated(lambda: Apologize(what="죄송\u200b합니다")))
    assert said(hidden, KO) == (
        "내용: 3번째 글자 자리에 눈에 보이지 않는 문자(U+200B)가 있습니다. 그 부분을 지우고 "
        "다시 입력해 주세요."
    )


def test_a_starter_phrase_saved_with_its_blank_is_refused() -> None:
    starter = KO("starter.apologize.compensation")
    blank = refused(lambda: routes._filled_in("apology", {"what": starter}))
    assert said(blank, KO) == "내용: [무엇] 자리를 실제 내용으로 바꿔 주세요."
    assert blank.message == "what: replace [무엇] with what happened"
    routes._filled_in("apology", {"what": "케이크를 찌그러뜨려 죄송합니다"})  # filled in: fine
    routes._filled_in("apology", {"what": "[주문 1234] 케이크를 찌그러뜨려 죄송합니다"})
    routes._filled_in("answer", {"answer": "decline"})  # no starter phrase there


def test_a_line_of_no_known_shape_is_said_by_its_kind_never_in_english() -> None:
    odd = Conflict("something nobody planned for happened")
    assert not known(odd)
    assert said(odd, KO) == KO("refusal.kind.conflict")
    assert said(Refusal("?"), KO) == KO("refusal.kind.refused")

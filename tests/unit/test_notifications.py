from datetime import UTC, datetime, timedelta

import pytest

from domain.commands import Apologize, CheckClock
from domain.decider import decide, fold
from domain.events import (
    CaseReopened,
    CustomerWaitExceeded,
    Escalated,
    Event,
    FollowUpDue,
    ImprovementReported,
    OverrideRequested,
    ResponseDueSoon,
)
from domain.model import Customer, IntakeChannel, RemedyKind, Step
from domain.notifications import keep_in_touch_call, notices_for
from domain.policy import escalation_contact
from domain.wording import name, when
from tests.helpers import open_command

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_notices_name_the_case_and_step_but_never_the_customer(language: str) -> None:
    state = fold(decide(open_command("c0ffee"), None, T0))
    [breach] = decide(CheckClock(), state, T0 + timedelta(hours=25))
    after = fold([breach], state)
    [notice] = notices_for(breach, after, language, ("manager", "owner"))
    assert (notice.kind, notice.recipient, notice.data["level"]) == ("escalated", "manager", 1)
    step_name = {"ko": "사과", "en": "apology"}[language]
    assert "c0ffee" in notice.message and step_name in notice.message
    assert "Kim" not in notice.message and "1234" not in notice.message
    assert notices_for(decide(Apologize(what="x"), after, T0)[0], after) == []


def test_escalation_contacts_by_level_stay_at_the_last() -> None:
    contacts = ("manager", "owner")
    assert [escalation_contact(n, contacts) for n in (1, 2, 3)] == ["manager", "owner", "owner"]
    with pytest.raises(ValueError, match=r"^escalation levels start at 1$"):
        escalation_contact(0, contacts)


CONTACTS = ("team lead", "manager", "shop owner")  # a shop's own, not the default
DUE = T0 + timedelta(hours=24)
# Each kind of notice: the event, who hears of it, and what it carries besides the case.
NOTICES = [
    (
        ResponseDueSoon(at=T0, step=Step.EMPATHIZE, due_at=DUE),
        "response_due_soon",
        "staff",
        {"step": "empathize", "due": "2026-11-23T18:00+09:00"},
    ),
    (
        Escalated(at=T0, step=Step.ANALYZE_CAUSE, level=2, missed_due_at=DUE),
        "escalated",
        "manager",
        {"step": "analyze_cause", "level": 2, "due": "2026-11-23T18:00+09:00"},
    ),
    (
        Escalated(at=T0, step=Step.OFFER_RESOLUTION, level=3, reason="declined_twice"),
        "declined_twice",
        "shop owner",
        {"step": "offer_resolution", "level": 3},
    ),
    (
        CustomerWaitExceeded(at=DUE, offered_at=T0),
        "customer_wait_exceeded",
        "staff",
        {"since": "2026-11-22T18:00+09:00"},
    ),
    (
        # Told whom a second decline is told (the top level): the one who may override.
        OverrideRequested(
            at=DUE,
            kinds=(RemedyKind.FULL_REFUND, RemedyKind.GOODWILL_GIFT),
            reason="Regular",
            by="Jisoo",
        ),
        "override_requested",
        "manager",  # this shop's contact at level 2, its top
        {"kinds": "full_refund,goodwill_gift"},
    ),
    (FollowUpDue(at=DUE), "follow_up_due", "staff", {}),
    (CaseReopened(at=DUE, score=2), "case_reopened", "staff", {"score": 2}),
    (
        ImprovementReported(at=DUE, measure="Allergens on the menu"),
        "improvement_reported",
        "customer",
        # Who, not how to reach them: the sender looks the number up in PostgreSQL.
        {
            "measure": "Allergens on the menu",
            "channel": "kakaotalk",
            "customer_id": "cus-kim-minji",
        },
    ),
]


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize(
    ("event", "kind", "recipient", "data"), NOTICES, ids=[n[1] for n in NOTICES]
)
def test_every_notice_kind_names_its_recipient_and_carries_the_case(
    language: str, event: Event, kind: str, recipient: str, data: dict[str, str | int]
) -> None:
    state = fold(decide(open_command("c0ffee", channel=IntakeChannel.KAKAOTALK), None, T0))
    assert state is not None
    [notice] = notices_for(event, state, language, CONTACTS)
    assert (notice.kind, notice.recipient, notice.case_id) == (kind, recipient, "c0ffee")
    assert notice.data == {"case_id": "c0ffee", "motive": "compensation", **data}
    assert "{" not in notice.message and "}" not in notice.message
    if recipient == "customer":  # the customer reads what changed, not our case number
        assert "Allergens on the menu" in notice.message
    else:  # staff read which case, and never the customer's name or number
        assert "c0ffee" in notice.message
        assert "Kim" not in notice.message and "1234" not in str(notice.data)


def test_notices_are_in_korean_unless_the_shop_says_otherwise() -> None:
    state = fold(decide(open_command("c0ffee"), None, T0))
    assert state is not None
    event = CaseReopened(at=T0, score=1)
    [korean] = notices_for(event, state)
    assert korean == notices_for(event, state, "ko")[0]
    assert "다시 열렸습니다" in korean.message
    assert "reopened" in notices_for(event, state, "en")[0].message


def test_an_escalation_recorded_without_its_missed_time_still_notifies() -> None:
    """Histories from before `missed_due_at` existed replay with it empty."""
    state = fold(decide(open_command("c0ffee"), None, T0))
    assert state is not None
    [notice] = notices_for(Escalated(at=T0, step=Step.APOLOGIZE, level=1), state, "en")
    assert (notice.recipient, notice.data["due"]) == ("manager", "")
    assert notice.message == "Case c0ffee is overdue on the apology (level 1). Please take it over."


def test_a_case_opened_before_customer_references_still_tells_its_customer() -> None:
    """Such cases carry the name and phone in their opening; their notice keeps the number."""
    legacy = open_command("c0ffee", channel=IntakeChannel.KAKAOTALK).model_copy(
        update={"customer_id": None, "customer": Customer(name="Kim", phone="010-1234-5678")}
    )
    state = fold(decide(legacy, None, T0))
    assert state is not None
    [notice] = notices_for(ImprovementReported(at=DUE, measure="Menus"), state, "en", CONTACTS)
    assert notice.data["to"] == "+821012345678" and "customer_id" not in notice.data


def test_a_regular_customer_no_message_may_reach_is_a_call_for_staff() -> None:
    last = datetime(2026, 11, 24, 6, 25, tzinfo=UTC)  # 15:25 in Seoul
    ko = keep_in_touch_call("cus-7hx2", 4, last, "Asia/Seoul")  # Korean unless asked
    en = keep_in_touch_call("cus-7hx2", 4, last, "Asia/Seoul", "en")
    seen = when(last, "Asia/Seoul", "ko")
    assert ko.startswith(f"안부 연락: 단골 고객 cus-7hx2(방문 4회)의 마지막 방문은 {seen}입니다.")
    assert "안부 전화를 드려 주세요" in ko
    assert en.startswith(
        "Keep in touch: regular customer cus-7hx2 (4 visits) was last here "
        f"{when(last, 'Asia/Seoul', 'en')}. No message went to them"
    )


def test_an_override_request_names_each_remedy_asked_for_in_words() -> None:
    state = fold(decide(open_command("c0ffee"), None, T0))
    assert state is not None
    kinds = (RemedyKind.FULL_REFUND, RemedyKind.GOODWILL_GIFT)
    event = OverrideRequested(at=DUE, kinds=kinds, reason="Regular", by="Jisoo")
    [notice] = notices_for(event, state, "en", CONTACTS)
    named = ", ".join(name(k.value, "en") for k in kinds)
    assert f"staff ask you to offer {named}, which" in notice.message

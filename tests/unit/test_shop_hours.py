"""The shop's hours in the rulebook: notices in its language and zone, held outside its
hours, a night's calm before a public reply, targets counted per step, no endless wait."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import BusinessCalendar, OpeningHours, QuietHours
from domain.clock import Due, next_deadline
from domain.commands import (
    AnalyzeCause,
    Apologize,
    CheckClock,
    Empathize,
    OfferedRemedy,
    OfferResolution,
)
from domain.decider import decide, evolve, fold
from domain.events import (
    Apologized,
    CaseClosed,
    CustomerWaitExceeded,
    Escalated,
    ImprovementReported,
    ResponseDueSoon,
)
from domain.model import (
    CarePolicy,
    CaseState,
    Fault,
    IntakeChannel,
    Motive,
    RemedyKind,
    ResponseTargets,
    Step,
)
from domain.notifications import CUSTOMER, Notice, held_until, notices_for
from domain.wording import NAMES, name, when
from tests.helpers import open_command

SEOUL = ZoneInfo("Asia/Seoul")
TEN_TO_SEVEN = OpeningHours(opens=time(10), closes=time(19))
SHOP = BusinessCalendar(zone="Asia/Seoul", hours=(TEN_TO_SEVEN,) * 5 + (None, None))
CARE = CarePolicy(
    quiet_hours=QuietHours(start=time(21), end=time(9), zone="Asia/Seoul"),
    hold_staff_notices=True,
    review_cool_off=timedelta(hours=8),
    unanswered_close_after=timedelta(days=14),
)


def kst(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SEOUL)


def opened(
    at: datetime,
    motive: Motive = Motive.COMPENSATION,
    channel: IntakeChannel = IntakeChannel.PHONE,
    care: CarePolicy = CARE,
    **targets: object,
) -> CaseState:
    command = open_command("c0ffee", motive=motive, channel=channel)
    command = command.model_copy(
        update={
            "targets": command.targets.model_copy(update={"calendar": SHOP, **targets}),
            "care": care,
        }
    )
    state = fold(decide(command, None, at))
    assert state is not None
    return state


def act(state: CaseState, command: object, at: datetime) -> CaseState:
    for event in decide(command, state, at):  # type: ignore[arg-type]
        state = evolve(state, event)
    return state


# -- one language, the shop's time ---------------------------------------------------------


def test_a_notice_reads_in_one_language_with_the_shops_local_time() -> None:
    state = opened(kst(11, 23, 15, 25))
    [warning] = decide(CheckClock(), state, kst(11, 24, 9, 25))
    assert isinstance(warning, ResponseDueSoon)
    [notice] = notices_for(warning, evolve(state, warning), "ko")
    assert notice.message == (
        "민원 c0ffee: '사과' 단계 응답 기한은 11월 24일 (화) 오후 3:25입니다 (보상 요구). "
        "기한 전에 응대해 주세요."
    )
    assert notice.data["due"] == "2026-11-24T15:25+09:00"  # for scripts: ISO with the offset
    [english] = notices_for(warning, evolve(state, warning), "en")
    assert "the apology is due by Tue, Nov 24, 3:25 PM (compensation)" in english.message


def test_every_name_has_both_languages() -> None:
    assert NAMES["ko"].keys() == NAMES["en"].keys()
    codes = [s.value for s in Step] + [m.value for m in Motive]
    assert all(name(code, "ko") != code for code in codes)


@pytest.mark.parametrize("zone", ["Asia/Seoul", "Europe/Berlin", "America/New_York"])
def test_times_are_written_in_the_shops_zone(zone: str) -> None:
    t = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    local = t.astimezone(ZoneInfo(zone))
    assert when(t, zone, "en").endswith(local.strftime("%-I:%M %p"))


# -- who may be told when --------------------------------------------------------------------


def staff_notice(
    kind: str = "response_due_soon", recipient: str = "staff", **data: object
) -> Notice:
    return Notice(kind=kind, recipient=recipient, case_id="c0ffee", message="m", data=data)  # type: ignore[arg-type]


def test_a_staff_reminder_written_on_friday_night_waits_for_monday_opening() -> None:
    state = opened(kst(11, 20, 9))
    assert held_until(staff_notice(), state, kst(11, 20, 20)) == kst(11, 23, 10)
    assert held_until(staff_notice(), state, kst(11, 20, 11)) is None  # open: at once


def test_a_customer_message_waits_for_the_end_of_quiet_hours_only() -> None:
    state = opened(kst(11, 20, 9))
    customer = staff_notice("improvement_reported", CUSTOMER)
    assert held_until(customer, state, kst(11, 21, 22)) == kst(11, 22, 9)  # Sunday 09:00
    assert held_until(customer, state, kst(11, 21, 12)) is None  # a Saturday noon is fine


def test_escalations_at_night_wait_unless_others_need_protecting_or_the_owner_says_so() -> None:
    night = kst(11, 24, 2)
    owner = staff_notice("escalated", "owner", level=2)
    manager = staff_notice("escalated", "manager", level=1)
    assert held_until(owner, opened(kst(11, 23, 9)), night) == kst(11, 24, 10)
    assert held_until(manager, opened(kst(11, 23, 9), Motive.PROTECT_OTHERS), night) is None
    assert held_until(owner, opened(kst(11, 23, 9), Motive.PROTECT_OTHERS), night) is None
    woken = CARE.model_copy(update={"owner_at_night": True})
    assert held_until(owner, opened(kst(11, 23, 9), care=woken), night) is None
    assert held_until(manager, opened(kst(11, 23, 9), care=woken), night) == kst(11, 24, 10)


def test_a_case_opened_before_these_rules_holds_nothing() -> None:
    state = opened(kst(11, 20, 9), care=CarePolicy())
    assert held_until(staff_notice(), state, kst(11, 20, 23)) is None
    assert (
        held_until(staff_notice("improvement_reported", CUSTOMER), state, kst(11, 20, 23)) is None
    )


# -- a night before a public reply ------------------------------------------------------------


def test_a_review_reply_is_drafted_now_and_posted_after_a_night_at_an_opening() -> None:
    # Friday 18:55 on a review: the reply is recorded now, posted Monday 10:00 (Saturday
    # 02:55 is 8 hours on, and the shop next opens on Monday).
    state = opened(kst(11, 20, 17), channel=IntakeChannel.REVIEW)
    [apology] = decide(
        Apologize(what="We are sorry about the cold soup"), state, kst(11, 20, 18, 55)
    )
    assert isinstance(apology, Apologized) and apology.post_from == kst(11, 23, 10)
    after = evolve(state, apology)
    assert after.apology == "We are sorry about the cold soup"
    assert after.done[0].at == kst(11, 20, 18, 55)  # the response counts when drafted
    assert after.reply_post_from == kst(11, 23, 10)
    # The customer sees the reply on Monday: the next step's 24 hours run from there.
    assert (after.window_started_at, after.response_due_at) == (kst(11, 23, 10), kst(11, 24, 10))
    [notice] = notices_for(apology, after, "en")
    assert notice.kind == "reply_may_be_posted" and notice.recipient == "staff"
    assert held_until(notice, after, apology.at) == kst(11, 23, 10)


def test_only_a_review_waits_and_only_when_the_rulebook_says_so() -> None:
    phone = opened(kst(11, 20, 17))
    assert decide(Apologize(what="Sorry"), phone, kst(11, 20, 18))[0].post_from is None  # type: ignore[union-attr]
    calm_off = opened(kst(11, 20, 17), channel=IntakeChannel.REVIEW, care=CarePolicy())
    [event] = decide(Apologize(what="Sorry"), calm_off, kst(11, 20, 18))
    assert isinstance(event, Apologized) and event.post_from is None
    assert notices_for(event, evolve(calm_off, event)) == []


# -- no case waits forever ---------------------------------------------------------------------


def offered(at: datetime) -> CaseState:
    state = opened(at)
    state = act(state, Apologize(what="Sorry"), at)
    state = act(state, Empathize(customer_words="Cold"), at)
    state = act(state, AnalyzeCause(cause="Late van", fault=Fault.OURS), at)
    return act(
        state,
        OfferResolution(options=[OfferedRemedy(kind=RemedyKind.FULL_REFUND)], plan="Refund"),
        at,
    )


def test_an_offer_never_answered_closes_the_case_as_unanswered_after_the_wait() -> None:
    at = kst(11, 2, 11)
    state = offered(at)
    state = act(state, CheckClock(), at + timedelta(hours=73))  # the 72-hour reminder first
    assert state.customer_reminded and state.status == "awaiting_customer"
    deadline = next_deadline(state)
    assert deadline is not None and deadline.due == Due.UNANSWERED
    assert deadline.at == at + timedelta(days=14)
    assert decide(CheckClock(), state, at + timedelta(days=14) - timedelta(seconds=1)) == []
    [closed] = decide(CheckClock(), state, at + timedelta(days=14))
    assert isinstance(closed, CaseClosed) and closed.reason == "unanswered"
    after = evolve(state, closed)
    assert (after.status, after.closed_reason, next_deadline(after)) == (
        "closed",
        "unanswered",
        None,
    )
    [notice] = notices_for(closed, after, "ko")
    assert (notice.kind, notice.recipient) == ("closed_unanswered", "staff")
    assert "11월 2일 (월) 오전 11:00" in notice.message


def test_without_the_rule_an_unanswered_offer_waits_as_before() -> None:
    state = opened(kst(11, 2, 11), care=CarePolicy())
    assert all(d.due != Due.UNANSWERED for d in [next_deadline(state)] if d)


# -- targets counted per step ------------------------------------------------------------------


def test_a_step_can_count_wall_hours_while_the_others_count_business_hours() -> None:
    # A review at Friday 17:00: the apology within 4 wall-clock hours (21:00), the steps after
    # it in 8 business hours.
    state = opened(
        kst(11, 20, 17),
        motive=Motive.PROTECT_OTHERS,
        first_target=timedelta(hours=4),
        target=timedelta(hours=8),
        mode="business",
        step_modes={Step.APOLOGIZE: "wall"},
    )
    assert state.response_due_at == kst(11, 20, 21)
    assert state.warn_at == kst(11, 20, 20)
    state = act(state, Apologize(what="Sorry"), kst(11, 20, 18))
    assert state.response_due_at == kst(11, 23, 17)  # 1 h Friday + 7 h Monday
    [breach] = decide(CheckClock(), state, kst(11, 23, 17))
    assert isinstance(breach, Escalated)
    assert evolve(state, breach).response_due_at == kst(11, 24, 16)  # 2 h Monday, 6 h Tuesday


def test_business_time_for_a_step_needs_the_calendar() -> None:
    with pytest.raises(ValueError, match="business-time targets need the shop's calendar"):
        ResponseTargets(step_modes={Step.APOLOGIZE: "business"})


def test_improvement_report_is_a_customer_notice() -> None:
    state = opened(kst(11, 20, 9))
    [notice] = notices_for(ImprovementReported(at=kst(11, 20, 22), measure="Menus"), state, "en")
    assert notice.recipient == CUSTOMER


# -- small rules the cases above leave open (mutation testing found them) ---------------------


def test_a_later_step_counted_on_the_wall_clock_keeps_its_own_mode_through_every_window() -> None:
    state = opened(
        kst(11, 20, 9),
        target=timedelta(hours=8),
        mode="business",
        step_modes={Step.EMPATHIZE: "wall"},
    )
    assert state.response_due_at == kst(11, 20, 18)  # apologize: business, from 10:00
    state = act(state, Apologize(what="Sorry"), kst(11, 20, 18))
    assert state.response_due_at == kst(11, 21, 2)  # empathize: 8 wall-clock hours
    [warning] = decide(CheckClock(), state, kst(11, 21, 0))
    state = evolve(state, warning)
    [breach] = decide(CheckClock(), state, kst(11, 21, 2))
    after = evolve(state, breach)
    assert after.response_due_at == kst(11, 21, 10)  # the fresh window: wall-clock again
    after = act(after, Empathize(customer_words="Cold"), kst(11, 21, 11))
    assert after.done[1].due_at == kst(11, 21, 2)  # its first target, on the wall clock
    assert after.response_due_at == kst(11, 23, 18)  # analyze: business again (Monday)


def test_the_unanswered_deadline_names_itself_for_the_ui() -> None:
    state = act(offered(kst(11, 2, 11)), CheckClock(), kst(11, 5, 12))
    deadline = next_deadline(state)
    assert deadline is not None and deadline.label == "customer's answer: closes as unanswered"


def test_every_message_time_is_the_events_own_in_the_cases_zone() -> None:
    berlin = BusinessCalendar(zone="Europe/Berlin", hours=(TEN_TO_SEVEN,) * 5 + (None, None))
    command = open_command("c0ffee")
    command = command.model_copy(
        update={"targets": command.targets.model_copy(update={"calendar": berlin}), "care": CARE}
    )
    state = fold(decide(command, None, kst(11, 2, 11)))
    assert state is not None
    escalation = Escalated(
        at=kst(11, 3, 12), step=Step.APOLOGIZE, level=1, missed_due_at=kst(11, 3, 11)
    )
    [notice] = notices_for(escalation, state, "en", zone="Asia/Seoul")
    assert notice.message.endswith("it was due by Tue, Nov 3, 3:00 AM. Please take it over.")
    assert notice.data["due"] == "2026-11-03T03:00+01:00"
    wait = CustomerWaitExceeded(at=kst(11, 5, 12), offered_at=kst(11, 2, 11))
    [waited] = notices_for(wait, state, "en")
    assert "since Mon, Nov 2, 3:00 AM" in waited.message


def test_closed_unanswered_and_reply_notices_say_when() -> None:
    at = kst(11, 2, 11)
    state = offered(at)
    [closed] = decide(
        CheckClock(), act(state, CheckClock(), at + timedelta(days=4)), at + timedelta(days=14)
    )
    [notice] = notices_for(closed, evolve(state, closed), "en")
    assert notice.data["since"] == "2026-11-02T11:00+09:00"
    assert "since Mon, Nov 2, 11:00 AM" in notice.message
    review = opened(kst(11, 20, 17), channel=IntakeChannel.REVIEW)
    [apology] = decide(Apologize(what="Sorry"), review, kst(11, 20, 18, 55))
    [posted] = notices_for(apology, evolve(review, apology), "en")
    assert posted.message.endswith("may be posted now (from Mon, Nov 23, 10:00 AM).")


def test_a_review_without_a_calendar_cools_off_on_the_wall_clock() -> None:
    command = open_command("c0ffee", channel=IntakeChannel.REVIEW).model_copy(update={"care": CARE})
    state = fold(decide(command, None, kst(11, 20, 17)))
    assert state is not None
    [apology] = decide(Apologize(what="Sorry"), state, kst(11, 20, 18, 55))
    assert isinstance(apology, Apologized) and apology.post_from == kst(11, 21, 2, 55)


def test_a_name_without_a_translation_stays_as_it_is() -> None:
    assert name("kakaotalk", "ko") == "kakaotalk"

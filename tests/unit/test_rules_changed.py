"""A case takes the shop's new rules from the moment they change: the time its step has
used stays used, the rest of the (new) target is counted under the new rules, what fired
stays fired, and nothing is recorded when nothing changed."""

from datetime import UTC, date, datetime, time, timedelta

from domain.calendar import BusinessCalendar, OpeningHours
from domain.commands import ChangeRules, CheckClock, RecordDelay, Withdraw
from domain.decider import decide, evolve, fold
from domain.events import RulesChanged
from domain.model import CaseState, ResponseTargets
from tests.helpers import open_command

HOUR = timedelta(hours=1)
T0 = datetime(2026, 12, 7, 5, tzinfo=UTC)  # Monday 14:00 in Seoul
SHOP = BusinessCalendar(
    zone="Asia/Seoul", hours=(OpeningHours(opens=time(10), closes=time(19)),) * 5 + (None, None)
)


def opened(targets: ResponseTargets) -> CaseState:
    command = open_command("case-1").model_copy(update={"targets": targets})
    state = fold(decide(command, None, T0))
    assert state is not None
    return state


def change(state: CaseState, targets: ResponseTargets, at: datetime) -> CaseState:
    events = decide(ChangeRules(targets=targets, care=state.care, reason="test"), state, at)
    assert [type(e) for e in events] == [RulesChanged]
    return evolve(state, events[0])


def test_a_raised_target_keeps_the_time_used_and_counts_the_rest() -> None:
    state = opened(ResponseTargets(target=24 * HOUR))
    moved = change(state, ResponseTargets(target=48 * HOUR), T0 + 2 * HOUR)
    assert moved.response_due_at == T0 + 48 * HOUR
    assert moved.targets.target == 48 * HOUR


def test_a_closure_moves_a_business_due_time_past_the_closed_day() -> None:
    business = ResponseTargets(target=7 * HOUR, mode="business", calendar=SHOP)
    state = opened(business)
    assert state.response_due_at == datetime(2026, 12, 8, 3, tzinfo=UTC)  # Tue 12:00 KST
    closed = SHOP.model_copy(update={"closures": (date(2026, 12, 8),)})
    moved = change(state, business.model_copy(update={"calendar": closed}), T0 + HOUR)
    assert moved.response_due_at == datetime(2026, 12, 9, 3, tzinfo=UTC)  # Wed 12:00 KST


def test_a_lowered_target_already_used_up_falls_due_at_once_not_in_the_past() -> None:
    state = opened(ResponseTargets(target=24 * HOUR))
    at = T0 + 10 * HOUR
    moved = change(state, ResponseTargets(target=4 * HOUR), at)
    assert moved.response_due_at == at
    assert [e.type for e in decide(CheckClock(), moved, at)] == ["escalated"]


def test_a_time_promised_to_the_customer_stays_until_it_is_missed() -> None:
    state = opened(ResponseTargets(target=24 * HOUR))
    promised_at = T0 + 30 * HOUR
    delay = RecordDelay(until=promised_at, reason="The oven broke", by="Park")
    delayed = fold(decide(delay, state, T0 + HOUR), state)
    assert delayed is not None
    kept = change(delayed, ResponseTargets(target=48 * HOUR), T0 + 2 * HOUR)
    assert kept.response_due_at == promised_at, "new rules do not move a promise"
    assert kept.targets.target == 48 * HOUR
    missed = fold(decide(CheckClock(), kept, promised_at), kept)
    assert missed is not None and missed.escalation_level == 1
    recounted = change(missed, ResponseTargets(target=72 * HOUR), promised_at + HOUR)
    assert recounted.response_due_at == promised_at + 72 * HOUR, "a missed promise: counted"


def test_what_fired_stays_fired() -> None:
    state = opened(ResponseTargets(target=24 * HOUR))
    warned = fold(decide(CheckClock(), state, T0 + 19 * HOUR), state)
    assert warned is not None and warned.warned
    moved = change(warned, ResponseTargets(target=48 * HOUR), T0 + 20 * HOUR)
    assert moved.warned and moved.response_due_at == T0 + 48 * HOUR


def test_unchanged_rules_or_an_ended_case_record_nothing() -> None:
    state = opened(ResponseTargets(target=24 * HOUR))
    same = ChangeRules(targets=state.targets, care=state.care, reason="test")
    assert decide(same, state, T0 + HOUR) == []
    ended = fold(decide(Withdraw(reason="settled"), state, T0 + HOUR), state)
    other = ChangeRules(targets=ResponseTargets(target=48 * HOUR), care=state.care, reason="x")
    assert decide(other, ended, T0 + 2 * HOUR) == []

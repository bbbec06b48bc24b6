"""Bad news before the deadline: staff announce a delay of the step now due before its
target passes; the customer hears of it at once, the target moves, and the first delay
grants the policy's delay compensation."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.clock import next_deadline, staff_due_at
from domain.commands import (
    AnalyzeCause,
    Apologize,
    Command,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    RecordDelay,
    ShowPrevention,
)
from domain.decider import decide, evolve
from domain.effects import effects
from domain.errors import DeadlinePassed, NoTargetToDelay, StepOutOfOrder
from domain.events import DelayRecorded
from domain.model import CarePolicy, CaseState, Fault, RemedyKind, RemedyTerms, Step
from tests.helpers import open_command

T0 = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # Monday 09:00 in Seoul
UNTIL = T0 + timedelta(hours=30)
WALK_TO_REDO: list[Command] = [
    Apologize(what="The cake arrived crushed"),
    Empathize(customer_words="It was for my daughter's birthday"),
    AnalyzeCause(cause="The box was not strapped in the van", fault=Fault.OURS),
    OfferResolution(options=[OfferedRemedy(kind=RemedyKind.FREE_REDO)], plan="A new cake"),
    RecordCustomerResponse(choice=RemedyKind.FREE_REDO),
]


def opened(care: CarePolicy | None = None) -> CaseState:
    command = open_command("d3lay")
    if care is not None:
        command = command.model_copy(update={"care": care})
    state: CaseState | None = None
    for event in decide(command, None, T0):
        state = evolve(state, event)
    assert state is not None
    return state


def walked(state: CaseState, commands: list[Command], at: datetime = T0) -> CaseState:
    for command in commands:
        for event in decide(command, state, at):
            state = evolve(state, event)
    return state


def delay(until: datetime = UNTIL, reason: str = "The oven broke") -> RecordDelay:
    return RecordDelay(until=until, reason=reason, by="Park")


def test_a_delay_moves_the_target_and_grants_the_policy_compensation_once() -> None:
    state = walked(opened(), WALK_TO_REDO)  # the redo (prevention step) is due at T0 + 24 h
    original = state.response_due_at
    assert state.next_step == Step.SHOW_PREVENTION and original == T0 + timedelta(hours=24)
    (event,) = decide(delay(), state, T0 + timedelta(hours=20))
    assert isinstance(event, DelayRecorded)
    assert (event.step, event.missed_due_at, event.due_at) == (
        Step.SHOW_PREVENTION,
        original,
        UNTIL,
    )
    assert event.compensation is not None
    assert event.compensation.kind == RemedyKind.DELAY_DISCOUNT
    assert "10 %" in event.compensation.terms
    after = evolve(state, event)
    assert after.response_due_at == UNTIL and staff_due_at(after) == UNTIL
    assert (after.delayed_from, after.delays) == (original, 1)
    assert after.delay_compensation == event.compensation
    deadline = next_deadline(after)
    assert deadline is not None and deadline.at > original, "the clock sleeps to the new time"
    later = UNTIL + timedelta(hours=5)
    (again,) = decide(delay(later), after, T0 + timedelta(hours=25))
    assert isinstance(again, DelayRecorded) and again.compensation is None, "granted once"
    twice = evolve(after, again)
    assert (twice.delays, twice.delayed_from) == (2, original)


def test_the_step_done_after_its_first_target_still_counts_as_late() -> None:
    state = walked(opened(), WALK_TO_REDO)
    state = evolve(state, decide(delay(), state, T0 + timedelta(hours=20))[0])
    done = walked(state, [ShowPrevention(measure="Boxes strapped")], T0 + timedelta(hours=28))
    assert done.done[-1].due_at == T0 + timedelta(hours=24) and not done.done[-1].within_target
    assert done.delayed_from is None, "the next step starts without a delay"


def test_the_delay_discount_is_not_offered_again_once_a_delay_granted_it() -> None:
    state = opened()
    state = evolve(state, decide(delay(), state, T0 + timedelta(hours=1))[0])
    late = T0 + timedelta(hours=26)  # apologized after the first target: breached
    state = walked(state, WALK_TO_REDO[:3], late)
    assert state.breached and not state.delay_discount_due
    with pytest.raises(Exception, match="delay_discount is not offered"):
        decide(
            OfferResolution(
                options=[OfferedRemedy(kind=RemedyKind.DELAY_DISCOUNT)], plan="10 % off"
            ),
            state,
            late,
        )


REFUSED: list[tuple[list[Command], datetime, datetime, type, str]] = [
    ([], T0 + timedelta(hours=25), UNTIL, DeadlinePassed, "before the deadline"),
    ([], T0 + timedelta(hours=1), T0 + timedelta(hours=23), StepOutOfOrder, "later time"),
    ([], T0, T0 + timedelta(days=31), StepOutOfOrder, "more than 30 days"),
    (WALK_TO_REDO[:4], T0, UNTIL, NoTargetToDelay, "customer is deciding"),
    (
        [*WALK_TO_REDO[:5], ShowPrevention(measure="Vans get straps")],
        T0,
        UNTIL,
        NoTargetToDelay,
        "follow-up call is ahead",
    ),
]


@pytest.mark.parametrize(("steps", "now", "until", "refusal", "words"), REFUSED)
def test_a_delay_is_refused_when_it_is_not_bad_news_before_a_deadline(
    steps: list[Command], now: datetime, until: datetime, refusal: type, words: str
) -> None:
    state = walked(opened(), steps)
    with pytest.raises(refusal, match=words):
        decide(delay(until), state, now)


def test_a_delay_needs_a_time_with_its_zone_and_a_short_reason() -> None:
    with pytest.raises(ValidationError, match="offset"):
        RecordDelay(until=datetime(2026, 12, 8, 15, 0), reason="late")
    with pytest.raises(ValidationError):
        RecordDelay(until=UNTIL, reason="x" * 301)
    with pytest.raises(ValidationError):
        RecordDelay(until=UNTIL, reason="   ")


def test_the_customer_is_told_at_once_with_reason_time_compensation_and_a_status_link() -> None:
    care = CarePolicy(customer_messages=True, remedies=RemedyTerms(delay_discount_percent=15))
    state = walked(opened(care), WALK_TO_REDO)
    (event,) = decide(delay(), state, T0 + timedelta(hours=20))
    _, outgoing = effects(state, event)
    ((notice, not_before),) = outgoing
    assert (notice.kind, notice.recipient, not_before) == ("delay_announced", "customer", None)
    assert notice.data["reason"] == "The oven broke" and notice.data["link"] == "status"
    assert "15%" in str(notice.data["compensation"]) and "d3lay" in notice.message
    assert "The oven broke" in notice.message and notice.message.endswith("#{link}")

"""The case's clock: which timers run, what they are called, and when staff owe something."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import deadlines, next_deadline, staff_due_at
from domain.commands import (
    AnalyzeCause,
    Apologize,
    CheckClock,
    Command,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    RecordSatisfaction,
    ShowPrevention,
    Withdraw,
)
from domain.decider import decide, evolve
from domain.model import CaseState, CaseStatus, Fault, Motive, RemedyKind
from domain.policy import response_targets
from tests.helpers import open_command

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def resolved(remedy: RemedyKind) -> list[tuple[timedelta, Command]]:
    """A walk to prevention in which the customer takes the one `remedy` offered."""
    return [
        (HOUR, Apologize(what="Sorry the sink still leaks")),
        (HOUR, Empathize(customer_words="The kitchen flooded again")),
        (HOUR, AnalyzeCause(cause="Seal fitted dry", fault=Fault.OURS)),
        (HOUR, OfferResolution(options=[OfferedRemedy(kind=remedy)], plan="As agreed")),
        (HOUR, RecordCustomerResponse(choice=remedy)),
        (HOUR, ShowPrevention(measure="Seals greased before fitting")),
    ]


RESOLVED = resolved(RemedyKind.FREE_REDO)
TO_OFFER = RESOLVED[:4]


def walk(
    steps: list[tuple[timedelta, Command]], motive: Motive = Motive.COMPENSATION
) -> tuple[CaseState, datetime]:
    """The state after `steps`, and the time of the last one."""
    now = T0
    state: CaseState = evolve(None, decide(open_command("c0ffee", motive=motive), None, T0)[0])
    for gap, command in steps:
        now += gap
        for event in decide(command, state, now):
            state = evolve(state, event)
    return state, now


def test_staff_owe_the_open_step_by_its_target() -> None:
    state, _ = walk([])
    assert staff_due_at(state) == T0 + timedelta(hours=24)


def test_after_a_first_breach_staff_owe_the_step_by_the_new_window() -> None:
    state, now = walk([(timedelta(hours=25), CheckClock())])
    assert (state.status, state.escalation_level) == (CaseStatus.ESCALATED, 1)
    assert staff_due_at(state) == now + timedelta(hours=24)


def test_once_the_owner_knows_the_missed_target_still_marks_the_case_overdue() -> None:
    state, _ = walk([(timedelta(hours=25), CheckClock()), (timedelta(hours=25), CheckClock())])
    assert not state.clock_running and state.escalation_level == 2
    assert staff_due_at(state) == state.response_due_at is not None


def test_staff_owe_nothing_while_the_customer_decides() -> None:
    state, _ = walk(TO_OFFER)
    assert state.status == CaseStatus.AWAITING_CUSTOMER
    assert staff_due_at(state) is None


def test_a_resolved_case_owes_the_follow_up_call_until_staff_are_reminded() -> None:
    state, now = walk(RESOLVED)
    assert staff_due_at(state) == now + timedelta(days=7)
    reminded, _ = walk([*RESOLVED, (timedelta(days=7), CheckClock())])
    assert reminded.follow_up_reminded and staff_due_at(reminded) is None


@pytest.mark.parametrize(
    "steps",
    [[*RESOLVED, (HOUR, RecordSatisfaction(score=5))], [(HOUR, Withdraw(reason="Settled"))]],
    ids=["scored before the call", "withdrawn"],
)
def test_a_finished_case_owes_nothing(steps: list[tuple[timedelta, Command]]) -> None:
    state, _ = walk(steps)
    assert state.status.is_final
    assert staff_due_at(state) is None


@pytest.mark.parametrize(
    ("steps", "labels"),
    [
        ([], ["warning before response target: apologize"]),
        ([(timedelta(hours=19), CheckClock())], ["response target: apologize"]),
        (TO_OFFER[:3], ["warning before response target: offer resolution"]),
        (TO_OFFER, ["customer's answer: wait limit"]),
        (RESOLVED, ["follow-up call due"]),
        ([*RESOLVED, (timedelta(days=7), CheckClock())], ["follow-up: closes without a score"]),
    ],
    ids=["open", "warned", "at the offer", "offer out", "resolved", "reminded"],
)
def test_every_timer_is_named_for_the_people_reading_the_timeline(
    steps: list[tuple[timedelta, Command]], labels: list[str]
) -> None:
    state, _ = walk(steps)
    assert [d.label for d in deadlines(state)] == labels


def test_an_improvement_case_runs_two_timers_and_the_earlier_comes_first() -> None:
    state, now = walk(resolved(RemedyKind.THANKS), motive=Motive.IMPROVEMENT)
    assert [(d.label, d.at) for d in deadlines(state)] == [
        ("follow-up call due", now + timedelta(days=7)),
        ("tell the customer how their suggestion was applied", now + timedelta(days=1)),
    ]
    deadline = next_deadline(state)
    assert deadline is not None and deadline.at == now + timedelta(days=1)


def test_the_shop_sets_the_first_response_target_and_the_warning_point() -> None:
    own = response_targets(
        Motive.ANGER,
        timedelta(hours=24),
        0.5,
        first_response={Motive.ANGER: timedelta(hours=2)},
        contacts=("manager", "director", "owner"),
    )
    assert (own.first_target, own.warn_fraction, own.max_escalation_level) == (
        timedelta(hours=2),
        0.5,
        3,
    )
    none = response_targets(Motive.PROTECT_OTHERS, timedelta(hours=24), 0.75, first_response={})
    assert none.first_target is None

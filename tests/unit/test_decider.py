"""The rulebook: table tests for each rule, hypothesis for the step order."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.clock import finished, next_deadline
from domain.commands import (
    AnalyzeCause,
    Apologize,
    CheckClock,
    Command,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    OpenCase,
    RecordCustomerResponse,
    RecordSatisfaction,
    ShowPrevention,
    Withdraw,
)
from domain.decider import STEP_OF, decide, evolve, fold
from domain.errors import (
    CaseAlreadyOpen,
    CaseClosed,
    CaseNotOpen,
    DomainError,
    NotAwaitingCustomer,
    NotResolved,
    RemedyNotAllowed,
    StepOutOfOrder,
)
from domain.events import Escalated, ResponseDueSoon
from domain.model import STEPS, CaseState, CaseStatus, Fault, RemedyKind, Step
from tests.helpers import open_command

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
STEP_COMMANDS: dict[Step, Command] = {
    Step.APOLOGIZE: Apologize(what="We delivered the wrong size"),
    Step.EMPATHIZE: Empathize(customer_words="I waited all morning"),
    Step.ANALYZE_CAUSE: AnalyzeCause(cause="Order slip misread", fault=Fault.OURS),
    Step.OFFER_RESOLUTION: OfferResolution(
        options=[
            OfferedRemedy(kind=RemedyKind.FREE_REDO),
            OfferedRemedy(kind=RemedyKind.FULL_REFUND),
        ],
        plan="Redo today, free of charge, or a full refund",
    ),
    Step.SHOW_PREVENTION: ShowPrevention(measure="Orders read back to the customer"),
}


def run(commands: list[Command], start: datetime = T0) -> CaseState:
    state: CaseState | None = None
    for i, command in enumerate([open_command("c0ffee"), *commands]):
        for event in decide(command, state, start + timedelta(minutes=i)):
            state = evolve(state, event)
    assert state is not None
    return state


ACCEPT = RecordCustomerResponse(choice=RemedyKind.FREE_REDO)
WALK: list[Command] = [
    *(STEP_COMMANDS[s] for s in STEPS[:4]),
    ACCEPT,
    STEP_COMMANDS[Step.SHOW_PREVENTION],
]


def test_the_five_steps_in_order_resolve_the_case() -> None:
    state = run(WALK)
    assert state.status == CaseStatus.RESOLVED and state.stage == "follow_up"
    assert state.steps_done == STEPS
    assert state.next_step is None and state.response_due_at is None
    assert state.fault == Fault.OURS
    assert state.accepted is not None and state.accepted.kind == RemedyKind.FREE_REDO
    assert state.version == 7
    assert all(d.within_target for d in state.done)
    assert state.follow_up_due_at == state.resolved_at + timedelta(days=7)


def test_refusals_name_the_case_and_what_is_expected() -> None:
    state = run([STEP_COMMANDS[Step.APOLOGIZE]])
    with pytest.raises(
        StepOutOfOrder,
        match="c0ffee is waiting for empathize, not offer resolution; done so far: apologize",
    ):
        decide(STEP_COMMANDS[Step.OFFER_RESOLUTION], state, T0)
    with pytest.raises(
        StepOutOfOrder, match="apologize is already done; the next step is empathize"
    ):
        decide(STEP_COMMANDS[Step.APOLOGIZE], state, T0)
    with pytest.raises(CaseAlreadyOpen):
        decide(open_command("c0ffee"), state, T0)
    with pytest.raises(CaseNotOpen):
        decide(STEP_COMMANDS[Step.APOLOGIZE], None, T0)


def test_a_final_case_refuses_everything_but_the_clock() -> None:
    withdrawn = run([Withdraw(reason="Customer settled it in person")])
    assert withdrawn.status == CaseStatus.WITHDRAWN and withdrawn.next_step is None
    for command in [*STEP_COMMANDS.values(), Withdraw(reason="again")]:
        with pytest.raises(CaseClosed, match="is withdrawn"):
            decide(command, withdrawn, T0)
    assert decide(CheckClock(), withdrawn, T0 + timedelta(days=9)) == []
    assert finished(withdrawn)


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (timedelta(hours=17, minutes=59), []),
        (timedelta(hours=18), [ResponseDueSoon]),
        (timedelta(hours=23, minutes=59), [ResponseDueSoon]),
        (timedelta(hours=24), [Escalated]),
        (timedelta(days=5), [Escalated]),  # late check: one escalation, never a burst
    ],
)
def test_clock_warns_at_three_quarters_and_escalates_at_the_target(
    elapsed: timedelta, expected: list[type]
) -> None:
    state = run([], start=T0)
    assert [type(e) for e in decide(CheckClock(), state, T0 + elapsed)] == expected


def test_a_warning_is_given_once_per_window_and_a_breach_opens_the_next_window() -> None:
    state = run([])
    warned = fold(decide(CheckClock(), state, T0 + timedelta(hours=19)), state)
    assert warned is not None and warned.warned
    assert decide(CheckClock(), warned, T0 + timedelta(hours=20)) == []
    breach_at = T0 + timedelta(hours=24, minutes=5)
    escalated = fold(decide(CheckClock(), warned, breach_at), warned)
    assert escalated is not None
    assert (escalated.status, escalated.escalation_level, escalated.warned) == (
        CaseStatus.ESCALATED,
        1,
        False,
    )
    assert escalated.response_due_at == breach_at + timedelta(hours=24)
    [again] = decide(CheckClock(), escalated, breach_at + timedelta(hours=24))
    assert isinstance(again, Escalated) and again.level == 2
    top = evolve(escalated, again)
    assert not top.clock_running and top.response_due_at == escalated.response_due_at
    assert decide(CheckClock(), top, breach_at + timedelta(days=30)) == []
    answered = fold(decide(STEP_COMMANDS[Step.APOLOGIZE], escalated, breach_at), escalated)
    assert answered is not None
    assert (answered.status, answered.escalation_level, answered.escalations) == (
        CaseStatus.OPEN,
        0,
        1,
    )
    assert not answered.done[0].within_target


@pytest.mark.parametrize(
    "build",
    [
        lambda: Apologize(what="   "),
        lambda: Empathize(customer_words=""),
        lambda: AnalyzeCause(cause="x", fault="maybe"),
        lambda: OpenCase.model_validate({**open_command("abc").model_dump(), "motive": "greed"}),
        lambda: OpenCase.model_validate(
            {**open_command("abc").model_dump(), "customer": {"name": "K", "phone": "12"}}
        ),
        lambda: OpenCase.model_validate({**open_command("abc").model_dump(), "case_id": "A B"}),
    ],
)
def test_empty_texts_unknown_values_and_bad_phones_never_become_commands(build) -> None:
    with pytest.raises(ValidationError):
        build()


actions = st.lists(
    st.one_of(
        st.sampled_from([*STEP_COMMANDS.values(), ACCEPT]),
        st.just(RecordCustomerResponse(decline_reason="too little")),
        st.builds(RecordSatisfaction, score=st.integers(min_value=1, max_value=5)),
        st.just(CheckClock()),
        st.builds(Withdraw, reason=st.just("changed their mind")),
    ),
    max_size=20,
)
gaps = st.lists(st.integers(min_value=0, max_value=60 * 60 * 24 * 9), min_size=20, max_size=20)


@given(actions, gaps)
def test_any_sequence_of_actions_keeps_the_rules(commands: list[Command], gaps: list[int]) -> None:
    """Steps only in order, the fold of the events is the state, the clock never repeats."""
    now = T0
    events = decide(open_command("c0ffee"), None, now)
    state = fold(events)
    assert state is not None
    for command, gap in zip(commands, gaps, strict=False):
        now += timedelta(seconds=gap)
        expected_step = state.next_step
        try:
            new = decide(command, state, now)
        except DomainError:
            assert (
                state.status.is_final
                or STEP_OF.get(type(command)) not in (expected_step, None)
                or state.status in (CaseStatus.AWAITING_CUSTOMER, CaseStatus.RESOLVED)
                or isinstance(command, RecordCustomerResponse | RecordSatisfaction)
            )
            continue
        if type(command) in STEP_OF:
            assert STEP_OF[type(command)] == expected_step and not state.status.is_final
        events += new
        state = fold(new, state)
        assert state is not None
        assert state.version == len(events)
        assert state.steps_done == STEPS[: len(state.done)]
        assert state.escalation_level <= state.targets.max_escalation_level
        assert (state.next_step is None) == (
            state.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.WITHDRAWN)
        )
        if isinstance(command, CheckClock):  # nothing left due at `now` after a check
            deadline = next_deadline(state)
            assert deadline is None or deadline.at > now
    assert fold(events) == state


OFFER_TWO = OfferResolution(
    options=[OfferedRemedy(kind=RemedyKind.FREE_REDO), OfferedRemedy(kind=RemedyKind.FULL_REFUND)],
    plan="Redo or refund",
)
REFUSALS = [
    ([], open_command("c0ffee"), CaseAlreadyOpen, "case c0ffee is already open"),
    (
        [],
        STEP_COMMANDS[Step.EMPATHIZE],
        StepOutOfOrder,
        "case c0ffee is waiting for apologize, not empathize; done so far: nothing yet",
    ),
    (
        WALK[:2],
        STEP_COMMANDS[Step.SHOW_PREVENTION],
        StepOutOfOrder,
        "case c0ffee is waiting for analyze cause, not show prevention; "
        "done so far: apologize, empathize",
    ),
    (
        WALK[:4],
        STEP_COMMANDS[Step.SHOW_PREVENTION],
        StepOutOfOrder,
        "case c0ffee is waiting for the customer's answer to offer round 1; "
        "record it with `answer` first",
    ),
    (
        WALK,
        STEP_COMMANDS[Step.SHOW_PREVENTION],
        StepOutOfOrder,
        "case c0ffee is resolved and waiting for the follow-up; "
        "record the customer's satisfaction with `rate`",
    ),
    (
        [*WALK[:2], AnalyzeCause(cause="Wrong address given", fault=Fault.MISUNDERSTANDING)],
        OFFER_TWO,
        RemedyNotAllowed,
        "case c0ffee: free_redo, full_refund is not offered when the motive is compensation "
        "and the fault is misunderstanding; allowed: fact_explanation, goodwill_gift "
        "(recommended: fact_explanation). The owner can override with a reason.",
    ),
    (
        WALK,
        ACCEPT,
        NotAwaitingCustomer,
        "case c0ffee has no open offer to answer (it is at follow_up)",
    ),
    (
        WALK[:4],
        RecordCustomerResponse(choice=RemedyKind.PARTIAL_REFUND),
        RemedyNotAllowed,
        "case c0ffee: partial_refund was not offered in round 1; "
        "the customer can choose from: free_redo, full_refund",
    ),
    (
        WALK[:4],
        RecordSatisfaction(score=4),
        NotResolved,
        "case c0ffee is not resolved yet (it is at customer_response); "
        "satisfaction is recorded at the follow-up after prevention is shown",
    ),
    (
        [Withdraw(reason="Settled")],
        Withdraw(reason="again"),
        CaseClosed,
        "case c0ffee is withdrawn; nothing more can be recorded",
    ),
]


@pytest.mark.parametrize(("before", "command", "error", "message"), REFUSALS)
def test_a_refusal_says_what_was_wrong_and_what_to_do(
    before: list[Command], command: Command, error: type[DomainError], message: str
) -> None:
    state = run(before)
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        decide(command, state, T0 + timedelta(days=1))


def test_nothing_but_opening_is_accepted_before_the_case_is_opened() -> None:
    with pytest.raises(CaseNotOpen, match=r"^the case has not been opened$"):
        decide(CheckClock(), None, T0)


def test_the_case_is_held_by_who_opened_it_then_by_who_took_the_latest_step() -> None:
    opened = evolve(
        None, decide(open_command("c0ffee").model_copy(update={"by": "A"}), None, T0)[0]
    )
    assert (opened.opened_by, opened.handled_by) == ("A", "A")
    state = opened
    for i, command in enumerate(
        [
            Apologize(what="Sorry", by="B"),
            Empathize(customer_words="I waited", by=None),
            AnalyzeCause(cause="A slip", fault=Fault.OURS, by="C"),
        ],
        1,
    ):
        for event in decide(command, state, T0 + timedelta(minutes=i)):
            state = evolve(state, event)
    assert (state.opened_by, state.handled_by) == ("A", "C"), "a step without a name leaves it"
    offered = OfferResolution(
        options=[OfferedRemedy(kind=RemedyKind.FREE_REDO)], plan="Redo", by="D"
    )
    for event in decide(offered, state, T0 + timedelta(minutes=5)):
        state = evolve(state, event)
    assert state.handled_by == "D"
    answer = RecordCustomerResponse(choice=RemedyKind.FREE_REDO, by="customer")
    for event in decide(answer, state, T0 + timedelta(minutes=6)):
        state = evolve(state, event)
    assert state.handled_by == "D", "the customer's answer leaves the case with who offered"
    for event in decide(
        ShowPrevention(measure="Read back", by="E"), state, T0 + timedelta(hours=1)
    ):
        state = evolve(state, event)
    assert (state.opened_by, state.handled_by) == ("A", "E")


def test_staff_ask_the_owner_for_an_override_until_an_offer_answers_it() -> None:
    from domain.commands import RequestOverride

    ask = RequestOverride(kinds=(RemedyKind.FULL_REFUND, RemedyKind.FULL_REFUND), reason="Regular")
    with pytest.raises(StepOutOfOrder):
        run([STEP_COMMANDS[Step.APOLOGIZE], ask])  # before the cause, nothing to override
    asked = run([*(STEP_COMMANDS[s] for s in STEPS[:3]), ask])
    assert asked.override_wanted == (RemedyKind.FULL_REFUND,) and asked.override_reason == "Regular"
    assert asked.next_step == Step.OFFER_RESOLUTION and asked.status == CaseStatus.OPEN
    offered = run(
        [*(STEP_COMMANDS[s] for s in STEPS[:3]), ask, STEP_COMMANDS[Step.OFFER_RESOLUTION]]
    )
    assert offered.override_wanted == () and offered.override_reason is None
    with pytest.raises(ValidationError):
        RequestOverride(kinds=(), reason="Regular")

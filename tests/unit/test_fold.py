"""The fold: every event moves the case on by exactly one version, records who acted, and
leaves a state the store can save and reload. A case's history is replayed from these."""

from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest

from domain import decider
from domain.commands import (
    AnalyzeCause,
    Apologize,
    ChangeRules,
    CheckClock,
    Command,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    RecordDelay,
    RecordSatisfaction,
    RequestOverride,
    ShowPrevention,
    Withdraw,
)
from domain.decider import decide, evolve, fold
from domain.errors import CaseNotOpen
from domain.events import Apologized, CaseClosed, Escalated, Event
from domain.model import CarePolicy, CaseState, Fault, Motive, RemedyKind, ResponseTargets, StepDone
from tests.helpers import open_command

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
K = RemedyKind
STAFF = "Jisoo"
EVENT_TYPES: tuple[type, ...] = get_args(get_args(Event)[0])


def offer(*kinds: RemedyKind, override: str | None = None) -> OfferResolution:
    return OfferResolution(
        options=[OfferedRemedy(kind=k) for k in kinds],
        plan="Your choice",
        override_reason=override,
        by=STAFF,
    )


def answer(choice: RemedyKind | None = None, decline: str | None = None) -> RecordCustomerResponse:
    return RecordCustomerResponse(choice=choice, decline_reason=decline, by=STAFF)


# One long life of an improvement suggestion: late once, an override, two declines, the
# customer's wait, a reopening, and the follow-up left unanswered. Each line: how long after
# the previous action, and what happens.
LIFE: list[tuple[timedelta, Command]] = [
    (timedelta(hours=19), CheckClock()),  # warned
    # The owner changes the warning fraction: the case takes it, its due time stays.
    (
        timedelta(hours=1),
        ChangeRules(
            targets=ResponseTargets(warn_fraction=0.8), care=CarePolicy(), reason="warn later"
        ),
    ),
    (timedelta(hours=5), CheckClock()),  # late: escalated to the manager
    (timedelta(minutes=5), Apologize(what="Sorry the queue was so long", by=STAFF)),
    (timedelta(minutes=5), Empathize(customer_words="Nobody told me the wait", by=STAFF)),
    (timedelta(minutes=5), AnalyzeCause(cause="No queue board", fault=Fault.OURS, by=STAFF)),
    (timedelta(minutes=5), offer(K.THANKS, K.FULL_REFUND, override="Regular for ten years")),
    (timedelta(hours=1), answer(decline="I do not want money")),
    (timedelta(minutes=5), offer(K.THANKS)),
    (timedelta(hours=73), CheckClock()),  # no answer for three days: staff should call
    (timedelta(minutes=5), answer(decline="Thanks are not enough")),  # the owner hears
    (timedelta(minutes=5), offer(K.THANK_YOU_BENEFIT)),
    (timedelta(minutes=5), answer(choice=K.THANK_YOU_BENEFIT)),
    (timedelta(minutes=5), ShowPrevention(measure="A queue board at the door", by=STAFF)),
    (timedelta(days=1), CheckClock()),  # the suggester hears what changed
    (timedelta(days=6), CheckClock()),  # follow-up call due
    (timedelta(hours=2), RecordSatisfaction(score=2, comment="Board is hard to read", by=STAFF)),
    (timedelta(minutes=5), offer(K.THANKS)),
    (timedelta(minutes=5), answer(choice=K.THANKS)),
    (timedelta(minutes=5), ShowPrevention(measure="A bigger board", by=STAFF)),
    (timedelta(days=7), CheckClock()),  # follow-up call due again
    (timedelta(days=7), CheckClock()),  # nobody answered: closed
]
SATISFIED: list[tuple[timedelta, Command]] = [
    *LIFE[3:6],
    # the offer will be late: told before its target (T0 + 24 h 15 min)
    (
        timedelta(minutes=5),
        RecordDelay(until=T0 + timedelta(hours=30), reason="The owner decides", by=STAFF),
    ),
    # staff may not offer a refund for this motive: they ask the owner, the offer answers it
    (
        timedelta(minutes=5),
        RequestOverride(kinds=(K.FULL_REFUND,), reason="Regular for ten years", by=STAFF),
    ),
    (timedelta(minutes=5), offer(K.THANKS)),
    (timedelta(minutes=5), answer(choice=K.THANKS)),
    (timedelta(minutes=5), ShowPrevention(measure="A queue board at the door", by=STAFF)),
    (timedelta(days=6), RecordSatisfaction(score=5, by=STAFF)),
]
WITHDRAWN: list[tuple[timedelta, Command]] = [
    (timedelta(minutes=5), Apologize(what="Sorry", by=STAFF)),
    (timedelta(minutes=5), Withdraw(reason="Settled in the shop", by=STAFF)),
]


def live(
    steps: list[tuple[timedelta, Command]], motive: Motive = Motive.IMPROVEMENT
) -> list[tuple[Command, list[Event], list[CaseState]]]:
    """Each command with the events it caused and the state after each of them."""
    opening = open_command("c0ffee", motive=motive).model_copy(update={"by": STAFF})
    [opened] = decide(opening, None, T0)
    state = evolve(None, opened)
    out = [(opening, [opened], [state])]
    now = T0
    for gap, command in steps:
        now += gap
        events = decide(command, state, now)
        states = []
        for event in events:
            state = evolve(state, event)
            states.append(state)
        out.append((command, events, states))
    return out


# Lived inside each test, never at import: mutation testing imports the tests once and then
# runs them against each changed rulebook.
LIVES = {"long life": LIFE, "satisfied": SATISFIED, "withdrawn": WITHDRAWN}


def events_of(history: list[tuple[Command, list[Event], list[CaseState]]]) -> list[Event]:
    return [e for _, events, _ in history for e in events]


def test_the_lives_cover_every_kind_of_event() -> None:
    histories = [live(steps) for steps in LIVES.values()]
    seen = {type(e) for h in histories for e in events_of(h)}
    assert seen == set(EVENT_TYPES)
    reasons = {e.reason for h in histories for e in events_of(h) if isinstance(e, Escalated)}
    assert reasons == {"overdue", "declined_twice"}
    closes = {e.reason for h in histories for e in events_of(h) if isinstance(e, CaseClosed)}
    assert closes == {"no_follow_up_answer", "satisfied"}


@pytest.mark.parametrize("steps", LIVES.values(), ids=LIVES.keys())
def test_each_event_advances_the_version_by_one_and_sets_the_update_time(steps) -> None:
    """The workflow numbers the next stored event from `version`: a skipped or repeated
    number would break the gap-free sequence."""
    history = live(steps)
    previous: CaseState | None = None
    for _, events, states in history:
        for event, state in zip(events, states, strict=True):
            expected = 1 if previous is None else previous.version + 1
            assert (state.version, state.updated_at) == (expected, event.at), event.type
            previous = state
    assert previous is not None and previous.version == len(events_of(history))
    assert fold(events_of(history)) == previous


@pytest.mark.parametrize("steps", LIVES.values(), ids=LIVES.keys())
def test_every_staff_action_records_who_acted(steps) -> None:
    """The clock's own events and the escalation a second decline causes are the rulebook's
    doing; everything else a staff command causes names the staff member."""
    for command, events, _ in live(steps):
        for event in events:
            if isinstance(command, CheckClock | ChangeRules) or isinstance(event, Escalated):
                assert event.by is None, event.type
            else:
                assert event.by == STAFF, event.type


@pytest.mark.parametrize("steps", LIVES.values(), ids=LIVES.keys())
def test_the_store_saves_and_reloads_every_state_unchanged(steps) -> None:
    """The read model keeps the state without its defaults and reloads it on the next
    action, so each state the fold builds must survive that round trip."""
    for _, _, states in live(steps):
        for state in states:
            saved = state.model_dump_json(exclude_defaults=True)
            assert CaseState.model_validate_json(saved) == state


def test_the_copy_with_changes_refuses_a_misspelled_field() -> None:
    """A typo in `evolve` would otherwise store the value under a name nothing reads."""
    state = fold(decide(open_command("c0ffee"), None, T0))
    assert state is not None
    with pytest.raises(TypeError, match=r"^CaseState has no field breachs, step_startd_at$"):
        decider._with(state, {"step_startd_at": T0, "breaches": 1, "breachs": 1})
    assert decider._with(state, {"breaches": 1}).breaches == 1


def test_the_opened_state_is_what_pydantic_builds_and_refuses_a_field_missing_or_misspelled() -> (
    None
):
    """The opened state skips validating again what its event holds: it must equal, and
    dump exactly as, the state pydantic builds, and refuse what pydantic refuses."""
    (opened,) = decide(open_command("c0ffee"), None, T0)
    state = evolve(None, opened)
    built = CaseState(**{name: getattr(state, name) for name in state.model_fields_set})
    assert state == built
    assert state.model_dump_json() == built.model_dump_json()
    assert state.model_dump_json(exclude_defaults=True) == built.model_dump_json(
        exclude_defaults=True
    )
    fields = {name: getattr(state, name) for name in state.model_fields_set}
    with pytest.raises(TypeError, match=r"^CaseState needs motive, summary$"):
        decider._opened({k: v for k, v in fields.items() if k not in {"motive", "summary"}})
    with pytest.raises(TypeError, match=r"^CaseState has no field sumary$"):
        decider._opened(fields | {"sumary": "x"})
    required = {k: v for k, v in fields.items() if CaseState.model_fields[k].is_required()}
    assert decider._opened(required) == CaseState(**required)  # the defaults fill the rest


def test_no_event_comes_before_the_case_is_opened() -> None:
    with pytest.raises(CaseNotOpen, match=r"^apologized cannot come before case_opened$"):
        evolve(None, Apologized(at=T0, what="Sorry"))


@pytest.mark.parametrize("steps", LIVES.values(), ids=LIVES.keys())
def test_each_step_done_keeps_its_first_target_from_the_step_start(steps) -> None:
    """A step's record is judged by its first target, counted from when the step began:
    the fold takes it from the step's window unless an escalation restarted that window."""
    *_, (_, _, states) = live(steps)
    state = states[-1]
    assert state.done
    for done in state.done:
        target = state.targets.target_for(done.step)
        assert done.due_at == state.targets.due_at(done.started_at, target, done.step)


def test_a_step_answered_after_an_escalation_is_due_at_its_first_target() -> None:
    """The escalation restarts the window with the full target; the apology is still
    judged by the first target from the opening, counted afresh."""
    opening = open_command("c0ffee").model_copy(
        update={
            "targets": ResponseTargets(target=timedelta(hours=24), first_target=timedelta(hours=2))
        }
    )
    state = fold(decide(opening, None, T0))
    assert state is not None
    late = T0 + timedelta(hours=3)
    state = fold(decide(CheckClock(), state, late), state)
    assert state is not None and state.window_started_at == late
    assert state.response_due_at == late + timedelta(hours=24)
    state = evolve(state, Apologized(at=late + timedelta(minutes=5), what="Sorry"))
    assert state.done[0].due_at == T0 + timedelta(hours=2)
    assert not state.done[0].within_target


def test_a_step_answered_in_its_window_counts_one_due_time(monkeypatch) -> None:
    """Answering within the window takes the step's due time from it: the only count is
    the next window's (a replay and a rebuild count every one again)."""
    state = fold(decide(open_command("c0ffee"), None, T0))
    assert state is not None
    counts: list[timedelta] = []
    real = ResponseTargets.due_at

    def counted(self: ResponseTargets, start: datetime, amount: timedelta, step=None):
        counts.append(amount)
        return real(self, start, amount, step)

    monkeypatch.setattr(ResponseTargets, "due_at", counted)
    after = evolve(state, Apologized(at=T0 + timedelta(hours=1), what="Sorry"))
    assert len(counts) == 1
    assert after.done[0].due_at == state.response_due_at == T0 + timedelta(hours=24)
    validated = StepDone.model_validate(after.done[0].model_dump())
    assert after.done[0] == validated  # and as pydantic builds it, to the fields set
    assert after.done[0].model_fields_set == validated.model_fields_set

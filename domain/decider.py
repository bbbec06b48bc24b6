"""The rulebook of a case: decide what happens, and evolve the state by what happened."""

from collections.abc import Iterable
from datetime import datetime

from domain.commands import (
    AnalyzeCause,
    Apologize,
    CheckResponseTarget,
    Command,
    Empathize,
    OfferResolution,
    OpenCase,
    ShowPrevention,
    StepCommand,
    Withdraw,
)
from domain.errors import CaseAlreadyOpen, CaseClosed, CaseNotOpen, StepOutOfOrder
from domain.events import (
    Apologized,
    CaseOpened,
    CaseWithdrawn,
    CauseAnalyzed,
    Empathized,
    Escalated,
    Event,
    PreventionShown,
    ResolutionOffered,
    ResponseDueSoon,
)
from domain.model import CaseState, CaseStatus, Step, StepDone

State = CaseState | None  # None: the case has not been opened

STEP_OF: dict[type, Step] = {
    Apologize: Step.APOLOGIZE,
    Empathize: Step.EMPATHIZE,
    AnalyzeCause: Step.ANALYZE_CAUSE,
    OfferResolution: Step.OFFER_RESOLUTION,
    ShowPrevention: Step.SHOW_PREVENTION,
}


def decide(command: Command, state: State, now: datetime) -> list[Event]:
    """The events `command` causes at `now`, or a DomainError saying why it is refused."""
    if isinstance(command, OpenCase):
        if state is not None:
            raise CaseAlreadyOpen(f"case {state.case_id} is already open")
        return [
            CaseOpened(
                at=now,
                by=command.by,
                case_id=command.case_id,
                customer=command.customer,
                channel=command.channel,
                motive=command.motive,
                summary=command.summary,
                targets=command.targets,
            )
        ]
    if state is None:
        raise CaseNotOpen("the case has not been opened")
    if isinstance(command, CheckResponseTarget):
        return _check_response_target(state, now)
    if state.status.is_final:
        raise CaseClosed(f"case {state.case_id} is {state.status}; nothing more can be recorded")
    if isinstance(command, Withdraw):
        return [CaseWithdrawn(at=now, by=command.by, reason=command.reason)]
    return [_step_event(command, state, now)]


def _step_event(command: StepCommand, state: CaseState, now: datetime) -> Event:
    step = STEP_OF[type(command)]
    if step != state.next_step:
        raise StepOutOfOrder(_out_of_order_message(state, step))
    match command:
        case Apologize():
            return Apologized(at=now, by=command.by, what=command.what)
        case Empathize():
            return Empathized(at=now, by=command.by, customer_words=command.customer_words)
        case AnalyzeCause():
            return CauseAnalyzed(at=now, by=command.by, cause=command.cause, fault=command.fault)
        case OfferResolution():
            return ResolutionOffered(at=now, by=command.by, plan=command.plan)
        case ShowPrevention():
            return PreventionShown(at=now, by=command.by, measure=command.measure)


def _out_of_order_message(state: CaseState, step: Step) -> str:
    done = ", ".join(s.label for s in state.steps_done) or "nothing yet"
    expected = state.next_step.label if state.next_step else "no further step"
    if step in state.steps_done:
        return f"case {state.case_id}: {step.label} is already done; the next step is {expected}"
    return f"case {state.case_id} is waiting for {expected}, not {step.label}; done so far: {done}"


def _check_response_target(state: CaseState, now: datetime) -> list[Event]:
    due, warn_at = state.response_due_at, state.warn_at
    if not state.clock_running or state.next_step is None or due is None or warn_at is None:
        return []
    if now >= due:
        return [
            Escalated(
                at=now,
                step=state.next_step,
                level=state.escalation_level + 1,
                missed_due_at=due,
            )
        ]
    if now >= warn_at and not state.warned:
        return [ResponseDueSoon(at=now, step=state.next_step, due_at=due)]
    return []


def evolve(state: State, event: Event) -> CaseState:
    """The state after `event`; total over every event a past `decide` produced."""
    if isinstance(event, CaseOpened):
        return CaseState(
            case_id=event.case_id,
            version=1,
            status=CaseStatus.OPEN,
            motive=event.motive,
            channel=event.channel,
            customer=event.customer,
            summary=event.summary,
            targets=event.targets,
            opened_at=event.at,
            step_started_at=event.at,
            window_started_at=event.at,
            response_due_at=event.at + event.targets.target,
        )
    if state is None:
        raise CaseNotOpen(f"{event.type} cannot come before case_opened")
    changes: dict[str, object] = {"version": state.version + 1}
    match event:
        case Apologized():
            changes |= _step_done(state, event.at) | {"apology": event.what}
        case Empathized():
            changes |= _step_done(state, event.at) | {"customer_words": event.customer_words}
        case CauseAnalyzed():
            changes |= _step_done(state, event.at) | {"cause": event.cause, "fault": event.fault}
        case ResolutionOffered():
            changes |= _step_done(state, event.at) | {"resolution": event.plan}
        case PreventionShown():
            changes |= _step_done(state, event.at) | {
                "prevention": event.measure,
                "status": CaseStatus.RESOLVED,
                "resolved_at": event.at,
            }
        case ResponseDueSoon():
            changes |= {"warned": True}
        case Escalated():
            changes |= {
                "status": CaseStatus.ESCALATED,
                "escalation_level": event.level,
                "escalations": state.escalations + 1,
                "warned": False,
            }
            if event.level < state.targets.max_escalation_level:
                changes |= {
                    "window_started_at": event.at,
                    "response_due_at": event.at + state.targets.target,
                }
        case CaseWithdrawn():
            changes |= {
                "status": CaseStatus.WITHDRAWN,
                "withdrawn_reason": event.reason,
                "closed_at": event.at,
                "next_step": None,
                "response_due_at": None,
            }
    return state.model_copy(update=changes)


def _step_done(state: CaseState, at: datetime) -> dict[str, object]:
    assert state.next_step is not None
    index = list(Step).index(state.next_step)
    following = list(Step)[index + 1] if index + 1 < len(Step) else None
    done = StepDone(
        step=state.next_step,
        at=at,
        started_at=state.step_started_at,
        due_at=state.step_started_at + state.targets.target,
    )
    return {
        "done": (*state.done, done),
        "next_step": following,
        "status": CaseStatus.OPEN,
        "escalation_level": 0,
        "warned": False,
        "step_started_at": at,
        "window_started_at": at,
        "response_due_at": at + state.targets.target if following else None,
    }


def fold(events: Iterable[Event], state: State = None) -> State:
    for event in events:
        state = evolve(state, event)
    return state

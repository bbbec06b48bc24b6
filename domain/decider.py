"""The rulebook of a case: decide what happens, and evolve the state by what happened."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypeVar, assert_never
from zoneinfo import ZoneInfo

from domain.clock import Due, next_deadline
from domain.commands import (
    AnalyzeCause,
    Apologize,
    ChangeRules,
    CheckClock,
    Command,
    Empathize,
    OfferResolution,
    OpenCase,
    RecordCustomerResponse,
    RecordDelay,
    RecordSatisfaction,
    RequestOverride,
    ShowPrevention,
    Withdraw,
)
from domain.errors import (
    CaseAlreadyOpen,
    CaseClosed,
    CaseNotOpen,
    DeadlinePassed,
    NoTargetToDelay,
    NotAwaitingCustomer,
    NotResolved,
    RemedyNotAllowed,
    StepOutOfOrder,
)
from domain.events import (
    Apologized,
    CaseOpened,
    CaseReopened,
    CaseWithdrawn,
    CauseAnalyzed,
    CustomerWaitExceeded,
    DelayRecorded,
    Empathized,
    Escalated,
    Event,
    FollowUpDue,
    ImprovementReported,
    OverrideRequested,
    PolicyOverridden,
    PreventionShown,
    ResolutionAccepted,
    ResolutionDeclined,
    ResolutionOffered,
    ResponseDueSoon,
    RulesChanged,
    SatisfactionRecorded,
)
from domain.events import (
    CaseClosed as CaseClosedEvent,
)
from domain.model import (
    CarePolicy,
    CaseState,
    CaseStatus,
    IntakeChannel,
    Motive,
    Offer,
    RemedyKind,
    ResponseTargets,
    Step,
    StepDone,
)
from domain.remedies import complete, remedy_menu

State = CaseState | None  # None: the case has not been opened

STEP_OF: dict[type, Step] = {
    Apologize: Step.APOLOGIZE,
    Empathize: Step.EMPATHIZE,
    AnalyzeCause: Step.ANALYZE_CAUSE,
    OfferResolution: Step.OFFER_RESOLUTION,
    ShowPrevention: Step.SHOW_PREVENTION,
}
DECLINES_BEFORE_OWNER = 2
# How far ahead a delay may move a target: further is a typo (a year), not a plan.
LONGEST_DELAY = timedelta(days=30)


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
                customer_id=command.customer_id,
                customer=command.customer,
                channel=command.channel,
                motive=command.motive,
                summary=command.summary,
                targets=command.targets or ResponseTargets(),
                care=command.care or CarePolicy(),
                profile=command.profile,
            )
        ]
    if state is None:
        raise CaseNotOpen("the case has not been opened")
    if isinstance(command, CheckClock):
        return _clock(state, now)
    if isinstance(command, ChangeRules):
        return _rules_changed(command, state, now)
    if state.status.is_final:
        raise CaseClosed(f"case {state.case_id} is {state.status}; nothing more can be recorded")
    match command:
        case Withdraw():
            return [CaseWithdrawn(at=now, by=command.by, reason=command.reason)]
        case RecordCustomerResponse():
            return _customer_response(command, state, now)
        case RecordSatisfaction():
            return _satisfaction(command, state, now)
        case RecordDelay():
            return [_delay(command, state, now)]
        case OfferResolution():
            _check_step(state, Step.OFFER_RESOLUTION)
            return _offer(command, state, now)
        case RequestOverride():  # asked before an offer: the owner's answer is one
            _check_step(state, Step.OFFER_RESOLUTION)
            kinds = tuple(dict.fromkeys(command.kinds))
            return [OverrideRequested(at=now, by=command.by, kinds=kinds, reason=command.reason)]
        case _:
            _check_step(state, STEP_OF[type(command)])
            return [_step_event(command, state, now)]


def _step_event(command: Command, state: CaseState, now: datetime) -> Event:
    match command:
        case Apologize():
            return Apologized(
                at=now, by=command.by, what=command.what, post_from=_reply_post_from(state, now)
            )
        case Empathize():
            return Empathized(at=now, by=command.by, customer_words=command.customer_words)
        case AnalyzeCause():
            return CauseAnalyzed(at=now, by=command.by, cause=command.cause, fault=command.fault)
        case ShowPrevention():
            return PreventionShown(at=now, by=command.by, measure=command.measure)
    raise TypeError(f"not a step command: {type(command).__name__}")


def _reply_post_from(state: CaseState, now: datetime) -> datetime | None:
    """A public review's reply is posted no sooner than the cool-off after drafting, and
    when the shop is open (someone is there to follow the answers it draws)."""
    cool_off = state.care.review_cool_off
    if state.channel != IntakeChannel.REVIEW or cool_off is None:
        return None
    calendar = state.targets.calendar
    earliest = now + cool_off
    return calendar.next_open(earliest) if calendar else earliest


def _check_step(state: CaseState, step: Step) -> None:
    if state.status == CaseStatus.AWAITING_CUSTOMER:
        offer = state.current_offer
        assert offer is not None
        raise StepOutOfOrder(
            f"case {state.case_id} is waiting for the customer's answer to offer round "
            f"{offer.round}; record it with `answer` first"
        )
    if state.status == CaseStatus.RESOLVED:
        raise StepOutOfOrder(
            f"case {state.case_id} is resolved and waiting for the follow-up; "
            "record the customer's satisfaction with `rate`"
        )
    if step == state.next_step:
        return
    expected = state.next_step.label if state.next_step else "no further step"
    if step in state.steps_done:
        raise StepOutOfOrder(
            f"case {state.case_id}: {step.label} is already done; the next step is {expected}"
        )
    done = ", ".join(s.label for s in state.steps_done) or "nothing yet"
    raise StepOutOfOrder(
        f"case {state.case_id} is waiting for {expected}, not {step.label}; done so far: {done}"
    )


def _offer(command: OfferResolution, state: CaseState, now: datetime) -> list[Event]:
    assert state.fault is not None  # the cause analysis comes first
    menu = remedy_menu(state.motive, state.fault, state.profile.tier, state.delay_discount_due)
    outside = tuple(o.kind for o in command.options if o.kind not in menu.allowed)
    if outside and command.override_reason is None:
        allowed = ", ".join(menu.allowed)
        raise RemedyNotAllowed(
            f"case {state.case_id}: {', '.join(outside)} is not offered when the motive is "
            f"{state.motive} and the fault is {state.fault}; allowed: {allowed} (recommended: "
            f"{menu.recommended}). The owner can override with a reason."
        )
    options = tuple(
        complete(o.kind, state.care.remedies)
        if o.terms is None
        else complete(o.kind, state.care.remedies).model_copy(update={"terms": o.terms})
        for o in command.options
    )
    events: list[Event] = []
    if outside:
        assert command.override_reason is not None
        events.append(
            PolicyOverridden(at=now, by=command.by, kinds=outside, reason=command.override_reason)
        )
    events.append(
        ResolutionOffered(
            at=now,
            by=command.by,
            round=len(state.offers) + 1,
            options=options,
            plan=command.plan,
            overridden=bool(outside),
        )
    )
    return events


def _customer_response(
    command: RecordCustomerResponse, state: CaseState, now: datetime
) -> list[Event]:
    offer = state.current_offer
    if state.status != CaseStatus.AWAITING_CUSTOMER or offer is None:
        raise NotAwaitingCustomer(
            f"case {state.case_id} has no open offer to answer (it is at {state.stage})"
        )
    if command.choice is not None:
        chosen = next((o for o in offer.options if o.kind == command.choice), None)
        if chosen is None:
            offered = ", ".join(o.kind for o in offer.options)
            raise RemedyNotAllowed(
                f"case {state.case_id}: {command.choice} was not offered in round "
                f"{offer.round}; the customer can choose from: {offered}"
            )
        return [ResolutionAccepted(at=now, by=command.by, remedy=chosen)]
    assert command.decline_reason is not None
    events: list[Event] = [
        ResolutionDeclined(at=now, by=command.by, round=offer.round, reason=command.decline_reason)
    ]
    if state.declines + 1 >= DECLINES_BEFORE_OWNER:
        events.append(
            Escalated(
                at=now,
                step=Step.OFFER_RESOLUTION,
                level=state.targets.max_escalation_level,
                reason="declined_twice",
            )
        )
    return events


def _shop_time(state: CaseState, t: datetime) -> str:
    zone = state.targets.calendar.zone if state.targets.calendar else "UTC"
    return t.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _delay(command: RecordDelay, state: CaseState, now: datetime) -> DelayRecorded:
    """Bad news before the deadline: the target of the step now due moves to `until`, the
    customer is told, and the first delay grants the policy's delay compensation."""
    step, due = state.next_step, state.response_due_at
    if not state.clock_running or step is None or due is None:
        why = {
            CaseStatus.AWAITING_CUSTOMER: "the customer is deciding on the offer",
            CaseStatus.RESOLVED: "prevention is shown; the follow-up call is ahead",
        }.get(state.status, "the top escalation level has been told")
        raise NoTargetToDelay(f"case {state.case_id} has no response target to move now ({why})")
    if now >= due:
        raise DeadlinePassed(
            f"case {state.case_id}: the {step.label} was due by {_shop_time(state, due)}; a "
            "delay is announced before the deadline (past it, the case is escalated)"
        )
    if command.until <= due:
        raise StepOutOfOrder(
            f"case {state.case_id}: the {step.label} is due by {_shop_time(state, due)} "
            "already; give a later time"
        )
    if command.until > now + LONGEST_DELAY:
        raise StepOutOfOrder(
            f"case {state.case_id}: {_shop_time(state, command.until)} is more than "
            f"{LONGEST_DELAY.days} days away; give the time the work will really be ready"
        )
    granted = state.delay_compensation is not None  # by an earlier delay: once a case
    return DelayRecorded(
        at=now,
        by=command.by,
        step=step,
        missed_due_at=due,
        due_at=command.until,
        reason=command.reason,
        compensation=None if granted else complete(RemedyKind.DELAY_DISCOUNT, state.care.remedies),
    )


def _satisfaction(command: RecordSatisfaction, state: CaseState, now: datetime) -> list[Event]:
    if state.status != CaseStatus.RESOLVED:
        raise NotResolved(
            f"case {state.case_id} is not resolved yet (it is at {state.stage}); "
            "satisfaction is recorded at the follow-up after prevention is shown"
        )
    recorded = SatisfactionRecorded(
        at=now, by=command.by, score=command.score, comment=command.comment
    )
    if command.score <= state.care.reopen_at_or_below:
        return [recorded, CaseReopened(at=now, by=command.by, score=command.score)]
    return [recorded, CaseClosedEvent(at=now, by=command.by, reason="satisfied")]


def _clock(state: CaseState, now: datetime) -> list[Event]:
    """Everything that has fallen due by `now`, each deadline at most once."""
    events: list[Event] = []
    for _ in range(6):
        deadline = next_deadline(state)
        if deadline is None or deadline.at > now:
            break
        event = _fire(deadline.due, state, now)
        events.append(event)
        state = evolve(state, event)
    return events


def _rules_changed(command: ChangeRules, state: CaseState, now: datetime) -> list[Event]:
    """The new rules from `now` on, or nothing when they are the case's already (or it is
    over). The pending response window keeps the time it used under the old rules; the rest
    of its target (the new target) is counted under the new ones, from `now`: a closure
    entered today moves a due time that would fall on it, and never makes the case late
    for hours the shop has since closed."""
    if state.status.is_final or (command.targets == state.targets and command.care == state.care):
        return []
    due = state.response_due_at
    step = state.next_step
    # A time staff promised the customer (a delay announced before the deadline) stays as
    # promised: new rules do not move it (another delay does). Once that promise was missed
    # and the case escalated, the new rules count again.
    promised = state.delayed_from is not None and state.escalation_level == 0
    if due is not None and step is not None and not promised:
        new = command.targets
        first = state.escalation_level == 0 and state.window_started_at == state.step_started_at
        target = new.target_for(step) if first else new.target
        used = state.targets.time_between(state.window_started_at, now, step)
        left = max(target - used, target * 0)
        due = new.due_at(now, left, step)
    return [
        RulesChanged(
            at=now,
            targets=command.targets,
            care=command.care,
            reason=command.reason,
            response_due_at=due,
        )
    ]


def _fire(due: Due, state: CaseState, now: datetime) -> Event:
    match due:
        case Due.RESPONSE_WARNING if state.response_due_at and now < state.response_due_at:
            assert state.next_step
            return ResponseDueSoon(at=now, step=state.next_step, due_at=state.response_due_at)
        case Due.RESPONSE_WARNING | Due.RESPONSE_TARGET:  # a warning checked too late is moot
            assert state.next_step
            return Escalated(
                at=now,
                step=state.next_step,
                level=state.escalation_level + 1,
                missed_due_at=state.response_due_at,
            )
        case Due.CUSTOMER_WAIT:
            offer = state.current_offer
            assert offer is not None
            return CustomerWaitExceeded(at=now, offered_at=offer.at)
        case Due.FOLLOW_UP:
            return FollowUpDue(at=now)
        case Due.FOLLOW_UP_EXPIRY:
            return CaseClosedEvent(at=now, reason="no_follow_up_answer")
        case Due.IMPROVEMENT_REPORT:
            return ImprovementReported(at=now, measure=state.prevention or "")
        case Due.UNANSWERED:
            return CaseClosedEvent(at=now, reason="unanswered")


def evolve(state: State, event: Event) -> CaseState:
    """The state after `event`; total over every event a past `decide` produced."""
    if isinstance(event, CaseOpened):
        first = event.targets.first_target or event.targets.target
        return _opened(
            {
                "case_id": event.case_id,
                "version": 1,
                "status": CaseStatus.OPEN,
                "motive": event.motive,
                "channel": event.channel,
                "customer_id": event.customer_id,
                "customer": event.customer,
                "summary": event.summary,
                "targets": event.targets,
                "care": event.care,
                "profile": event.profile,
                "opened_at": event.at,
                "updated_at": event.at,
                "step_started_at": event.at,
                "window_started_at": event.at,
                "response_due_at": event.targets.due_at(event.at, first, Step.APOLOGIZE),
                "opened_by": event.by,
                "handled_by": event.by,
            }
        )
    if state is None:
        raise CaseNotOpen(f"{event.type} cannot come before case_opened")
    changes: dict[str, object] = {"version": state.version + 1, "updated_at": event.at}
    match event:
        case Apologized():
            changes |= _answered(state, event.at, Step.EMPATHIZE) | {"apology": event.what}
            if event.post_from is not None:
                # The customer sees the reply only then: the next step's clock starts there.
                changes |= _window(state, event.post_from, Step.EMPATHIZE) | {
                    "reply_post_from": event.post_from
                }
        case Empathized():
            changes |= _answered(state, event.at, Step.ANALYZE_CAUSE) | {
                "customer_words": event.customer_words
            }
        case CauseAnalyzed():
            changes |= _answered(state, event.at, Step.OFFER_RESOLUTION) | {
                "cause": event.cause,
                "fault": event.fault,
            }
        case PolicyOverridden():
            pass
        case OverrideRequested():
            changes |= {"override_wanted": event.kinds, "override_reason": event.reason}
        case ResolutionOffered():
            offer = Offer(
                round=event.round,
                at=event.at,
                options=event.options,
                plan=event.plan,
                overridden=event.overridden,
            )
            changes |= _answered(state, event.at, Step.OFFER_RESOLUTION, paused=True) | {
                "status": CaseStatus.AWAITING_CUSTOMER,
                "resolution": event.plan,
                "offers": (*state.offers, offer),
                "customer_wait_due_at": event.at + state.care.customer_wait,
                "customer_reminded": False,
                "override_wanted": (),  # the offer answers a request for an override
                "override_reason": None,
            }
        case ResolutionAccepted():
            changes |= _window(state, event.at, Step.SHOW_PREVENTION) | {
                "accepted": event.remedy,
                "customer_wait_due_at": None,
            }
        case ResolutionDeclined():
            changes |= _window(state, event.at, Step.OFFER_RESOLUTION) | {
                "declines": state.declines + 1,
                "customer_wait_due_at": None,
            }
        case CustomerWaitExceeded():
            changes |= {"customer_reminded": True}
        case PreventionShown():
            care = state.care
            follow_up = event.at + care.follow_up_after
            report = event.at + care.improvement_report_after
            changes |= _answered(state, event.at, None) | {
                "prevention": event.measure,
                "status": CaseStatus.RESOLVED,
                "resolved_at": event.at,
                "follow_up_due_at": follow_up,
                "follow_up_expires_at": follow_up + care.follow_up_window,
                "follow_up_reminded": False,
                "improvement_report_due_at": report if state.motive == Motive.IMPROVEMENT else None,
            }
        case ImprovementReported():
            changes |= {"improvement_report_due_at": None}
        case FollowUpDue():
            changes |= {"follow_up_reminded": True}
        case SatisfactionRecorded():
            changes |= {"rating": event.score, "rating_comment": event.comment}
        case CaseReopened():
            changes |= _window(state, event.at, Step.OFFER_RESOLUTION) | {
                "reopened": state.reopened + 1,
                "declines": 0,
                "accepted": None,
                "resolved_at": None,
                "follow_up_due_at": None,
                "follow_up_expires_at": None,
            }
        case CaseClosedEvent():
            changes |= {
                "status": CaseStatus.CLOSED,
                "closed_reason": event.reason,
                "closed_at": event.at,
                "next_step": None,
                "follow_up_expires_at": None,
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
            if event.reason == "overdue":
                changes["breaches"] = state.breaches + 1
                if event.level < state.targets.max_escalation_level:
                    changes |= {
                        "window_started_at": event.at,
                        "response_due_at": state.targets.due_at(
                            event.at, state.targets.target, state.next_step
                        ),
                    }
        case DelayRecorded():
            changes |= {
                # The warning comes at its fraction of the new window, from now.
                "window_started_at": event.at,
                "response_due_at": event.due_at,
                "warned": False,
                "delayed_from": state.delayed_from or event.missed_due_at,
                "delays": state.delays + 1,
            }
            if event.compensation is not None:
                changes["delay_compensation"] = event.compensation
        case RulesChanged():
            changes |= {"targets": event.targets, "care": event.care}
            if state.response_due_at is not None:
                changes["response_due_at"] = event.response_due_at
        case CaseWithdrawn():
            changes |= {
                "status": CaseStatus.WITHDRAWN,
                "withdrawn_reason": event.reason,
                "closed_at": event.at,
                "next_step": None,
                "response_due_at": None,
                "customer_wait_due_at": None,
                "follow_up_due_at": None,
                "follow_up_expires_at": None,
                "improvement_report_due_at": None,
            }
        case _:  # a new event without a branch fails type checking here
            assert_never(event)
    if event.by is not None and isinstance(event, _HANDLING):
        changes["handled_by"] = event.by
    return _with(state, changes)


# The staff steps (and a delay staff announce): who took the latest holds the case.
_HANDLING = (
    Apologized,
    Empathized,
    CauseAnalyzed,
    ResolutionOffered,
    PreventionShown,
    DelayRecorded,
)


_FIELDS = frozenset(CaseState.model_fields)
_REQUIRED = frozenset(name for name, f in CaseState.model_fields.items() if f.is_required())
# Every field in CaseState's order with its default (all immutable: None, 0, (), enums);
# an opened state is this filled in, and dict.update keeps the order, so dumps are the same.
_DEFAULTS = {
    name: None if f.is_required() else f.get_default(call_default_factory=True)
    for name, f in CaseState.model_fields.items()
}


def _opened(fields: dict[str, object]) -> CaseState:
    """`CaseState(**fields)` without validating again what a validated event holds: every
    replay and rebuild opens each case here, and validating it a second time was most of
    the cost. A field missing or misspelled is refused, as pydantic would."""
    if not fields.keys() >= _REQUIRED:
        missing = ", ".join(sorted(_REQUIRED - fields.keys()))
        raise TypeError(f"CaseState needs {missing}")
    _known(fields)
    values = dict(_DEFAULTS)
    values.update(fields)
    return _built(CaseState, values, set(fields))


def _with(state: CaseState, changes: dict[str, object]) -> CaseState:
    """`state.model_copy(update=changes)` without its generic per-attribute copying: the
    fold runs once per event in every replay and rebuild, so this is the hot path. The
    values come from validated events, so, as with model_copy, nothing is re-validated; but a
    misspelled field name is refused, where model_copy would keep it silently."""
    _known(changes)
    return _built(
        CaseState, {**state.__dict__, **changes}, state.__pydantic_fields_set__ | changes.keys()
    )


def _known(fields: dict[str, object]) -> None:
    if not _FIELDS.issuperset(fields):
        unknown = ", ".join(sorted(fields.keys() - _FIELDS))
        raise TypeError(f"CaseState has no field {unknown}")


M = TypeVar("M", CaseState, StepDone)


def _built(model: type[M], values: dict[str, object], fields_set: set[str]) -> M:
    """A model from values already validated, as `model_construct` would make it without
    its per-field default handling: the instance's `__dict__` and the three slots pydantic 2
    keeps beside it (extra, fields set, private). It relies on those internals; should a
    pydantic release change them, tests/unit/test_fold.py fails (the built state must equal
    and dump exactly as the one pydantic builds, fields set included)."""
    new = model.__new__(model)
    object.__setattr__(new, "__dict__", values)
    object.__setattr__(new, "__pydantic_extra__", None)
    object.__setattr__(new, "__pydantic_fields_set__", fields_set)
    object.__setattr__(new, "__pydantic_private__", None)
    return new


def _answered(
    state: CaseState, at: datetime, following: Step | None, paused: bool = False
) -> dict[str, object]:
    """Staff answered the step now due: record its response time once, open the next window
    (`paused`: without a due time, while the customer decides)."""
    step = state.next_step
    assert step is not None
    done = state.done
    if step not in state.steps_done:
        due = state.response_due_at
        moved = state.window_started_at != state.step_started_at or state.delayed_from
        if due is None or moved:
            # An escalation restarted the window or a delay moved it (or it has no due
            # time): count the step's first target from its start. Otherwise the window's
            # due time is that.
            due = state.targets.due_at(state.step_started_at, state.targets.target_for(step), step)
        done = (*done, _step_done(step, at, state.step_started_at, due))
    return {"done": done} | _window(state, at, following, paused)


_STEP_DONE_FIELDS = frozenset(StepDone.model_fields)


def _step_done(step: Step, at: datetime, started_at: datetime, due_at: datetime) -> StepDone:
    """`StepDone(...)` without validating again instants the state holds validated: once
    per answered step in every replay and rebuild, so validation was a fold's hot spot."""
    values = {"step": step, "at": at, "started_at": started_at, "due_at": due_at}
    return _built(StepDone, values, set(_STEP_DONE_FIELDS))


def _window(
    state: CaseState, at: datetime, step: Step | None, paused: bool = False
) -> dict[str, object]:
    """The staff clock restarts at `at` for `step` (none once prevention is shown); while
    `paused` it has no due time, and none is counted (a replay counts every one again)."""
    return {
        "next_step": step,
        "status": CaseStatus.OPEN,
        "escalation_level": 0,
        "warned": False,
        "delayed_from": None,
        "step_started_at": at,
        "window_started_at": at,
        "response_due_at": (
            state.targets.due_at(at, state.targets.target, step) if step and not paused else None
        ),
    }


def fold(events: Iterable[Event], state: State = None) -> State:
    for event in events:
        state = evolve(state, event)
    return state

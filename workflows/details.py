"""The case's progress as the Temporal UI shows it: markdown, no customer PII."""

from datetime import datetime, timedelta

from domain.clock import next_deadline
from domain.model import STEPS, CaseState, CaseStatus, stage_name
from domain.wording import duration, stamp


def _zone(state: CaseState) -> str:
    return state.targets.calendar.zone if state.targets.calendar else "UTC"


def summary(case_id: str, motive: str, channel: str) -> str:
    return f"Complaint {case_id} · {motive} · via {channel}"


def _hours(delta: timedelta) -> str:
    return duration(delta, "en")


def rules(case: CaseState) -> str:
    """The rules this case runs by (the shop's rulebook when it opened)."""
    t, care = case.targets, case.care
    first = f" (first response {_hours(t.first_target)})" if t.first_target else ""
    return "\n".join(
        [
            f"Response target: **{_hours(t.target)}** per step{first}, "
            f"reminder at {t.warn_fraction:.0%}, escalation up to level {t.max_escalation_level}",
            f"Customer's answer awaited {_hours(care.customer_wait)} before staff call",
            f"Follow-up call {_hours(care.follow_up_after)} after resolution; "
            f"a score of {care.reopen_at_or_below} or less reopens",
        ]
    )


def progress(state: CaseState, held: tuple[tuple[str, datetime], ...] = ()) -> str:
    """The case as staff see it in the UI; `held`: notices waiting (kind, until when)."""
    zone = _zone(state)
    done = " → ".join(s.label for s in state.steps_done) or "nothing yet"
    todo = [s.label for s in STEPS if s not in state.steps_done]
    lines = [
        f"**Case {state.case_id}** · {state.motive} · via {state.channel} · "
        f"{state.profile.tier} customer",
        "",
        f"Done: {done}",
        f"Still to do: {', '.join(todo) or 'nothing'}",
        "",
        f"Status: **{state.status}** (at {stage_name(state.stage)})",
    ]
    offer = state.current_offer
    if state.status == CaseStatus.AWAITING_CUSTOMER and offer is not None:
        kinds = ", ".join(o.kind for o in offer.options)
        lines.append(
            f"Waiting for the customer's choice (offer {offer.round}: {kinds}); staff clock paused"
        )
    if state.accepted:
        lines.append(f"Accepted: {state.accepted.kind}")
    if state.reply_post_from and state.status != CaseStatus.WITHDRAWN:
        lines.append(
            f"Public review: **post the reply from {stamp(state.reply_post_from, zone)}** "
            "(drafted, held for a night's calm)"
        )
    for kind, until in held:
        lines.append(f"Notice held until {stamp(until, zone)}: {kind.replace('_', ' ')}")
    deadline = next_deadline(state)
    if deadline is not None:
        lines.append(f"Next: **{deadline.label}**, {stamp(deadline.at, zone)}")
    elif state.status == CaseStatus.ESCALATED:
        lines.append(f"With the owner: **{stage_name(state.stage)}** is theirs to answer")
    if state.escalation_level:
        lines.append(f"Escalation level: **{state.escalation_level}**")
    if state.fault:
        lines.append(f"Fault: {state.fault}")
    if state.rating is not None:
        lines.append(f"Satisfaction: {state.rating}/5")
    if state.closed_at:
        lines.append(f"Ended {stamp(state.closed_at, zone)}: {state.closed_reason or 'withdrawn'}")
    return "\n".join(lines)

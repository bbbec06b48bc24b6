"""The case's progress as the Temporal UI shows it: markdown, no customer PII."""

from datetime import datetime

from domain.clock import next_deadline
from domain.model import STEPS, CaseState, CaseStatus


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")


def summary(case_id: str, motive: str, channel: str) -> str:
    return f"Complaint {case_id} · {motive} · via {channel}"


def progress(state: CaseState) -> str:
    marks = " ".join(f"{'✅' if s in state.steps_done else '⬜'} {s.label}" for s in STEPS)
    lines = [
        f"**Case {state.case_id}** · {state.motive} · via {state.channel} · "
        f"{state.profile.tier} customer",
        "",
        marks,
        "",
        f"Status: **{state.status}** (at {state.stage.replace('_', ' ')})",
    ]
    offer = state.current_offer
    if state.status == CaseStatus.AWAITING_CUSTOMER and offer is not None:
        kinds = ", ".join(o.kind for o in offer.options)
        lines.append(
            f"Waiting for the customer's choice (offer {offer.round}: {kinds}); staff clock paused"
        )
    if state.accepted:
        lines.append(f"Accepted: {state.accepted.kind}")
    deadline = next_deadline(state)
    if deadline is not None:
        lines.append(f"Next: **{deadline.label}**, {_when(deadline.at)}")
    if state.escalation_level:
        lines.append(f"Escalation level: **{state.escalation_level}**")
    if state.fault:
        lines.append(f"Fault: {state.fault}")
    if state.rating is not None:
        lines.append(f"Satisfaction: {state.rating}/5")
    if state.closed_at:
        lines.append(f"Ended {_when(state.closed_at)}: {state.closed_reason or 'withdrawn'}")
    return "\n".join(lines)

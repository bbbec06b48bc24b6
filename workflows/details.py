"""The case's progress as the Temporal UI shows it: markdown, no customer PII."""

from datetime import datetime

from domain.model import STEPS, CaseState


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")


def summary(case_id: str, motive: str, channel: str) -> str:
    return f"Complaint {case_id} · {motive} · via {channel}"


def progress(state: CaseState) -> str:
    marks = " ".join(f"{'✅' if s in state.steps_done else '⬜'} {s.label}" for s in STEPS)
    lines = [f"**Case {state.case_id}** · {state.motive} · via {state.channel}", "", marks, ""]
    lines.append(f"Status: **{state.status}**")
    if state.next_step and state.response_due_at:
        lines.append(f"Next: **{state.next_step.label}**, due {_when(state.response_due_at)}")
    if state.escalation_level:
        lines.append(f"Escalation level: **{state.escalation_level}**")
    if state.fault:
        lines.append(f"Fault: {state.fault}")
    if state.resolved_at:
        lines.append(f"Resolved {_when(state.resolved_at)}")
    if state.withdrawn_reason:
        lines.append(f"Withdrawn {_when(state.closed_at or state.opened_at)}")
    return "\n".join(lines)

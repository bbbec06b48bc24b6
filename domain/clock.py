"""A case's deadlines, as pure functions of its state: what is due next, and when.

The workflow sleeps until `next_deadline(state)` unless something happens first; then it
asks `decide(CheckClock())` for whatever has fallen due.
"""

from datetime import datetime
from enum import StrEnum

from domain.model import CaseState, CaseStatus, Frozen


class Due(StrEnum):
    RESPONSE_WARNING = "response_warning"
    RESPONSE_TARGET = "response_target"
    CUSTOMER_WAIT = "customer_wait"
    FOLLOW_UP = "follow_up"
    FOLLOW_UP_EXPIRY = "follow_up_expiry"
    IMPROVEMENT_REPORT = "improvement_report"
    UNANSWERED = "unanswered"


class Deadline(Frozen):
    at: datetime
    due: Due
    label: str  # names the timer in the Temporal UI


def deadlines(state: CaseState) -> list[Deadline]:
    out: list[Deadline] = []
    if state.clock_running and state.response_due_at and state.next_step:
        step = state.next_step.label
        warn_at = state.warn_at
        if not state.warned and warn_at is not None:
            out.append(
                Deadline(
                    at=warn_at,
                    due=Due.RESPONSE_WARNING,
                    label=f"warning before response target: {step}",
                )
            )
        else:
            out.append(
                Deadline(
                    at=state.response_due_at,
                    due=Due.RESPONSE_TARGET,
                    label=f"response target: {step}",
                )
            )
    if (
        state.status == CaseStatus.AWAITING_CUSTOMER
        and not state.customer_reminded
        and state.customer_wait_due_at
    ):
        out.append(
            Deadline(
                at=state.customer_wait_due_at,
                due=Due.CUSTOMER_WAIT,
                label="customer's answer: wait limit",
            )
        )
    unanswered_after = state.care.unanswered_close_after
    offer = state.current_offer
    if state.status == CaseStatus.AWAITING_CUSTOMER and unanswered_after and offer:
        out.append(
            Deadline(
                at=offer.at + unanswered_after,
                due=Due.UNANSWERED,
                label="customer's answer: closes as unanswered",
            )
        )
    if state.status == CaseStatus.RESOLVED:
        if not state.follow_up_reminded and state.follow_up_due_at:
            out.append(
                Deadline(at=state.follow_up_due_at, due=Due.FOLLOW_UP, label="follow-up call due")
            )
        elif state.follow_up_expires_at:
            out.append(
                Deadline(
                    at=state.follow_up_expires_at,
                    due=Due.FOLLOW_UP_EXPIRY,
                    label="follow-up: closes without a score",
                )
            )
    if state.improvement_report_due_at and state.status != CaseStatus.WITHDRAWN:
        out.append(
            Deadline(
                at=state.improvement_report_due_at,
                due=Due.IMPROVEMENT_REPORT,
                label="tell the customer how their suggestion was applied",
            )
        )
    return out


def next_deadline(state: CaseState) -> Deadline | None:
    return min(deadlines(state), key=lambda d: d.at, default=None)


def finished(state: CaseState) -> bool:
    """Nothing more can happen: final, and no deadline left (an improvement report may be)."""
    return state.status.is_final and next_deadline(state) is None


def staff_due_at(state: CaseState) -> datetime | None:
    """When staff next owe the case something (ResponseDueAt); none while the customer decides."""
    if state.clock_running:
        return state.response_due_at
    if state.status == CaseStatus.RESOLVED and not state.follow_up_reminded:
        return state.follow_up_due_at
    if state.status == CaseStatus.ESCALATED:
        return state.response_due_at  # the missed target, so "overdue now" still finds it
    return None

"""What a staff action answers: where the case stands now, small and free of customer data.

An Update's result is kept in the workflow's history: the whole case there would repeat its
texts on every action and cost a bigger payload to seal, send and store.
"""

from datetime import datetime

from domain.clock import staff_due_at
from domain.model import CaseState, CaseStatus, Frozen


class CaseSummary(Frozen):
    case_id: str
    version: int  # events stored so far
    status: CaseStatus
    stage: str  # ComplaintStep: the step due, customer_response, follow_up or done
    escalation_level: int
    due_at: datetime | None  # when staff next owe the case something (ResponseDueAt)
    recorded: tuple[str, ...] = ()  # the event types this action stored


def summarize(state: CaseState, recorded: tuple[str, ...] = ()) -> CaseSummary:
    return CaseSummary(
        case_id=state.case_id,
        version=state.version,
        status=state.status,
        stage=state.stage,
        escalation_level=state.escalation_level,
        due_at=staff_due_at(state),
        recorded=recorded,
    )

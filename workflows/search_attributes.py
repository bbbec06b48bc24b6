"""The custom search attributes staff filter by: contract names, never customer PII."""

from datetime import datetime

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from domain.model import CaseState

STATUS = SearchAttributeKey.for_keyword("ComplaintStatus")
STEP = SearchAttributeKey.for_keyword("ComplaintStep")
MOTIVE = SearchAttributeKey.for_keyword("ComplaintMotive")
TIER = SearchAttributeKey.for_keyword("CustomerTier")
ESCALATION_LEVEL = SearchAttributeKey.for_int("EscalationLevel")
RESPONSE_DUE_AT = SearchAttributeKey.for_datetime("ResponseDueAt")

ALL: tuple[SearchAttributeKey, ...] = (
    STATUS,
    STEP,
    MOTIVE,
    TIER,
    ESCALATION_LEVEL,
    RESPONSE_DUE_AT,
)


def updates_for(state: CaseState) -> list[SearchAttributeUpdate]:
    due: datetime | None = state.response_due_at
    step = state.next_step.value if state.next_step else "none"
    return [
        STATUS.value_set(state.status.value),
        STEP.value_set(step),
        MOTIVE.value_set(state.motive.value),
        ESCALATION_LEVEL.value_set(state.escalation_level),
        RESPONSE_DUE_AT.value_set(due) if due else RESPONSE_DUE_AT.value_unset(),
    ]

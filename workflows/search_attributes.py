"""The custom search attributes staff filter by: contract names, never customer PII."""

from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate, TypedSearchAttributes

from domain.clock import staff_due_at
from domain.model import CaseState

STATUS = SearchAttributeKey.for_keyword("ComplaintStatus")
STEP = SearchAttributeKey.for_keyword("ComplaintStep")
MOTIVE = SearchAttributeKey.for_keyword("ComplaintMotive")
TIER = SearchAttributeKey.for_keyword("CustomerTier")
ESCALATION_LEVEL = SearchAttributeKey.for_int("EscalationLevel")
RESPONSE_DUE_AT = SearchAttributeKey.for_datetime("ResponseDueAt")
# Set once, when the case starts (app.cases): the shop whose case it is.
SHOP = SearchAttributeKey.for_keyword("ShopId")

ALL: tuple[SearchAttributeKey[Any], ...] = (
    STATUS,
    STEP,
    MOTIVE,
    TIER,
    ESCALATION_LEVEL,
    RESPONSE_DUE_AT,
    SHOP,
)


def updates_for(state: CaseState) -> list[SearchAttributeUpdate[Any]]:
    due: datetime | None = staff_due_at(state)
    return [
        STATUS.value_set(state.status.value),
        STEP.value_set(state.stage),
        MOTIVE.value_set(state.motive.value),
        TIER.value_set(state.profile.tier.value),
        ESCALATION_LEVEL.value_set(state.escalation_level),
        RESPONSE_DUE_AT.value_set(due) if due else RESPONSE_DUE_AT.value_unset(),
    ]


def changed(
    updates: list[SearchAttributeUpdate[Any]], current: TypedSearchAttributes
) -> list[SearchAttributeUpdate[Any]]:
    """The updates whose value differs from what the workflow already has: an upsert is a
    command in history and an index write, so one that changes nothing is skipped."""
    return [u for u in updates if current.get(u.key) != u.value]

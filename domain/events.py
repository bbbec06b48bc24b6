"""What happened to a case, in the past tense. Immutable; the state is their fold."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, TypeAdapter

from domain.model import Channel, Customer, Fault, Frozen, Motive, ResponseTargets, Step


class _Event(Frozen):
    at: datetime
    by: str | None = None


class CaseOpened(_Event):
    type: Literal["case_opened"] = "case_opened"
    case_id: str
    customer: Customer
    channel: Channel
    motive: Motive
    summary: str
    targets: ResponseTargets


class Apologized(_Event):
    type: Literal["apologized"] = "apologized"
    what: str


class Empathized(_Event):
    type: Literal["empathized"] = "empathized"
    customer_words: str


class CauseAnalyzed(_Event):
    type: Literal["cause_analyzed"] = "cause_analyzed"
    cause: str
    fault: Fault


class ResolutionOffered(_Event):
    type: Literal["resolution_offered"] = "resolution_offered"
    plan: str


class PreventionShown(_Event):
    type: Literal["prevention_shown"] = "prevention_shown"
    measure: str


class ResponseDueSoon(_Event):
    type: Literal["response_due_soon"] = "response_due_soon"
    step: Step
    due_at: datetime


class Escalated(_Event):
    """The step now due missed its response target; a new window starts at `at`."""

    type: Literal["escalated"] = "escalated"
    step: Step
    level: int = Field(ge=1)
    missed_due_at: datetime


class CaseWithdrawn(_Event):
    type: Literal["case_withdrawn"] = "case_withdrawn"
    reason: str


Event = Annotated[
    CaseOpened
    | Apologized
    | Empathized
    | CauseAnalyzed
    | ResolutionOffered
    | PreventionShown
    | ResponseDueSoon
    | Escalated
    | CaseWithdrawn,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class RecordedEvent(Frozen):
    """An event as stored: the envelope gives it identity and its place in the case."""

    event_id: UUID
    case_id: str
    seq: int = Field(ge=1)
    event: Event

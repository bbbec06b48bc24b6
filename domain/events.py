"""What happened to a case, in the past tense. Immutable; the state is their fold."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, TypeAdapter

from domain.model import (
    CarePolicy,
    Customer,
    CustomerProfile,
    Fault,
    Frozen,
    Instant,
    IntakeChannel,
    Motive,
    Remedy,
    RemedyKind,
    ResponseTargets,
    Step,
)


class _Event(Frozen):
    at: Instant
    by: str | None = None


class CaseOpened(_Event):
    type: Literal["case_opened"] = "case_opened"
    case_id: str
    customer_id: str | None = None
    customer: Customer | None = None  # cases opened before customer references only
    channel: IntakeChannel
    motive: Motive
    summary: str
    targets: ResponseTargets
    care: CarePolicy
    profile: CustomerProfile


class Apologized(_Event):
    type: Literal["apologized"] = "apologized"
    what: str
    # A reply to a public review: drafted now, posted from this time (after a night's calm).
    post_from: Instant | None = None


class Empathized(_Event):
    type: Literal["empathized"] = "empathized"
    customer_words: str


class CauseAnalyzed(_Event):
    type: Literal["cause_analyzed"] = "cause_analyzed"
    cause: str
    fault: Fault


class PolicyOverridden(_Event):
    """The owner offered what the policy does not allow, and said why."""

    type: Literal["policy_overridden"] = "policy_overridden"
    kinds: tuple[RemedyKind, ...]
    reason: str


class OverrideRequested(_Event):
    """Staff asked the owner to offer what the policy does not allow now, and said why."""

    type: Literal["override_requested"] = "override_requested"
    kinds: tuple[RemedyKind, ...]
    reason: str


class ResolutionOffered(_Event):
    type: Literal["resolution_offered"] = "resolution_offered"
    round: int
    options: tuple[Remedy, ...]
    plan: str
    overridden: bool = False


class ResolutionAccepted(_Event):
    type: Literal["resolution_accepted"] = "resolution_accepted"
    remedy: Remedy


class ResolutionDeclined(_Event):
    type: Literal["resolution_declined"] = "resolution_declined"
    round: int
    reason: str


class CustomerWaitExceeded(_Event):
    """The customer has not answered the offer in time: staff should call."""

    type: Literal["customer_wait_exceeded"] = "customer_wait_exceeded"
    offered_at: Instant


class PreventionShown(_Event):
    type: Literal["prevention_shown"] = "prevention_shown"
    measure: str


class ImprovementReported(_Event):
    """The customer who suggested the improvement was told how it was applied."""

    type: Literal["improvement_reported"] = "improvement_reported"
    measure: str


class FollowUpDue(_Event):
    type: Literal["follow_up_due"] = "follow_up_due"


class SatisfactionRecorded(_Event):
    type: Literal["satisfaction_recorded"] = "satisfaction_recorded"
    score: int = Field(ge=1, le=5)
    comment: str | None = None


class CaseReopened(_Event):
    """A low follow-up score sends the case back to the offer step."""

    type: Literal["case_reopened"] = "case_reopened"
    score: int


class CaseClosed(_Event):
    type: Literal["case_closed"] = "case_closed"
    reason: Literal["satisfied", "no_follow_up_answer", "unanswered"]


class ResponseDueSoon(_Event):
    type: Literal["response_due_soon"] = "response_due_soon"
    step: Step
    due_at: Instant


class Escalated(_Event):
    """Late on the step now due (a new window starts at `at`), or declined twice."""

    type: Literal["escalated"] = "escalated"
    step: Step
    level: int = Field(ge=1)
    reason: Literal["overdue", "declined_twice"] = "overdue"
    missed_due_at: Instant | None = None


class DelayRecorded(_Event):
    """Staff said, before the deadline, that the step now due will be late: its target moves
    to `due_at` and the customer is told why. The first delay of a case grants the delay
    compensation of the shop's policy (`compensation`); later ones repeat it, granted once."""

    type: Literal["delay_recorded"] = "delay_recorded"
    step: Step
    missed_due_at: Instant  # the target it replaces
    due_at: Instant
    reason: str
    compensation: Remedy | None = None


class RulesChanged(_Event):
    """The case took the shop's new rules from `at` on: what had fired stays fired; the
    response target now due moved to `response_due_at` (the time the step had used under
    the old rules counts, the rest is counted under the new ones)."""

    type: Literal["rules_changed"] = "rules_changed"
    targets: ResponseTargets
    care: CarePolicy
    reason: str
    response_due_at: Instant | None = None


class CaseWithdrawn(_Event):
    type: Literal["case_withdrawn"] = "case_withdrawn"
    reason: str


Event = Annotated[
    CaseOpened
    | Apologized
    | Empathized
    | CauseAnalyzed
    | PolicyOverridden
    | OverrideRequested
    | ResolutionOffered
    | ResolutionAccepted
    | ResolutionDeclined
    | CustomerWaitExceeded
    | PreventionShown
    | ImprovementReported
    | FollowUpDue
    | SatisfactionRecorded
    | CaseReopened
    | CaseClosed
    | ResponseDueSoon
    | Escalated
    | DelayRecorded
    | RulesChanged
    | CaseWithdrawn,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
EVENTS_ADAPTER: TypeAdapter[list[Event]] = TypeAdapter(list[Event])  # one parse per batch


class RecordedEvent(Frozen):
    """An event as stored: the envelope gives it identity and its place in the case."""

    event_id: UUID
    case_id: str
    seq: int = Field(ge=1)
    event: Event

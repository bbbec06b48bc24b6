"""What staff (or the clock) ask of a case, in the imperative. Each is one Update's input."""

from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from domain.model import (
    CarePolicy,
    CaseId,
    Customer,
    CustomerId,
    CustomerProfile,
    Fault,
    Frozen,
    Instant,
    IntakeChannel,
    Motive,
    Name,
    RemedyKind,
    ResponseTargets,
    Text,
)

Staff = Name | None  # who acted: a staff member's name or initials, for the record


class OpenCase(Frozen):
    case_id: CaseId
    customer_id: CustomerId | None = None  # the customer's row in PostgreSQL
    # Name and phone in the command itself: how cases were opened before customer
    # references; still read so those cases replay, refused for new ones by the clients.
    customer: Customer | None = None
    channel: IntakeChannel
    motive: Motive
    summary: Text  # what happened, in the customer's or staff's words
    # The shop's rules: the workflow fills them in from the worker's rulebook before it
    # decides (what a client sends here is ignored), so one shop runs on one rulebook.
    # Clients leave them out, so the case's input never shows a rule it does not run by;
    # left out, the method's defaults apply (24 hours a step).
    targets: ResponseTargets | None = None
    care: CarePolicy | None = None
    # Looked up by the workflow when the case opens (visits, tier, earlier cases).
    profile: CustomerProfile = Field(default_factory=CustomerProfile)
    by: Staff = None

    @model_validator(mode="after")
    def _one_customer(self) -> Self:
        if (self.customer_id is None) == (self.customer is None):
            raise ValueError("give the customer's reference (customer_id)")
        return self


class Apologize(Frozen):
    what: Text  # the specific thing that went wrong, not a general "sorry"
    by: Staff = None


class Empathize(Frozen):
    customer_words: Text  # what the customer said, in their own words
    by: Staff = None


class AnalyzeCause(Frozen):
    cause: Text
    fault: Fault
    by: Staff = None


class OfferedRemedy(Frozen):
    kind: RemedyKind
    terms: Text | None = None  # the policy's terms when left out


class OfferResolution(Frozen):
    """One or more options; giving the customer a choice is encouraged."""

    options: Annotated[list[OfferedRemedy], Field(min_length=1, max_length=6)]
    plan: Text  # concrete terms: "full refund", "we call you between 3 and 5 pm"
    # An option outside the policy needs the owner's explicit reason; it is recorded.
    override_reason: Text | None = None
    by: Staff = None

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        kinds = [o.kind for o in self.options]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each remedy may be offered once per offer")
        return self


class RecordCustomerResponse(Frozen):
    """The customer's answer to the open offer: the option they chose, or why they decline."""

    choice: RemedyKind | None = None
    decline_reason: Text | None = None
    by: Staff = None

    @model_validator(mode="after")
    def _one_answer(self) -> Self:
        if (self.choice is None) == (self.decline_reason is None):
            raise ValueError("give either the chosen option or the reason for declining")
        return self


class ShowPrevention(Frozen):
    measure: Text  # what changes so it does not happen again
    by: Staff = None


class RecordSatisfaction(Frozen):
    score: int = Field(ge=1, le=5)
    comment: Text | None = None
    by: Staff = None


class Withdraw(Frozen):
    reason: Text
    by: Staff = None


def _with_offset(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("give the time with its zone or offset, e.g. 2026-12-08T15:00+09:00")
    return at


# The reason goes to the customer in a KakaoTalk message (1000 characters in all).
DelayReason = Annotated[Text, StringConstraints(max_length=300)]


class RecordDelay(Frozen):
    """Bad news before the deadline: staff will not meet the target of the step now due (the
    redo is not ready by the promised time). The new time and the reason; the customer is
    told at once, and the delay compensation the shop's policy gives follows."""

    until: Annotated[Instant, AfterValidator(_with_offset)]
    reason: DelayReason
    by: Staff = None


class RequestOverride(Frozen):
    """Staff who may not offer beyond the policy ask the owner to: the remedies the customer
    wants that the policy does not allow now, and why. The owner's view lists the case until
    an offer answers it."""

    kinds: tuple[RemedyKind, ...] = Field(min_length=1)
    reason: Text
    by: Staff = None


class CheckClock(Frozen):
    """The clock's own command: the workflow raises it when the case's next deadline passes."""


class ChangeRules(Frozen):
    """The shop's rulebook moved (the owner changed a rule, the calendar, or the case outlived
    the years its holidays covered): the case takes `rules` from now on."""

    targets: ResponseTargets
    care: CarePolicy
    reason: Text


StepCommand = Apologize | Empathize | AnalyzeCause | OfferResolution | ShowPrevention
Command = (
    OpenCase
    | StepCommand
    | RecordCustomerResponse
    | RecordSatisfaction
    | RecordDelay
    | RequestOverride
    | Withdraw
    | CheckClock
    | ChangeRules
)

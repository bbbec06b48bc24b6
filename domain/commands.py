"""What staff (or the clock) ask of a case, in the imperative. Each is one Update's input."""

from pydantic import Field

from domain.model import CaseId, Channel, Customer, Fault, Frozen, Motive, ResponseTargets, Text

Staff = Text | None  # who acted: a staff member's name or initials, for the record


class OpenCase(Frozen):
    case_id: CaseId
    customer: Customer
    channel: Channel
    motive: Motive
    summary: Text  # what happened, in the customer's or staff's words
    targets: ResponseTargets = Field(default_factory=ResponseTargets)
    by: Staff = None


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


class OfferResolution(Frozen):
    plan: Text  # concrete terms: "full refund", "we call you between 3 and 5 pm"
    by: Staff = None


class ShowPrevention(Frozen):
    measure: Text  # what changes so it does not happen again
    by: Staff = None


class Withdraw(Frozen):
    reason: Text
    by: Staff = None


class CheckResponseTarget(Frozen):
    """The clock's own command: raised by the workflow when a warning or due time passes."""


StepCommand = Apologize | Empathize | AnalyzeCause | OfferResolution | ShowPrevention
Command = OpenCase | StepCommand | Withdraw | CheckResponseTarget

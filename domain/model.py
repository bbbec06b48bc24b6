"""The case and its parts: values only, frozen, no behaviour beyond derived reads."""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from domain.phone import normalize_phone

# Free text staff or customers wrote: trimmed, never empty, bounded so a paste accident
# cannot bloat the history.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Phone = Annotated[str, AfterValidator(normalize_phone)]
CaseId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,39}$")]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Step(StrEnum):
    """The five-step apology, in the order it must be walked."""

    APOLOGIZE = "apologize"
    EMPATHIZE = "empathize"
    ANALYZE_CAUSE = "analyze_cause"
    OFFER_RESOLUTION = "offer_resolution"
    SHOW_PREVENTION = "show_prevention"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


STEPS: tuple[Step, ...] = tuple(Step)


class Motive(StrEnum):
    COMPENSATION = "compensation"
    ANGER = "anger"
    IMPROVEMENT = "improvement"
    PROTECT_OTHERS = "protect_others"


class Fault(StrEnum):
    OURS = "ours"
    MISUNDERSTANDING = "misunderstanding"
    UNFOUNDED = "unfounded"


class Channel(StrEnum):
    PHONE = "phone"
    KAKAOTALK = "kakaotalk"
    SMS = "sms"
    IN_PERSON = "in_person"
    EMAIL = "email"
    REVIEW = "review"  # a public review on a marketplace or map service
    WEB = "web"


class CaseStatus(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"  # the step now due is past its response target
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"

    @property
    def is_final(self) -> bool:
        return self in (CaseStatus.RESOLVED, CaseStatus.WITHDRAWN)


class Customer(Frozen):
    name: Text
    phone: Phone


class ResponseTargets(Frozen):
    """The response clock of one case, fixed when it opens so replays never see new config."""

    target: timedelta = Field(default=timedelta(hours=24), gt=timedelta(0))
    warn_fraction: float = Field(default=0.75, gt=0, lt=1)
    # The last level someone new hears of it (owner); past it the clock waits for staff.
    max_escalation_level: int = Field(default=2, ge=1)


class StepDone(Frozen):
    step: Step
    at: datetime
    started_at: datetime  # when the step became due: its response time runs from here
    due_at: datetime  # its first target; an escalation's later window does not move it

    @property
    def within_target(self) -> bool:
        return self.at <= self.due_at


class CaseState(Frozen):
    """Everything known about one case: the fold of its events."""

    case_id: str
    version: int  # number of events folded in; the next event gets seq version + 1
    status: CaseStatus
    motive: Motive
    channel: Channel
    customer: Customer
    summary: str
    targets: ResponseTargets
    opened_at: datetime
    next_step: Step | None = Step.APOLOGIZE
    done: tuple[StepDone, ...] = ()
    apology: str | None = None
    customer_words: str | None = None
    cause: str | None = None
    fault: Fault | None = None
    resolution: str | None = None
    prevention: str | None = None
    step_started_at: datetime  # when the step now due became due
    # The response window of the step now due; restarts after each step and each breach.
    window_started_at: datetime
    response_due_at: datetime | None
    warned: bool = False
    escalation_level: int = 0  # of the step now due; back to 0 once it is answered
    escalations: int = 0  # over the whole case
    resolved_at: datetime | None = None
    withdrawn_reason: str | None = None
    closed_at: datetime | None = None

    @property
    def warn_at(self) -> datetime | None:
        if self.response_due_at is None:
            return None
        window = self.response_due_at - self.window_started_at
        return self.window_started_at + window * self.targets.warn_fraction

    @property
    def clock_running(self) -> bool:
        """Whether a response target is still ahead: false once the top level was told."""
        return (
            self.next_step is not None
            and not self.status.is_final
            and self.escalation_level < self.targets.max_escalation_level
        )

    @property
    def steps_done(self) -> tuple[Step, ...]:
        return tuple(d.step for d in self.done)

"""The case and its parts: values only, frozen, no behaviour beyond derived reads."""

import re
import unicodedata
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from domain import calendar as shop_time
from domain.calendar import BusinessCalendar, QuietHours
from domain.phone import normalize_phone
from domain.wording import Language


def printable(text: object) -> object:
    """Refuse what no person means to write and PostgreSQL cannot store: control
    characters (NUL above all) and lone surrogates. Newlines and tabs stay; a Windows
    line end (CR LF) becomes a newline."""
    if not isinstance(text, str):
        return text  # the str validator after this says what is wrong
    text = text.replace("\r\n", "\n")
    for position, char in enumerate(text, start=1):
        if char in "\n\t":
            continue
        kind = {"Cc": "control character", "Cs": "unpaired surrogate"}.get(
            unicodedata.category(char)
        )
        if kind:
            raise ValueError(
                f"contains the {kind} U+{ord(char):04X} at position {position}; "
                "remove it (only line breaks and tabs are allowed)"
            )
    return text


# Characters that make text display as something other than what it holds: the bidi
# controls reorder what follows them (U+202E shows "gnp.exe" as "exe.png"), the invisible
# ones split or join words nobody can see. A name or a text never needs them.
_DISGUISING = {
    **{c: "bidi control" for c in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"},
    **{c: "bidi control" for c in "\u2066\u2067\u2068\u2069"},
    **{c: "invisible character" for c in "\u00ad\u180e\u200b\u2060\u2061\u2062\u2063"},
    **{c: "invisible character" for c in "\u2064\ufeff"},
}
# Joiners are how emoji sequences (family, flags of professions) and some scripts are
# written, so a text keeps them; in a name they can only hide a difference.
_JOINERS = {"\u200c": "invisible joiner", "\u200d": "invisible joiner"}


def _undisguised(text: str, refused: dict[str, str]) -> str:
    for position, char in enumerate(text, start=1):
        kind = refused.get(char)
        if kind:
            raise ValueError(
                f"contains the {kind} U+{ord(char):04X} at position {position}, which "
                "can make it display as something else; remove it"
            )
    return text


def undisguised_text(text: str) -> str:
    return _undisguised(text, _DISGUISING)


def undisguised_name(text: str) -> str:
    return _undisguised(text, _DISGUISING | _JOINERS)


# Free text staff or customers wrote: trimmed, never empty, printable, bounded so a paste
# accident cannot bloat the history.
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    AfterValidator(undisguised_text),
    BeforeValidator(printable),  # listed last: it runs first
]
# A person's name: what Text allows, but short and without joiners.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(undisguised_name),
    BeforeValidator(printable),
]
Phone = Annotated[str, AfterValidator(normalize_phone)]
CaseId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,39}$")]
# A customer as the workflow knows them: a reference into PostgreSQL, where the name and
# phone live (so Temporal never holds them, not even encrypted).
CustomerId = Annotated[str, StringConstraints(pattern=r"^cus-[a-z0-9-]{4,40}$")]


# An instant as pydantic writes one (RFC 3339: seconds, at most 6 decimals, "Z" or an offset).
_WRITTEN_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def read_instant(value: object) -> object:
    """An instant written as pydantic writes one ("...Z", "+09:00") read by the standard
    library, so its tzinfo is datetime's own (`datetime.UTC` for "Z"); anything else is left
    to pydantic, which refuses what `fromisoformat` would let through (a NUL or a tab inside,
    "T00Z", "20300101T000000Z"). Pydantic's reading gives its own TzInfo, and every comparison
    or subtraction of such datetimes calls back into it (pydantic#7897), which a replay or a
    rebuild does on every event: a tenth of the fold. Values and dumps are the same."""
    if isinstance(value, str) and _WRITTEN_INSTANT.fullmatch(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value  # a month 13, an hour 24: pydantic says what is wrong with it
    return value  # other text, numbers, datetimes: as pydantic reads them


# Every instant of a case, its events and its payloads (see read_instant).
Instant = Annotated[datetime, BeforeValidator(read_instant)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def stage_name(stage: str) -> str:
    """A step or stage as people read it: `analyze_cause` is "analyze cause" in every
    sentence; the underscored form is for filters, JSON and search attributes."""
    return stage.replace("_", " ")


class Step(StrEnum):
    """The five-step apology, in the order it must be walked."""

    APOLOGIZE = "apologize"
    EMPATHIZE = "empathize"
    ANALYZE_CAUSE = "analyze_cause"
    OFFER_RESOLUTION = "offer_resolution"
    SHOW_PREVENTION = "show_prevention"

    @property
    def label(self) -> str:
        return stage_name(self.value)


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


class IntakeChannel(StrEnum):
    """Where a complaint came in (not how the shop answers: notices go out through notify/)."""

    PHONE = "phone"
    KAKAOTALK = "kakaotalk"
    SMS = "sms"
    IN_PERSON = "in_person"
    EMAIL = "email"
    REVIEW = "review"  # a public review on a marketplace or map service
    WEB = "web"


class CaseStatus(StrEnum):
    OPEN = "open"
    AWAITING_CUSTOMER = "awaiting_customer"  # an offer is out; the staff clock is paused
    ESCALATED = "escalated"  # past a response target, or the customer declined twice
    RESOLVED = "resolved"  # prevention shown; the follow-up call is ahead
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    @property
    def is_final(self) -> bool:
        return self in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)


class Tier(StrEnum):
    NEW = "new"  # no visit recorded yet
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"


class RemedyKind(StrEnum):
    FREE_REDO = "free_redo"
    PARTIAL_REFUND = "partial_refund"
    FULL_REFUND = "full_refund"
    NEXT_SERVICE_DISCOUNT = "next_service_discount"
    DELAY_DISCOUNT = "delay_discount"
    GOODWILL_GIFT = "goodwill_gift"
    PRIORITY_BOOKING = "priority_booking"
    FORMAL_APOLOGY = "formal_apology"
    PUBLIC_APOLOGY = "public_apology"
    THANKS = "thanks"
    THANK_YOU_BENEFIT = "thank_you_benefit"
    FACT_EXPLANATION = "fact_explanation"


class Remedy(Frozen):
    kind: RemedyKind
    terms: str  # concrete: "50 % refund of the service price", "redo on Saturday 10 am"


class Customer(Frozen):
    name: Name
    phone: Phone


class CustomerProfile(Frozen):
    """What the shop knows of the complainant when the case opens."""

    visits: int = Field(default=0, ge=0)
    tier: Tier = Tier.NEW
    previous_cases: int = Field(default=0, ge=0)


class ResponseTargets(Frozen):
    """The response clock of one case, fixed when it opens so replays never see new config."""

    target: timedelta = Field(default=timedelta(hours=24), gt=timedelta(0))
    # The first response (the apology) may be due sooner, e.g. for a public review.
    first_target: timedelta | None = Field(default=None, gt=timedelta(0))
    warn_fraction: float = Field(default=0.75, gt=0, lt=1)
    # The last level someone new hears of it (owner); past it the clock waits for staff.
    max_escalation_level: int = Field(default=2, ge=1)
    # How the targets are counted: "wall", every hour on the clock; "business", only the
    # open hours of `calendar`, the shop's calendar as it was when the case opened (kept in
    # wall mode too, for the shell to hold staff reminders until opening).
    mode: Literal["wall", "business"] = "wall"
    calendar: BusinessCalendar | None = None
    # A step counted otherwise than `mode` (the rulebook resolves per-motive choices when the
    # case opens, so this holds the case's own: e.g. apologize in wall time, the rest business).
    step_modes: dict["Step", Literal["wall", "business"]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _calendar_to_count_on(self) -> Self:
        if "business" in (self.mode, *self.step_modes.values()) and self.calendar is None:
            raise ValueError("business-time targets need the shop's calendar")
        return self

    def target_for(self, step: "Step") -> timedelta:
        if step == Step.APOLOGIZE and self.first_target is not None:
            return self.first_target
        return self.target

    def mode_for(self, step: "Step | None") -> Literal["wall", "business"]:
        return self.step_modes.get(step, self.mode) if step else self.mode

    def due_at(self, start: datetime, amount: timedelta, step: "Step | None" = None) -> datetime:
        """When `amount` of `step`'s time has passed since `start`."""
        return shop_time.due_at(start, amount, self._counted_on(step))

    def time_between(self, a: datetime, b: datetime, step: "Step | None" = None) -> timedelta:
        """`step`'s time from `a` to `b`: elapsed on the wall clock, or open hours."""
        return shop_time.time_between(a, b, self._counted_on(step))

    def _counted_on(self, step: "Step | None") -> BusinessCalendar | None:
        return self.calendar if self.mode_for(step) == "business" else None


class RemedyTerms(Frozen):
    """The shop's compensation rules: amounts are configuration, not code."""

    partial_refund_percent: int = Field(default=50, gt=0, lt=100)
    next_service_discount_percent: int = Field(default=10, gt=0, le=100)
    delay_discount_percent: int = Field(default=10, gt=0, le=100)
    goodwill_gift: str = "a small goodwill gift"
    thank_you_benefit: str = "a thank-you coupon for the next visit"


class CarePolicy(Frozen):
    """The rest of a case's rules, fixed when it opens like its ResponseTargets."""

    remedies: RemedyTerms = Field(default_factory=RemedyTerms)
    customer_wait: timedelta = Field(default=timedelta(hours=72), gt=timedelta(0))
    follow_up_after: timedelta = Field(default=timedelta(days=7), gt=timedelta(0))
    follow_up_window: timedelta = Field(default=timedelta(days=7), gt=timedelta(0))
    improvement_report_after: timedelta = Field(default=timedelta(days=1), ge=timedelta(0))
    reopen_at_or_below: int = Field(default=2, ge=1, le=4)
    # The rest are off in a snapshot that lacks them (cases opened before they existed replay
    # as they ran); the rulebook turns them on for new cases.
    # Customer messages never go out in these hours: they wait for the window, once.
    quiet_hours: QuietHours | None = None
    # Staff reminders wait for the calendar's opening hours; escalations too, unless the
    # case protects others or the owner asked to be woken (`owner_at_night`).
    hold_staff_notices: bool = False
    owner_at_night: bool = False
    # A reply to a public review is posted no sooner than this after it is drafted (and
    # at an opening time): a night's calm before answering in public.
    review_cool_off: timedelta | None = Field(default=None, gt=timedelta(0))
    # An offer the customer never answers closes the case as unanswered after this long.
    unanswered_close_after: timedelta | None = Field(default=None, gt=timedelta(0))
    # The customer hears of each moment of the case by message (domain.messages): the
    # receipt, the offer, a reminder, the follow-up, an unanswered close.
    customer_messages: bool = False
    # The language its notices are worded in, and who hears of each escalation level: the
    # shop's, so the workflow and the event store work out the same notices (None in a case
    # opened before they were kept: the worker's settings word its notices then).
    language: Language | None = None
    contacts: tuple[str, ...] | None = Field(default=None, min_length=1)


class CaseRules(Frozen):
    """The shop's rulebook as one case gets it when it opens: read from the worker's
    configuration (never the client's), snapshotted in the opening event."""

    targets: ResponseTargets
    care: CarePolicy


class Offer(Frozen):
    round: int
    at: Instant
    options: tuple[Remedy, ...]
    plan: str
    overridden: bool = False


class StepDone(Frozen):
    step: Step
    at: Instant
    started_at: Instant  # when the step became due: its response time runs from here
    due_at: Instant  # its first target; an escalation's later window does not move it

    @property
    def within_target(self) -> bool:
        return self.at <= self.due_at


class CaseState(Frozen):
    """Everything known about one case: the fold of its events."""

    case_id: str
    version: int  # number of events folded in; the next event gets seq version + 1
    status: CaseStatus
    motive: Motive
    channel: IntakeChannel
    customer_id: str | None = None
    customer: Customer | None = None  # cases opened before customer references only
    summary: str
    targets: ResponseTargets
    care: CarePolicy
    profile: CustomerProfile
    opened_at: Instant
    updated_at: Instant  # time of the latest event
    next_step: Step | None = Step.APOLOGIZE
    done: tuple[StepDone, ...] = ()
    apology: str | None = None
    customer_words: str | None = None
    cause: str | None = None
    fault: Fault | None = None
    resolution: str | None = None  # the plan of the latest offer
    offers: tuple[Offer, ...] = ()
    declines: int = 0  # in this offer cycle; the second escalates to the owner
    accepted: Remedy | None = None
    customer_wait_due_at: Instant | None = None
    customer_reminded: bool = False
    reply_post_from: Instant | None = None  # a review's drafted reply goes out from here
    prevention: str | None = None
    follow_up_due_at: Instant | None = None
    follow_up_expires_at: Instant | None = None
    follow_up_reminded: bool = False
    improvement_report_due_at: Instant | None = None
    rating: int | None = None
    rating_comment: str | None = None
    reopened: int = 0
    step_started_at: Instant  # when the step now due became due
    # The response window of the step now due; restarts after each step and each breach.
    window_started_at: Instant
    response_due_at: Instant | None
    warned: bool = False
    escalation_level: int = 0  # of the step now due; back to 0 once it is answered
    escalations: int = 0  # over the whole case
    breaches: int = 0  # escalations because the business was late
    resolved_at: Instant | None = None
    # A delay staff announced before the deadline: the step now due's target before the
    # first one (its response time is still counted from there), the delays of the case,
    # and the compensation the first granted.
    delayed_from: Instant | None = None
    delays: int = 0
    delay_compensation: Remedy | None = None
    withdrawn_reason: str | None = None
    closed_reason: str | None = None
    closed_at: Instant | None = None
    # Who holds the case, for a person's own list ("mine"): who opened it, and who answered
    # its latest step (the opener until then). The customer's answers and the clock's events
    # leave them as they are: the case stays with the staff member who offered.
    opened_by: str | None = None
    handled_by: str | None = None
    # Staff asked the owner for an override (the remedies wanted, and why): it waits on the
    # owner until the next offer answers it.
    override_wanted: tuple[RemedyKind, ...] = ()
    override_reason: str | None = None

    @property
    def warn_at(self) -> datetime | None:
        if self.response_due_at is None:
            return None
        # The fraction of the counted time: in business mode, of the open hours in the window.
        step, start = self.next_step, self.window_started_at
        window = self.targets.time_between(start, self.response_due_at, step)
        return self.targets.due_at(start, window * self.targets.warn_fraction, step)

    @property
    def clock_running(self) -> bool:
        """Whether a staff response target is ahead: not while the customer is deciding,
        and not once the top escalation level has been told."""
        return (
            self.next_step is not None
            and not self.status.is_final
            and self.status != CaseStatus.AWAITING_CUSTOMER
            and self.escalation_level < self.targets.max_escalation_level
        )

    @property
    def stage(self) -> str:
        """Where the case stands, as staff filter by it (ComplaintStep)."""
        if self.status.is_final:
            return "done"
        if self.status == CaseStatus.AWAITING_CUSTOMER:
            return "customer_response"
        if self.status == CaseStatus.RESOLVED:
            return "follow_up"
        return self.next_step.value if self.next_step else "done"

    @property
    def breached(self) -> bool:
        """The business was late at least once: the guides' delay discount applies."""
        return self.breaches > 0 or any(not d.within_target for d in self.done)

    @property
    def delay_discount_due(self) -> bool:
        """The menu offers the delay discount: the business was late, and no announced
        delay has granted it already."""
        return self.breached and self.delay_compensation is None

    @property
    def current_offer(self) -> Offer | None:
        return self.offers[-1] if self.offers else None

    @property
    def steps_done(self) -> tuple[Step, ...]:
        return tuple(d.step for d in self.done)

"""What the templates show, worked out in Python: time left in words, the colour of a due
time, the timeline's lines, the remedies allowed now. Times go through domain.wording, the
one formatter the notices use."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.customer_answers import CUSTOMER_BY
from app.inbox import Message
from domain.events import (
    Apologized,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    CaseWithdrawn,
    CauseAnalyzed,
    DelayRecorded,
    Empathized,
    Escalated,
    Event,
    ImprovementReported,
    OverrideRequested,
    PolicyOverridden,
    PreventionShown,
    ResolutionAccepted,
    ResolutionDeclined,
    ResolutionOffered,
    RulesChanged,
    SatisfactionRecorded,
)
from domain.messages import TEMPLATES
from domain.model import CaseState, Fault, RemedyKind, Tier
from domain.photos import shown_inline
from domain.remedies import RemedyMenu, remedy_menu
from domain.wording import duration, when
from pages.catalogue import Catalogue
from store.consents import ConsentCard
from store.photos import Photo
from store.referrals import Reward
from store.timeline import Entry


@dataclass(frozen=True)
class Due:
    words: str  # "2시간 남음", "3시간 지남"
    urgency: str  # overdue, soon (under 2 h), today, later, none
    at: str  # the due time as the locale writes it


def _rounded(delta: timedelta) -> timedelta:
    """Whole hours from two hours up, whole minutes below: what a glance needs."""
    seconds = int(abs(delta).total_seconds())
    if seconds >= 2 * 3600:
        return timedelta(hours=seconds // 3600)
    return timedelta(minutes=max(1, seconds // 60))


def due(at: datetime | None, now: datetime, zone: str, t: Catalogue) -> Due | None:
    if at is None:
        return None
    left = at - now
    words = duration(_rounded(left), t.language)
    if abs(left) < timedelta(minutes=1):
        text = t("due.now")
    else:
        text = t("due.left" if left > timedelta(0) else "due.over", words=words)
    if left <= timedelta(0):
        urgency = "overdue"
    elif left < timedelta(hours=2):
        urgency = "soon"
    elif at.astimezone(ZoneInfo(zone)).date() == now.astimezone(ZoneInfo(zone)).date():
        urgency = "today"
    else:
        urgency = "later"
    return Due(text, urgency, when(at, zone, t.language))


@dataclass(frozen=True)
class Line:
    at: str
    who: str
    what: str
    detail: str


def _detail(event: Event, t: Catalogue, zone: str) -> str:
    match event:
        case DelayRecorded():
            due = when(event.due_at, zone, t.language)
            return t("event.delay_detail", due=due, reason=event.reason)
        case CaseOpened():
            return event.summary
        case Apologized():
            return event.what
        case Empathized():
            return event.customer_words
        case CauseAnalyzed():
            return f"{event.cause} ({t.name(event.fault.value)})"
        case PolicyOverridden():
            return event.reason
        case OverrideRequested():
            return f"{event.reason} [{', '.join(t.name(k.value) for k in event.kinds)}]"
        case ResolutionOffered():
            kinds = ", ".join(t.name(o.kind.value) for o in event.options)
            return f"{event.plan} [{kinds}]"
        case ResolutionAccepted():
            return f"{t.name(event.remedy.kind.value)}: {event.remedy.terms}"
        case ResolutionDeclined():
            return event.reason
        case PreventionShown() | ImprovementReported():
            return event.measure
        case SatisfactionRecorded():
            return event.comment or ""
        case CaseClosed():
            return t.name(event.reason)
        case CaseWithdrawn():
            return event.reason
        case RulesChanged():
            return event.reason
        case _:
            return ""


def _what(event: Event, t: Catalogue) -> str:
    if isinstance(event, Escalated):
        if event.reason == "declined_twice":
            return t("event.escalated_declined")
        return t("event.escalated", level=event.level)
    if isinstance(event, SatisfactionRecorded | CaseReopened):
        return t(f"event.{event.type}", score=event.score)
    return t(f"event.{event.type}")


def timeline(entries: list[Entry], zone: str, t: Catalogue) -> list[Line]:
    """Newest first: what staff look for is what happened last."""
    return [
        Line(
            at=when(e.occurred_at, zone, t.language),
            who=t("case.by_customer")
            if e.event.by == CUSTOMER_BY
            else e.event.by or t("case.by_clock"),
            what=_what(e.event, t),
            detail=_detail(e.event, t, zone),
        )
        for e in reversed(entries)
    ]


def _who(by: str | None, t: Catalogue) -> str:
    """Who acted, in the page's words: a staff member's name, the customer, or the clock."""
    if by == CUSTOMER_BY:
        return t("case.by_customer")
    return by or t("case.by_clock")


@dataclass(frozen=True)
class Menu:
    allowed: tuple[RemedyKind, ...]
    recommended: RemedyKind
    why: str
    outside: tuple[RemedyKind, ...]  # for the owner's override


@dataclass(frozen=True)
class MessageLine:
    title: str  # the message's name ("접수 안내")
    state: str  # what became of it, in words
    tone: str  # ok, wait, bad: how the badge looks
    at: str
    detail: str


_TONE = {"sent": "ok", "fallback_sms": "ok", "failed": "bad", "not_sent": "bad"}


def message_lines(messages: list[Message], zone: str, t: Catalogue) -> list[MessageLine]:
    """The case's customer messages, oldest first, each with its delivery state in words."""
    lines = []
    for m in messages:
        template = TEMPLATES.get(m.kind)
        title = template.title[t.language] if template else m.kind
        at = when(m.at or m.written_at, zone, t.language)
        state = t(f"msg.{m.state}", when=at)
        shown_at = "" if m.state == "held" else at  # a held one says its time in its words
        lines.append(MessageLine(title, state, _TONE.get(m.state, "wait"), shown_at, m.detail))
    return lines


@dataclass(frozen=True)
class PhotoLine:
    url: str  # the case page's own path to it: ids only
    inline: bool  # drawn in the page (HEIC is offered as a download)
    at: str
    size: str


def photo_lines(found: list[Photo], case_id: str, zone: str, t: Catalogue) -> list[PhotoLine]:
    return [
        PhotoLine(
            url=f"/staff/cases/{case_id}/photos/{p.photo_id}",
            inline=shown_inline(p.content_type),
            at=when(p.uploaded_at, zone, t.language),
            size=f"{p.size / (1024 * 1024):.1f} MB"
            if p.size >= 102400
            else f"{max(1, -(-p.size // 1024))} KB",
        )
        for p in found
    ]


def may_delay(state: CaseState, now: datetime) -> bool:
    """Whether staff can still announce a delay: a target of theirs runs, not yet passed
    (domain.decider says the same, in words, when it refuses one)."""
    due = state.response_due_at
    return state.clock_running and due is not None and now < due


def menu(state: CaseState, t: Catalogue) -> Menu | None:
    """The remedies allowed now and why, in words (domain.remedies decides which)."""
    if state.fault is None:
        return None
    found: RemedyMenu = remedy_menu(
        state.motive, state.fault, state.profile.tier, state.delay_discount_due
    )
    reasons = [t("why.unfounded" if state.fault == Fault.UNFOUNDED else f"why.{state.motive}")]
    if RemedyKind.DELAY_DISCOUNT in found.allowed:
        reasons.append(t("why.late"))
    if state.profile.tier == Tier.GOLD and state.fault != Fault.UNFOUNDED:
        reasons.append(t("why.gold"))
    outside = tuple(k for k in RemedyKind if k not in found.allowed)
    return Menu(found.allowed, found.recommended, "; ".join(reasons), outside)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    of: int  # the whole the value is part of (0: none)
    width: float  # percent of the drawing's width

    @property
    def share(self) -> str:
        return f"{self.value / self.of:.0%}" if self.of else "-"


def shares(rows: list[tuple[str, int, int]]) -> list[Bar]:
    """Bars of value out of a whole each (within target of answered): width = the share."""
    return [Bar(label, value, of, 100 * value / of if of else 0) for label, value, of in rows]


def counts(rows: list[tuple[str, int]]) -> list[Bar]:
    """Bars of counts against the largest."""
    top = max((n for _, n in rows), default=0)
    return [Bar(label, n, 0, 100 * n / top if top else 0) for label, n in rows]


def minutes(value: float | None, t: Catalogue) -> str:
    if value is None:
        return t("reports.none")
    if value < 120:
        return t("reports.minutes", n=f"{value:.0f}")
    return t("reports.hours", n=f"{value / 60:.1f}")


@dataclass(frozen=True)
class ConsentView:
    """The customer card's consent lines, worded: yes or no for advertising and for the
    night, and the last change (when, how, by whom)."""

    marketing: str
    night: str
    last: str  # "" when never recorded
    opted_out: str  # when they withdrew, "" if they have not


def reward(r: Reward, t: Catalogue) -> str:
    """A reward as staff offer it at the counter."""
    key = f"reward.{r.kind}"
    return t(key, percent=r.percent or 0) if t.has(key) else r.kind


def consent(card: ConsentCard, zone: str, t: Catalogue) -> ConsentView:
    state = card.state
    marketing = night = t("consent.no")
    opted_out = ""
    if state is not None:
        if state.marketing and state.marketing_since:
            marketing = t("consent.yes_since", when=when(state.marketing_since, zone, t.language))
        if state.night and state.night_since:
            night = t("consent.yes_since", when=when(state.night_since, zone, t.language))
        if state.opted_out_at and not state.marketing:
            opted_out = when(state.opted_out_at, zone, t.language)
    last = ""
    if card.last is not None:
        change = card.last
        via_key = f"consent.via.{change.via}"
        by = t("consent.by_customer") if change.by_whom == "customer" else change.by_whom
        last = t(
            "consent.last",
            what=t(f"consent.change.{change.scope}.{'given' if change.given else 'withdrawn'}"),
            when=when(change.recorded_at, zone, t.language),
            how=t(via_key) if t.has(via_key) else change.via,
            by=by,
        )
    return ConsentView(marketing=marketing, night=night, last=last, opted_out=opted_out)


@dataclass(frozen=True)
class NoticeLine:
    case_id: str
    title: str  # what the notice is about, in the page's language
    to: str  # whom it is for, in words
    state: str  # held until ..., being sent, failed (why), waiting
    tone: str  # wait, late: the colour of the state
    since: str
    attempts: int


def notice_title(kind: str, t: Catalogue) -> str:
    """A notice's kind in words: a customer message by its template's title, a staff notice
    by the catalogue's name for it."""
    template = TEMPLATES.get(kind)
    if template is not None:
        return template.title[t.language]
    for key in (f"notice.{kind}", f"event.{kind}"):
        if t.has(key):
            return t(key)
    return kind


def notice_lines(
    rows: list[dict[str, object]], now: datetime, zone: str, t: Catalogue
) -> list[NoticeLine]:
    """The notices not delivered yet, oldest first, each with why it has not gone (the CLI's
    `complaints notifications` in the page's language). No text: it may be the customer's."""
    lines = []
    for r in rows:
        held = r["not_before"]
        error = r["last_error"]
        if isinstance(held, datetime) and held > now:
            state, tone = t("notices.held", when=when(held, zone, t.language)), "wait"
        elif r["sending"]:
            state, tone = t("notices.sending"), "wait"
        elif error:
            state, tone = t("notices.failed", why=str(error)), "bad"
        else:
            state, tone = t("notices.waiting"), "wait"
        recipient = str(r["recipient"])
        key = f"notices.to.{recipient}"
        created = r["created_at"]
        lines.append(
            NoticeLine(
                case_id=str(r["case_id"]),
                title=notice_title(str(r["kind"]), t),
                to=t(key) if t.has(key) else recipient,
                state=state,
                tone=tone,
                since=when(created, zone, t.language) if isinstance(created, datetime) else "",
                attempts=int(str(r["attempts"])),
            )
        )
    return lines

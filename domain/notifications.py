"""Which events tell someone, what, and when they may be told. Staff notices carry no
customer PII; a notice to the customer carries who it is for in `data` for the sender, and
is never logged whole. Messages are in the shop's language, times in its zone; `data` keeps
the machine values (ISO 8601 with the shop's offset) for whoever receives the webhook."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from domain.events import (
    Apologized,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    CustomerWaitExceeded,
    DelayRecorded,
    Escalated,
    Event,
    FollowUpDue,
    ImprovementReported,
    OverrideRequested,
    ResolutionOffered,
    ResponseDueSoon,
)
from domain.messages import TEMPLATES
from domain.model import CaseState, Frozen, Motive
from domain.policy import DEFAULT_ESCALATION_CONTACTS, escalation_contact
from domain.wording import Language, name, when

__all__ = [
    "CUSTOMER",
    "Language",
    "Notice",
    "call_instead",
    "held_until",
    "keep_in_touch_call",
    "notices_for",
    "outdated",
]

CUSTOMER = "customer"

_TEMPLATES: dict[str, dict[Language, str]] = {
    "response_due_soon": {
        "en": "Case {case_id}: the {step_name} is due by {due_text} ({motive_name}). "
        "Please respond before then.",
        "ko": "민원 {case_id}: '{step_name}' 단계 응답 기한은 {due_text}입니다 ({motive_name}). "
        "기한 전에 응대해 주세요.",
    },
    "escalated": {
        "en": "Case {case_id} is overdue on the {step_name} (level {level}){due_text}. "
        "Please take it over.",
        "ko": "민원 {case_id}: '{step_name}' 단계가 기한{due_text}을 넘겼습니다 (단계 {level}). "
        "직접 확인해 주세요.",
    },
    "declined_twice": {
        "en": "Case {case_id}: the customer declined two offers. Please decide the next offer.",
        "ko": "민원 {case_id}: 고객이 제안을 두 번 거절했습니다. 다음 제안을 직접 정해 주세요.",
    },
    "override_requested": {
        "en": "Case {case_id}: staff ask you to offer {kinds_text}, which the policy does not "
        "allow now. Please decide on the case page.",
        "ko": "민원 {case_id}: 직원이 정책 밖 제안({kinds_text})을 요청했습니다. 민원 화면에서 "
        "정해 주세요.",
    },
    "customer_wait_exceeded": {
        "en": "Case {case_id}: no answer to the offer since {since_text}. "
        "Please call the customer.",
        "ko": "민원 {case_id}: {since_text} 이후 제안에 대한 답이 없습니다. "
        "고객에게 전화해 주세요.",
    },
    "follow_up_due": {
        "en": "Case {case_id}: a week has passed. Please call the customer and record "
        "their satisfaction (1-5).",
        "ko": "민원 {case_id}: 해결 후 일주일이 지났습니다. 고객에게 전화해 만족도(1-5)를 "
        "기록해 주세요.",
    },
    "case_reopened": {
        "en": "Case {case_id} reopened: the follow-up score was {score}. A new offer is needed.",
        "ko": "민원 {case_id}: 만족도 {score}점으로 다시 열렸습니다. 새 제안이 필요합니다.",
    },
    "closed_unanswered": {
        "en": "Case {case_id} closed as unanswered: no answer to the offer since {since_text}.",
        "ko": "민원 {case_id}: {since_text} 이후 제안에 답이 없어 미응답으로 종결했습니다.",
    },
    "reply_may_be_posted": {
        "en": "Case {case_id}: the reply to the public review may be posted now "
        "(from {post_text}).",
        "ko": "민원 {case_id}: 공개 리뷰 답글을 지금 게시해도 됩니다 ({post_text}부터).",
    },
    "keep_in_touch_call": {
        "en": "Keep in touch: regular customer {customer_id} ({visits} visits) was last here "
        "{last_visit}. No message went to them: they have not agreed to hear from us. Please "
        "give them a call to see how they are (no offers on the phone), and ask at their next "
        "visit whether they would like our news.",
        "ko": "안부 연락: 단골 고객 {customer_id}(방문 {visits}회)의 마지막 방문은 {last_visit}"
        "입니다. 광고 수신 동의가 없어 문자는 보내지 않았습니다. 안부 전화를 드려 주세요(전화로 "
        "할인·홍보는 하지 않습니다). 다음 방문 때 소식을 받아 보실지 여쭤 보세요.",
    },
    "call_instead": {
        "en": "Case {case_id}: the customer asked for no messages, so they were not sent "
        "the '{about}' message. Please call them instead.",
        "ko": "민원 {case_id}: 고객이 메시지 수신을 원하지 않아 '{about}' 메시지를 보내지 "
        "않았습니다. 대신 전화로 알려 주세요.",
    },
    "improvement_reported": {
        "en": "Thank you for your suggestion. Here is what we changed: {measure}",
        "ko": "소중한 의견 감사합니다. 말씀해 주신 내용을 이렇게 반영했습니다: {measure}",
    },
}
# What an announced delay gives the customer, in their words (the policy's percent).
_DELAY_COMPENSATION: dict[Language, str] = {
    "ko": "다음 이용 시 {percent}% 할인",
    "en": "{percent} % off your next order",
}
_DUE_SUFFIX: dict[Language, str] = {"en": "; it was due by {}", "ko": "({})"}


class Notice(Frozen):
    kind: str
    recipient: str  # a role ("staff", "manager", "owner") or "customer"
    case_id: str
    message: str
    data: dict[str, str | int]


def _zone(state: CaseState, fallback: str) -> str:
    return state.targets.calendar.zone if state.targets.calendar else fallback


def notices_for(
    event: Event,
    state: CaseState,
    language: Language = "ko",
    contacts: tuple[str, ...] = DEFAULT_ESCALATION_CONTACTS,
    zone: str = "Asia/Seoul",
) -> list[Notice]:
    """The notices `event` causes, given the state after it; times in the shop's zone (the
    case's calendar, else `zone`). A case whose rules turn customer messages on (new cases:
    `care.customer_messages`, snapshotted at opening, so older histories replay as they ran)
    also tells the customer, after any staff notice of the same event."""
    notices = _notices(event, state, language, contacts, zone)
    if state.care.customer_messages:
        notices += _customer_message(event, state, language, _zone(state, zone))
    return notices


def _who(state: CaseState) -> dict[str, str]:
    """Who to reach, not how: the sender looks the address up in PostgreSQL."""
    if state.customer_id:
        return {"customer_id": state.customer_id}
    return {"to": state.customer.phone if state.customer else ""}


def _customer_message(
    event: Event, state: CaseState, language: Language, zone: str
) -> list[Notice]:
    """The customer's message for `event`, worded by its template (domain.messages); the
    link (`#{link}`) is filled in when it is sent."""
    values: dict[str, str | int]
    match event:
        case CaseOpened():
            due = state.response_due_at
            kind = "case_received"
            values = {"reply_by": when(due, zone, language) if due else ""}
        case ResolutionOffered():
            kind, values = "offer_to_choose", {"options": len(event.options)}
        case CustomerWaitExceeded():
            kind, values = "offer_waiting", {}
        case DelayRecorded():
            percent = state.care.remedies.delay_discount_percent
            kind, values = (
                "delay_announced",
                {
                    "due": when(event.due_at, zone, language),
                    "reason": event.reason,
                    "compensation": _DELAY_COMPENSATION[language].format(percent=percent),
                },
            )
        case FollowUpDue():
            kind, values = "rating_requested", {}
        case CaseClosed(reason="unanswered"):
            kind, values = "case_closed_unanswered", {}
        case _:
            return []
    template = TEMPLATES[kind]
    data: dict[str, str | int] = {
        "case_id": state.case_id,
        "channel": state.channel.value,
        **values,
        **_who(state),
    }
    if template.link:
        data["link"] = template.link
    message = template.render(language, {k: str(v) for k, v in data.items() if k != "link"})
    return [
        Notice(kind=kind, recipient=CUSTOMER, case_id=state.case_id, message=message, data=data)
    ]


def keep_in_touch_call(
    customer_id: str, visits: int, last_visit: datetime, zone: str, language: Language = "ko"
) -> str:
    """The staff reminder that stands in for a keep-in-touch message no message may carry:
    the customer's reference, never their name or number (the notice leaves the building)."""
    return _TEMPLATES["keep_in_touch_call"][language].format(
        customer_id=customer_id, visits=visits, last_visit=when(last_visit, zone, language)
    )


def call_instead(notice_kind: str, case_id: str, language: Language = "ko") -> str:
    """The staff notice that replaces a customer message the customer asked not to get."""
    template = TEMPLATES.get(notice_kind)
    about = template.title[language] if template else notice_kind
    return _TEMPLATES["call_instead"][language].format(case_id=case_id, about=about)


def _notices(
    event: Event,
    state: CaseState,
    language: Language,
    contacts: tuple[str, ...],
    zone: str,
) -> list[Notice]:
    zone = _zone(state, zone)

    def iso(t: datetime) -> str:
        return t.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")

    def local(t: datetime) -> str:
        return when(t, zone, language)

    data: dict[str, str | int]
    text: dict[str, str] = {}
    match event:
        case ResponseDueSoon():
            kind, recipient = "response_due_soon", "staff"
            data = {"step": event.step.value, "due": iso(event.due_at)}
            text = {"due_text": local(event.due_at)}
        case Escalated(reason="declined_twice"):
            kind, recipient = "declined_twice", escalation_contact(event.level, contacts)
            data = {"step": event.step.value, "level": event.level}
        case Escalated():
            kind, recipient = "escalated", escalation_contact(event.level, contacts)
            missed = event.missed_due_at  # empty in escalations recorded before it existed
            data = {
                "step": event.step.value,
                "level": event.level,
                "due": iso(missed) if missed else "",
            }
            text = {"due_text": _DUE_SUFFIX[language].format(local(missed)) if missed else ""}
        case OverrideRequested():  # only the owner may override: told as the top level is
            top = state.targets.max_escalation_level
            kind, recipient = "override_requested", escalation_contact(top, contacts)
            data = {"kinds": ",".join(k.value for k in event.kinds)}
            text = {"kinds_text": ", ".join(name(k.value, language) for k in event.kinds)}
        case CustomerWaitExceeded():
            kind, recipient = "customer_wait_exceeded", "staff"
            data = {"since": iso(event.offered_at)}
            text = {"since_text": local(event.offered_at)}
        case FollowUpDue():
            kind, recipient, data = "follow_up_due", "staff", {}
        case CaseReopened():
            kind, recipient, data = "case_reopened", "staff", {"score": event.score}
        case CaseClosed(reason="unanswered"):
            offer = state.current_offer
            since = offer.at if offer else event.at
            kind, recipient, data = "closed_unanswered", "staff", {"since": iso(since)}
            text = {"since_text": local(since)}
        case Apologized(post_from=datetime() as post_from):
            kind, recipient, data = "reply_may_be_posted", "staff", {"post_from": iso(post_from)}
            text = {"post_text": local(post_from)}
        case ImprovementReported():
            kind, recipient = "improvement_reported", CUSTOMER
            data = {"measure": event.measure, "channel": state.channel.value, **_who(state)}
        case _:
            return []
    data = {"case_id": state.case_id, "motive": state.motive.value, **data}
    names = {"motive_name": name(state.motive.value, language)}
    if "step" in data:
        names["step_name"] = name(str(data["step"]), language)
    message = _TEMPLATES[kind][language].format(**data, **names, **text)
    return [
        Notice(kind=kind, recipient=recipient, case_id=state.case_id, message=message, data=data)
    ]


_URGENT = ("escalated", "declined_twice")


def _level(notice: Notice) -> int:
    level = notice.data.get("level", 0)
    return level if isinstance(level, int) else 0


def held_until(notice: Notice, state: CaseState, at: datetime) -> datetime | None:
    """When a notice written at `at` may go out, if not at once: a customer never hears from
    the shop in its quiet hours; staff reminders wait for opening hours (an escalation of a
    case protecting others does not, nor one to an owner who asked to be woken); a review's
    reply notice waits for the time the reply may be posted. Each from the case's rulebook,
    so the workflow and the outbox agree, and replays see the same."""
    care, calendar = state.care, state.targets.calendar
    allowed = at
    if notice.recipient == CUSTOMER:
        if care.quiet_hours is not None:
            allowed = care.quiet_hours.next_allowed(at)
    elif care.hold_staff_notices and calendar is not None:
        urgent = notice.kind in _URGENT and (
            state.motive == Motive.PROTECT_OTHERS
            # the top level is the owner's, whatever the shop calls its contacts
            or (care.owner_at_night and _level(notice) >= state.targets.max_escalation_level)
        )
        if not urgent:
            allowed = calendar.next_open(at)
    if notice.kind == "reply_may_be_posted":
        allowed = max(allowed, datetime.fromisoformat(str(notice.data["post_from"])))
    return allowed.astimezone(UTC) if allowed > at else None


_FINAL = ("closed", "withdrawn")


def outdated(kind: str, data: dict[str, str | int], status: str, stage: str) -> bool:
    """A held staff reminder the case has moved past while it waited (the step answered,
    the customer answered, the case ended): sending it at opening would only mislead."""
    if kind in ("response_due_soon", "escalated"):
        return status in _FINAL or data.get("step") != stage
    if kind == "follow_up_due":
        return status != "resolved"
    if kind == "customer_wait_exceeded":
        return status != "awaiting_customer"
    return False

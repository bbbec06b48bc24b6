"""Which events tell someone, and what. Staff notices carry no customer PII; a notice to
the customer carries its address in `data` for the sender, and is never logged whole."""

from datetime import datetime
from typing import Literal

from domain.events import (
    CaseReopened,
    CustomerWaitExceeded,
    Escalated,
    Event,
    FollowUpDue,
    ImprovementReported,
    ResponseDueSoon,
)
from domain.model import CaseState, Frozen
from domain.policy import DEFAULT_ESCALATION_CONTACTS, escalation_contact

Language = Literal["ko", "en"]
CUSTOMER = "customer"

_TEMPLATES: dict[str, dict[Language, str]] = {
    "response_due_soon": {
        "en": "Case {case_id}: {step} is due at {due} ({motive}). Please respond before then.",
        "ko": "민원 {case_id}: '{step}' 단계 응답 기한이 {due}입니다 ({motive}). "
        "기한 전에 응대해 주세요.",
    },
    "escalated": {
        "en": "Case {case_id} is overdue on {step} (level {level}); it was due at {due}. "
        "Please take it over.",
        "ko": "민원 {case_id}: '{step}' 단계가 기한({due})을 넘겼습니다 (단계 {level}). "
        "직접 확인해 주세요.",
    },
    "declined_twice": {
        "en": "Case {case_id}: the customer declined two offers. Please decide the next offer.",
        "ko": "민원 {case_id}: 고객이 제안을 두 번 거절했습니다. 다음 제안을 직접 정해 주세요.",
    },
    "customer_wait_exceeded": {
        "en": "Case {case_id}: no answer to the offer since {since}. Please call the customer.",
        "ko": "민원 {case_id}: {since} 이후 제안에 대한 답이 없습니다. 고객에게 전화해 주세요.",
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
    "improvement_reported": {
        "en": "Thank you for your suggestion. Here is what we changed: {measure}",
        "ko": "소중한 의견 감사합니다. 말씀해 주신 내용을 이렇게 반영했습니다: {measure}",
    },
}


class Notice(Frozen):
    kind: str
    recipient: str  # a role ("staff", "manager", "owner") or "customer"
    case_id: str
    message: str
    data: dict[str, str | int]


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="minutes")


def notices_for(
    event: Event,
    state: CaseState,
    language: Language = "ko",
    contacts: tuple[str, ...] = DEFAULT_ESCALATION_CONTACTS,
) -> list[Notice]:
    """The notices `event` causes, given the state after it."""
    data: dict[str, str | int]
    match event:
        case ResponseDueSoon():
            kind, recipient = "response_due_soon", "staff"
            data = {"step": event.step.value, "due": _iso(event.due_at)}
        case Escalated(reason="declined_twice"):
            kind, recipient = "declined_twice", escalation_contact(event.level, contacts)
            data = {"step": event.step.value, "level": event.level}
        case Escalated():
            kind, recipient = "escalated", escalation_contact(event.level, contacts)
            due = _iso(event.missed_due_at) if event.missed_due_at else ""
            data = {"step": event.step.value, "level": event.level, "due": due}
        case CustomerWaitExceeded():
            kind, recipient = "customer_wait_exceeded", "staff"
            data = {"since": _iso(event.offered_at)}
        case FollowUpDue():
            kind, recipient, data = "follow_up_due", "staff", {}
        case CaseReopened():
            kind, recipient, data = "case_reopened", "staff", {"score": event.score}
        case ImprovementReported():
            kind, recipient = "improvement_reported", CUSTOMER
            # Who to reach, not how: the sender looks the address up in PostgreSQL.
            who = (
                {"customer_id": state.customer_id}
                if state.customer_id
                else {"to": state.customer.phone if state.customer else ""}
            )
            data = {"measure": event.measure, "channel": state.channel.value, **who}
        case _:
            return []
    data = {"case_id": state.case_id, "motive": state.motive.value, **data}
    message = _TEMPLATES[kind][language].format(**data)
    return [
        Notice(kind=kind, recipient=recipient, case_id=state.case_id, message=message, data=data)
    ]

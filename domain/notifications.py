"""Which events tell someone, and what: staff-facing notices, free of customer PII."""

from datetime import datetime
from typing import Literal

from domain.events import Escalated, Event, ResponseDueSoon
from domain.model import CaseState, Frozen
from domain.policy import DEFAULT_ESCALATION_CONTACTS, escalation_contact

Language = Literal["ko", "en"]

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
}


class Notice(Frozen):
    kind: str
    recipient: str  # a role ("staff", "manager", "owner"); the sender maps it to an address
    case_id: str
    message: str
    data: dict[str, str | int]


def notices_for(
    event: Event,
    state: CaseState,
    language: Language = "ko",
    contacts: tuple[str, ...] = DEFAULT_ESCALATION_CONTACTS,
) -> list[Notice]:
    """The notices `event` causes, given the state after it."""
    match event:
        case ResponseDueSoon():
            kind, recipient = "response_due_soon", "staff"
            data: dict[str, str | int] = {"step": event.step.value, "due": _iso(event.due_at)}
        case Escalated():
            kind, recipient = "escalated", escalation_contact(event.level, contacts)
            data = {
                "step": event.step.value,
                "level": event.level,
                "due": _iso(event.missed_due_at),
            }
        case _:
            return []
    data = {"case_id": state.case_id, "motive": state.motive.value, **data}
    message = _TEMPLATES[kind][language].format(**data)
    return [
        Notice(kind=kind, recipient=recipient, case_id=state.case_id, message=message, data=data)
    ]


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="minutes")

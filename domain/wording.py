"""The words staff and customers read, in the shop's language (ko, en): names of steps,
motives, statuses and tiers, and times in the shop's zone as the locale writes them."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from babel import Locale

Language = Literal["ko", "en"]

# babel's locale data is read by `load_locales()`, never lazily inside the workflow sandbox
# (a module imported there for the first time is sandboxed, and babel's takes a lock): the
# workflow's module calls it when the worker imports it, outside the sandbox. Any other
# process reads it on its first `when`; one that never writes a notice (the CLI showing a
# case) never reads it, nor imports babel.
_LOCALES: "dict[Language, Locale]" = {}
_format_datetime: Callable[..., str] | None = None

_PATTERNS: dict[Language, str] = {
    "ko": "MMMM d일 (E) aaaa h:mm",  # 11월 24일 (화) 오후 3:25
    "en": "EEE, MMM d, h:mm a",  # Tue, Nov 24, 3:25 PM
}

NAMES: dict[Language, dict[str, str]] = {
    "ko": {
        # steps
        "apologize": "사과",
        "empathize": "공감",
        "analyze_cause": "원인 분석",
        "offer_resolution": "해결책 제시",
        "show_prevention": "재발 방지 안내",
        "customer_response": "고객 답변 대기",
        "follow_up": "사후 확인",
        "done": "종료",
        # motives
        "compensation": "보상 요구",
        "anger": "감정 해소",
        "improvement": "개선 제안",
        "protect_others": "다른 고객 보호",
        # statuses
        "open": "진행 중",
        "awaiting_customer": "고객 답변 대기",
        "escalated": "상부 보고됨",
        "resolved": "해결됨",
        "closed": "종결",
        "withdrawn": "철회",
        # tiers
        "new": "신규",
        "bronze": "브론즈",
        "silver": "실버",
        "gold": "골드",
        # recipients
        "staff": "직원",
        "manager": "매니저",
        "owner": "대표",
    },
    "en": {
        "apologize": "apology",
        "empathize": "empathy",
        "analyze_cause": "cause analysis",
        "offer_resolution": "resolution offer",
        "show_prevention": "prevention",
        "customer_response": "waiting for the customer",
        "follow_up": "follow-up",
        "done": "done",
        "compensation": "compensation",
        "anger": "anger",
        "improvement": "improvement",
        "protect_others": "protecting others",
        "open": "open",
        "awaiting_customer": "awaiting the customer",
        "escalated": "escalated",
        "resolved": "resolved",
        "closed": "closed",
        "withdrawn": "withdrawn",
        "new": "new",
        "bronze": "bronze",
        "silver": "silver",
        "gold": "gold",
        "staff": "staff",
        "manager": "manager",
        "owner": "owner",
    },
}


def name(value: str, language: Language) -> str:
    """A step, motive, status, tier or role in `language`; an unknown value as it is."""
    return NAMES[language].get(value, value)


def load_locales() -> None:
    """Import babel and read the locales' data now, with every lazy load babel does on a
    first format. Idempotent."""
    global _LOCALES, _format_datetime
    if _format_datetime is not None:
        return
    import babel.numbers  # noqa: F401  (format_datetime imports it lazily: not in the sandbox)
    from babel import Locale
    from babel.dates import format_datetime

    _LOCALES = {language: Locale.parse(language) for language in _PATTERNS}
    for language in _PATTERNS:
        format_datetime(
            datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")),
            _PATTERNS[language],
            tzinfo=ZoneInfo("Asia/Seoul"),
            locale=_LOCALES[language],
        )
    _format_datetime = format_datetime


def when(t: datetime, zone: str, language: Language) -> str:
    """`t` in the shop's zone, as the locale writes a date and time: 11월 24일 (화) 오후 3:25."""
    if _format_datetime is None:
        load_locales()
    assert _format_datetime is not None
    return _format_datetime(
        t, _PATTERNS[language], tzinfo=ZoneInfo(zone), locale=_LOCALES[language]
    )


def stamp(t: datetime, zone: str) -> str:
    """`t` in `zone` for staff screens: 2026-11-24 15:25 KST."""
    return t.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


_UNITS = (
    (86400, "day", "일"),
    (3600, "hour", "시간"),
    (60, "minute", "분"),
    (1, "second", "초"),
)


def duration(delta: timedelta, language: Language) -> str:
    """A length of time in the words people use: "2 minutes", "4시간 30분", "3 days".
    Under two days it stays in hours, as shops state their targets ("24시간", "48 hours")."""
    rest = int(delta.total_seconds())
    words = []
    for seconds, en, ko in _UNITS:
        if seconds == 86400 and rest < 2 * 86400:
            continue
        count, rest = divmod(rest, seconds)
        if count:
            words.append(f"{count}{ko}" if language == "ko" else _counted(count, en))
    if not words:
        return "0초" if language == "ko" else "0 seconds"
    return " ".join(words)


def _counted(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"

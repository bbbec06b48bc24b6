"""Advertising to customers, within Korean law (정보통신망법 Art. 50): pure rules, no I/O.

Every customer message is one of two categories. *Information* (a receipt, an offer to
choose, a follow-up: domain.messages) may go as a KakaoTalk notification (알림톡).
*Advertising* (keep in touch, a referral reward) needs a basis (the customer's prior
consent, or a transaction within 6 months until they opt out), goes out between 08:00 and
21:00 in the shop's zone unless the customer separately consented to night-time messages,
at most once a day, and carries "(광고)", the shop's name and contact, and a free opt-out.
It is never a KakaoTalk notification template: Kakao rejects promotional lines in them, so
it goes as SMS/LMS.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from domain.messages import TEMPLATES
from domain.wording import Language

Category = Literal["information", "advertising"]
Basis = Literal["consent", "transaction"]

KEEP_IN_TOUCH = "keep_in_touch"
# The law's exception: a customer who bought within this long may get advertising without
# prior consent, until they opt out.
TRANSACTION_WINDOW = timedelta(days=183)
NIGHT_FROM, NIGHT_UNTIL = time(21, 0), time(8, 0)
ONE_A_DAY = timedelta(days=1)
LABEL = "(광고)"


class AdvertisingRefused(ValueError):
    """An advertising message asked to go where it may not (a KakaoTalk notification)."""


@dataclass(frozen=True)
class Advertisement:
    kind: str
    moment: str
    text: dict[Language, str]  # the body; the label, sender and opt-out are added around it


ADVERTISEMENTS: dict[str, Advertisement] = {
    a.kind: a
    for a in (
        Advertisement(
            kind=KEEP_IN_TOUCH,
            moment="a customer not seen for COMPLAINTS_KEEP_IN_TOUCH_AFTER (90 days)",
            text={
                "ko": "안녕하세요. 지난 방문 뒤로 잘 지내셨나요? 점검이나 도움이 필요하시면 "
                "편하게 연락 주세요. 다시 뵙기를 기다리겠습니다.",
                "en": "Hello again. We hope all is well since your last visit. If you need a "
                "check-up or any help, just get in touch. We look forward to seeing you.",
            },
        ),
    )
}


def category_of(kind: str) -> Category:
    """The category of a message kind; a kind that is neither is a programming error."""
    if kind in ADVERTISEMENTS:
        return "advertising"
    if kind in TEMPLATES:
        return "information"
    raise ValueError(f"{kind!r} is no customer message kind")


@dataclass(frozen=True)
class Consent:
    """What a customer said about advertising, as it stands, and their last transaction."""

    marketing_at: datetime | None = None  # consent given (and not withdrawn since)
    night_at: datetime | None = None  # the separate consent for 21:00-08:00
    opted_out_at: datetime | None = None  # the last withdrawal (opt-out)
    last_transaction_at: datetime | None = None  # the last visit


def basis(consent: Consent, now: datetime) -> Basis | None:
    """Why an advertising message may go to this customer at all, or None."""
    if consent.marketing_at is not None:
        return "consent"
    recent = consent.last_transaction_at is not None and (
        now - consent.last_transaction_at <= TRANSACTION_WINDOW
    )
    if recent and consent.opted_out_at is None:
        return "transaction"
    return None


def at_night(now: datetime, zone: ZoneInfo) -> bool:
    local = now.astimezone(zone).time()
    return local >= NIGHT_FROM or local < NIGHT_UNTIL


@dataclass(frozen=True)
class Verdict:
    basis: Basis | None
    reason: str = ""  # why not, when not

    @property
    def allowed(self) -> bool:
        return self.basis is not None and not self.reason


def may_advertise(
    consent: Consent, now: datetime, zone: ZoneInfo, last_advertised_at: datetime | None = None
) -> Verdict:
    """Whether an advertising message may go to this customer now, and on what basis."""
    found = basis(consent, now)
    if found is None:
        why = "opted out" if consent.opted_out_at else "no consent and no transaction in 6 months"
        return Verdict(None, why)
    if at_night(now, zone) and consent.night_at is None:
        return Verdict(found, "21:00-08:00 without the separate night-time consent")
    if last_advertised_at is not None and now - last_advertised_at < ONE_A_DAY:
        return Verdict(found, "an advertising message went out within the last day")
    return Verdict(found)


_FRAME: dict[Language, str] = {
    "ko": "{label} {shop}\n{body}\n문의: {contact}\n무료 수신거부: {opt_out}",
    "en": "{label} {shop}\n{body}\nContact: {contact}\nFree opt-out: {opt_out}",
}


def advertising_text(
    kind: str, language: Language, shop: str, contact: str, opt_out_url: str
) -> str:
    """The message as the law wants it: the label first, then the sender's name, the body,
    the sender's contact and the free opt-out link. "(광고)" stays Korean in English too:
    it is the label the law names."""
    body = ADVERTISEMENTS[kind].text[language]
    return _FRAME[language].format(
        label=LABEL, shop=shop, body=body, contact=contact, opt_out=opt_out_url
    )


def call_instead_of_advertising(
    consent: Consent, now: datetime, visits: int, regular_from: int, no_messages: bool = False
) -> bool:
    """Whether staff should be reminded to call a customer due a keep-in-touch message, in
    place of the message: a regular (`regular_from` visits: silver and gold) whom no message
    may reach, because there is no basis (no consent, last visit over 6 months ago) or they
    asked for no messages at all. Never one who opted out: they said no to being marketed
    to, and asking them again for consent is itself advertising."""
    if visits < regular_from or consent.opted_out_at is not None:
        return False
    return no_messages or basis(consent, now) is None

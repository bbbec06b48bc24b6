"""Advertising within the law: its basis, its hours, once a day, its frame, and never a
KakaoTalk notification template."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.advertising import (
    KEEP_IN_TOUCH,
    AdvertisingRefused,
    Consent,
    advertising_text,
    at_night,
    basis,
    call_instead_of_advertising,
    category_of,
    may_advertise,
)
from domain.messages import TEMPLATES
from infra.links import LinkSigner
from notify.solapi import MessageSender, SolapiClient
from notify.standin import STANDIN_CHANNEL, STANDIN_SENDER, StandinState, _deliver

SEOUL = ZoneInfo("Asia/Seoul")
# 10:00 and 22:00 in Seoul (UTC+9)
DAY = datetime(2036, 5, 12, 1, 0, tzinfo=UTC)
NIGHT = datetime(2036, 5, 12, 13, 0, tzinfo=UTC)


def test_every_message_kind_is_classed() -> None:
    assert {category_of(kind) for kind in TEMPLATES} == {"information"}
    assert category_of(KEEP_IN_TOUCH) == "advertising"
    with pytest.raises(ValueError):
        category_of("coupon_of_the_day")


@pytest.mark.parametrize(
    ("consent", "expected"),
    [
        (Consent(marketing_at=DAY - timedelta(days=900)), "consent"),
        (Consent(last_transaction_at=DAY - timedelta(days=90)), "transaction"),
        (Consent(last_transaction_at=DAY - timedelta(days=183)), "transaction"),
        (Consent(last_transaction_at=DAY - timedelta(days=184)), None),
        # opted out: the transaction exception ends there
        (Consent(last_transaction_at=DAY - timedelta(days=1), opted_out_at=DAY), None),
        (Consent(), None),
    ],
)
def test_basis(consent: Consent, expected: str | None) -> None:
    assert basis(consent, DAY) == expected


def test_night_is_21_to_8_in_the_shops_zone() -> None:
    assert not at_night(DAY, SEOUL)
    assert at_night(NIGHT, SEOUL)
    assert at_night(datetime(2036, 5, 11, 22, 59, tzinfo=UTC), SEOUL)  # 07:59
    assert not at_night(datetime(2036, 5, 11, 23, 0, tzinfo=UTC), SEOUL)  # 08:00
    assert at_night(datetime(2036, 5, 12, 12, 0, tzinfo=UTC), SEOUL)  # 21:00


def test_night_needs_its_own_consent_and_one_a_day() -> None:
    consented = Consent(marketing_at=DAY - timedelta(days=10))
    assert may_advertise(consented, DAY, SEOUL).allowed
    refused = may_advertise(consented, NIGHT, SEOUL)
    assert not refused.allowed and "night" in refused.reason
    night = Consent(marketing_at=DAY, night_at=DAY)
    assert may_advertise(night, NIGHT, SEOUL).allowed
    again = may_advertise(consented, DAY, SEOUL, last_advertised_at=DAY - timedelta(hours=23))
    assert not again.allowed
    assert may_advertise(consented, DAY, SEOUL, last_advertised_at=DAY - timedelta(days=1)).allowed
    assert not may_advertise(Consent(), DAY, SEOUL).allowed


def test_the_text_carries_label_sender_contact_and_opt_out() -> None:
    text = advertising_text(KEEP_IN_TOUCH, "ko", "행복세탁", "02-123-4567", "https://x/c/t/stop")
    assert text.startswith("(광고) 행복세탁\n")
    assert "02-123-4567" in text and "무료 수신거부: https://x/c/t/stop" in text
    english = advertising_text(KEEP_IN_TOUCH, "en", "Happy Laundry", "02", "https://x")
    assert english.startswith("(광고) Happy Laundry") and "Free opt-out: https://x" in english


def _sender() -> MessageSender:
    return MessageSender(
        SolapiClient("http://127.0.0.1:1", "k", "s"),
        sender_number=STANDIN_SENDER,
        channel_id=STANDIN_CHANNEL,
        template_ids={},
        links=LinkSigner([b"secret"]),
        public_url="http://shop",
        link_ttl=timedelta(days=1),
    )


def test_advertising_is_never_a_kakaotalk_notification() -> None:
    notice = {"id": "n1", "case_id": "c1", "kind": KEEP_IN_TOUCH, "data": {"to": "+821012345678"}}
    with pytest.raises(AdvertisingRefused):
        _sender().message(notice, DAY)


def test_advertising_goes_as_sms_or_lms_with_its_label() -> None:
    text = advertising_text(KEEP_IN_TOUCH, "ko", "행복세탁", "02-123-4567", "http://shop/c/t/stop")
    message = _sender().advertisement("ad-1", "+821012345678", text)
    assert message["type"] == "LMS" and "kakaoOptions" not in message
    assert message["to"] == "01012345678"
    with pytest.raises(AdvertisingRefused):
        _sender().advertisement("ad-2", "+821012345678", "좋은 혜택이 있습니다")
    # and the stand-in delivers it as such
    kind, status, _, _ = _deliver(StandinState.for_language(), message)
    assert (kind, status) == ("LMS", "sent")


def test_the_standin_refuses_advertising_in_a_notification_template() -> None:
    state = StandinState.for_language()
    template_id, template = next(iter(state.templates.items()))
    state.templates[template_id] = "(광고) " + template
    message = {
        "to": "01012345678",
        "from": STANDIN_SENDER,
        "type": "ATA",
        "text": "(광고) " + template,
        "kakaoOptions": {
            "pfId": STANDIN_CHANNEL,
            "templateId": template_id,
            "variables": {f"#{{{v}}}": "x" for v in ("case_id", "reply_by")},
        },
    }
    message["text"] = (
        state.templates[template_id].replace("#{case_id}", "x").replace("#{reply_by}", "x")
    )
    _, status, code, _ = _deliver(state, message)
    assert (status, code) == ("failed", "1026")


def test_staff_call_only_for_regulars_no_message_may_reach() -> None:
    now = datetime(2026, 12, 7, 10, tzinfo=UTC)
    lapsed = now - timedelta(days=200)
    recent = now - timedelta(days=100)
    none_ = Consent(last_transaction_at=lapsed)
    assert call_instead_of_advertising(none_, now, visits=5, regular_from=3)  # gold, no basis
    assert call_instead_of_advertising(none_, now, visits=3, regular_from=3)  # silver
    assert not call_instead_of_advertising(none_, now, visits=2, regular_from=3)  # bronze
    consented = Consent(marketing_at=lapsed, last_transaction_at=lapsed)
    assert not call_instead_of_advertising(consented, now, 5, 3)  # the message goes
    transaction = Consent(last_transaction_at=recent)
    assert not call_instead_of_advertising(transaction, now, 5, 3)  # within 6 months
    assert call_instead_of_advertising(transaction, now, 5, 3, no_messages=True)  # no messages
    opted_out = Consent(opted_out_at=lapsed, last_transaction_at=lapsed)
    assert not call_instead_of_advertising(opted_out, now, 5, 3)  # said no: not asked again
    assert not call_instead_of_advertising(opted_out, now, 5, 3, no_messages=True)

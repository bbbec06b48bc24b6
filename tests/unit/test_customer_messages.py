"""Customer message templates, which events send them (only in cases whose rules say so),
and the signed customer links."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from domain.effects import effects
from domain.events import CaseOpened, FollowUpDue, ResolutionOffered
from domain.messages import TEMPLATES
from domain.model import (
    CarePolicy,
    CustomerProfile,
    IntakeChannel,
    Motive,
    Remedy,
    RemedyKind,
    ResponseTargets,
)
from domain.notifications import notices_for
from infra.links import LinkExpired, LinkRefused, LinkSigner, link_url

AT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # Monday 11:00 in Seoul


def opening(customer_messages: bool) -> CaseOpened:
    return CaseOpened(
        at=AT,
        case_id="4f7k-q2mx-9bd3",
        customer_id="cus-0123456789ab",
        channel=IntakeChannel.KAKAOTALK,
        motive=Motive.COMPENSATION,
        summary="The cake arrived crushed",
        targets=ResponseTargets(),
        care=CarePolicy(customer_messages=customer_messages),
        profile=CustomerProfile(),
    )


def test_each_template_is_information_only_in_both_languages_with_the_same_slots() -> None:
    assert set(TEMPLATES) == {
        "case_received",
        "offer_to_choose",
        "offer_waiting",
        "delay_announced",
        "improvement_reported",
        "rating_requested",
        "case_closed_unanswered",
    }
    for t in TEMPLATES.values():
        for text in t.text.values():
            assert "광고" not in text and "%" not in text and "coupon" not in text.lower()
            assert len(text) < 1000 - 200, "room for the variables under KakaoTalk's limit"
        assert TEMPLATES[t.kind].render("en", {}) == t.text["en"]
        assert re.findall(r"#\{(\w+)\}", t.text["en"]) == re.findall(r"#\{(\w+)\}", t.text["ko"])
        assert ("link" in t.variables) == (t.link is not None)
        assert not {"name", "phone", "what", "summary"} & set(t.variables)


def test_a_case_opened_with_messages_on_tells_the_customer_once_and_old_cases_do_not() -> None:
    on, notices_on = effects(None, opening(True))
    assert [(n.notice.kind, n.notice.recipient) for n in notices_on] == [
        ("case_received", "customer")
    ]
    received = notices_on[0].notice
    assert received.data["customer_id"] == "cus-0123456789ab" and "to" not in received.data
    assert "4f7k-q2mx-9bd3" in received.message
    assert received.data["link"] == "status", "the receipt links to where the case stands"
    assert received.message.count("#{") == 1 and received.message.endswith("#{link}")
    _, notices_off = effects(None, opening(False))
    assert notices_off == [], "a case opened before messages (its snapshot lacks them) replays"
    assert on.care.customer_messages


def test_the_offer_and_the_follow_up_carry_a_link_to_fill_in_when_sent() -> None:
    state, _ = effects(None, opening(True))
    offer = ResolutionOffered(
        at=AT,
        round=1,
        options=(
            Remedy(kind=RemedyKind.FREE_REDO, terms="a new cake"),
            Remedy(kind=RemedyKind.PARTIAL_REFUND, terms="half back"),
        ),
        plan="A new cake tomorrow, or half back",
    )
    (n,) = notices_for(offer, state, "en")
    assert (n.kind, n.data["link"], n.data["options"]) == ("offer_to_choose", "choose", 2)
    assert n.message.endswith("#{link}"), "the link is signed when the message goes out"
    staff, customer = notices_for(FollowUpDue(at=AT), state, "en")
    assert (staff.recipient, customer.kind, customer.data["link"]) == (
        "staff",
        "rating_requested",
        "rate",
    )


def test_a_link_is_signed_for_one_case_and_purpose_and_expires() -> None:
    signer = LinkSigner([b"new" * 11, b"old" * 11])
    token = signer.issue("4f7k-q2mx-9bd3", "choose", timedelta(days=14), AT)
    claim = signer.read(token, AT + timedelta(days=13))
    assert (claim.case_id, claim.purpose) == ("4f7k-q2mx-9bd3", "choose")
    assert link_url("https://shop.example/", token) == f"https://shop.example/c/{token}"
    with pytest.raises(LinkExpired):
        signer.read(token, AT + timedelta(days=15))
    payload, signature = token.split(".")
    forged = LinkSigner([b"x" * 32]).issue("4f7k-q2mx-9bd3", "rate", timedelta(days=1), AT)
    for bad in (f"{forged.split('.')[0]}.{signature}", forged, "nonsense", payload):
        with pytest.raises(LinkRefused):
            signer.read(bad, AT)
    old = LinkSigner([b"old" * 11]).issue("4f7k-q2mx-9bd3", "rate", timedelta(days=1), AT)
    assert signer.read(old, AT).purpose == "rate", "a rotated-out key still verifies"
    with pytest.raises(ValueError):
        signer.issue("4f7k-q2mx-9bd3", "delete", timedelta(days=1), AT)


def test_solapi_without_its_settings_refuses_to_start_naming_what_is_missing() -> None:
    from pydantic import ValidationError

    from infra.settings import Settings, explain

    with pytest.raises(ValidationError) as missing:
        Settings(messages="solapi", solapi_api_key="k", solapi_api_secret="s")
    assert explain(missing.value) == (
        "COMPLAINTS_SENDER_NUMBER, COMPLAINTS_KAKAO_CHANNEL_ID are required with "
        "COMPLAINTS_MESSAGES=solapi"
    )
    full = {
        "messages": "solapi",
        "solapi_api_key": "k",
        "solapi_api_secret": "s",
        "sender_number": "02-1234-5678",
        "kakao_channel_id": "KA01PF",
    }
    with pytest.raises(ValidationError, match="lacks the approved template id of case_received"):
        Settings(**full, message_templates={"offer_to_choose": "KA01TP1"})
    ids = {kind: f"KA01TP-{kind}" for kind in TEMPLATES}
    assert Settings(**full, message_templates=ids).care_policy().customer_messages
    assert not Settings().care_policy().customer_messages, "off unless chosen"

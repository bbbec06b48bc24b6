"""The SOLAPI adapter against recorded request/response shapes (tests/fixtures/solapi):
what it sends, how it signs, and what each answer means for the outbox."""

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.links import LinkSigner
from notify import standin
from notify.solapi import LIST_PATH, SEND_PATH, MessageSender, ProviderUnavailable, SolapiClient
from notify.standin import (
    STANDIN_API_KEY,
    STANDIN_API_SECRET,
    STANDIN_CHANNEL,
    STANDIN_SENDER,
    StandinState,
)
from store.delivery import Delivery

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "solapi"
NOW = datetime(2026, 12, 6, 5, 10, 11, tzinfo=UTC)
NOTICE = {
    "id": "5d8a6c1e-0000-4000-8000-000000000001",
    "case_id": "4f7k-q2mx-9bd3",
    "kind": "offer_to_choose",
    "recipient": "customer",
    "message": "",
    "attempts": 1,
    "data": {
        "case_id": "4f7k-q2mx-9bd3",
        "options": 2,
        "link": "choose",
        "to": "+821012345678",
    },
}


def fixture(name: str) -> Any:
    text = (FIXTURES / name).read_text()
    return json.loads(text.replace('"NOTICE"', json.dumps(NOTICE["id"])))


class Provider:
    """A MockTransport answering from fixtures; keeps every request it saw."""

    def __init__(self, send: tuple[int, Any], listed: Any = None) -> None:
        self.send, self.listed = send, listed
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == SEND_PATH:
            status, body = self.send
            return httpx.Response(status, json=body)
        if request.url.path == LIST_PATH:
            return httpx.Response(200, json=self.listed or {"messageList": {}})
        return httpx.Response(404, json={"errorCode": "NotFound", "errorMessage": "?"})

    def sent(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path == SEND_PATH]


def sender(provider: Provider, settle: float = 0.0) -> MessageSender:
    client = SolapiClient(
        "https://api.solapi.com",
        "NCSAPIKEY0000000",
        "SECRET",
        transport=httpx.MockTransport(provider),
        settle=settle,
        clock=lambda: NOW,
    )
    return MessageSender(
        client,
        sender_number="02-1234-5678",
        channel_id="KA01PF0000000000000000000000",
        template_ids={"offer_to_choose": "KA01TP0000000000000000000000"},
        links=LinkSigner([b"k" * 32]),
        public_url="https://shop.example",
        link_ttl=timedelta(days=14),
        language="en",
    )


async def test_a_notification_goes_out_as_the_sdk_shapes_it_signed_and_is_received() -> None:
    provider = Provider((200, fixture("send_success.json")), fixture("list_received.json"))
    delivery = await sender(provider).send(NOTICE)
    assert delivery == Delivery(
        "sent",
        "solapi",
        channel="ATA",
        group_id="G4V20261206141011ABCDEFGHIJKLMNO",
        message_id="M4V20261206141011PQRSTUVWXYZABCD",
        status_code="4000",
    )
    (body,) = provider.sent()
    assert body["allowDuplicates"] is False and body["showMessageList"] is True
    (message,) = body["messages"]
    assert {k: message[k] for k in ("to", "from", "country", "type")} == {
        "to": "01012345678",
        "from": "0212345678",
        "country": "82",
        "type": "ATA",
    }
    assert message["customFields"] == {"noticeId": NOTICE["id"]}
    kakao = message["kakaoOptions"]
    assert kakao["pfId"] == "KA01PF0000000000000000000000"
    assert kakao["templateId"] == "KA01TP0000000000000000000000"
    assert kakao["disableSms"] is False, "SOLAPI falls back to SMS/LMS on its own"
    assert set(kakao["variables"]) == {"#{case_id}", "#{options}", "#{link}"}
    link = kakao["variables"]["#{link}"]
    assert re.fullmatch(r"https://shop\.example/c/[\w-]+\.[\w-]+", link)
    assert "1012345678" not in link and "Park" not in link, "no personal data in the URL"
    assert message["text"].endswith(link) and "2 way(s)" in message["text"]
    # The HMAC header: SOLAPI's scheme, the signature over date + salt with the secret.
    auth = provider.requests[0].headers["authorization"]
    fields = dict(p.split("=", 1) for p in auth.removeprefix("HMAC-SHA256 ").split(", "))
    assert fields["apiKey"] == "NCSAPIKEY0000000" and fields["date"] == NOW.isoformat()
    expected = hmac.new(b"SECRET", (fields["date"] + fields["salt"]).encode(), hashlib.sha256)
    assert fields["signature"] == expected.hexdigest()
    salts = {r.headers["authorization"].split("salt=")[1][:32] for r in provider.requests}
    assert len(salts) == len(provider.requests), "a salt is used once"


async def test_a_number_without_kakaotalk_is_recorded_as_the_sms_fallback() -> None:
    provider = Provider((200, fixture("send_success.json")), fixture("list_fell_back.json"))
    delivery = await sender(provider).send(NOTICE)
    assert (delivery.result, delivery.channel, delivery.status_code) == (
        "fallback_sms",
        "LMS",
        "4000",
    )


async def test_accepted_without_a_final_result_is_recorded_as_accepted() -> None:
    provider = Provider((200, fixture("send_success.json")))  # the lookup lists nothing yet
    delivery = await sender(provider).send(NOTICE)
    assert (delivery.result, delivery.status_code) == ("accepted", "2000")


async def test_an_accepted_message_is_looked_up_again_by_its_id_for_its_final_result() -> None:
    provider = Provider((200, fixture("send_success.json")), fixture("list_fell_back.json"))
    message_id = "M4V20261206141011PQRSTUVWXYZABCD"
    accepted = Delivery("accepted", "solapi", channel="ATA", message_id=message_id)
    final = await sender(provider).recheck(accepted)
    assert final is not None and (final.result, final.channel) == ("fallback_sms", "LMS")
    (lookup,) = provider.requests
    assert lookup.url.path == LIST_PATH and lookup.url.params["messageId"] == message_id
    assert provider.sent() == [], "a lookup never sends"
    other = Delivery("accepted", "webhook", message_id=message_id)
    assert await sender(provider).recheck(other) is None, "not ours to look up"
    unknown = Provider((200, fixture("send_success.json")))
    assert await sender(unknown).recheck(accepted) is None, "not listed (yet): unchanged"


async def test_a_template_mismatch_fails_for_good_with_the_providers_reason() -> None:
    provider = Provider((200, fixture("send_template_mismatch.json")))
    delivery = await sender(provider).send(NOTICE)
    assert delivery.result == "failed" and delivery.status_code == "3034"
    assert delivery.detail == "템플릿 내용이 일치하지 않습니다."
    assert len(provider.sent()) == 1


async def test_an_invalid_number_fails_for_good() -> None:
    provider = Provider((400, fixture("send_invalid_number.json")))
    delivery = await sender(provider).send(NOTICE)
    assert delivery.result == "failed" and delivery.detail.startswith("ValidationError: ")


@pytest.mark.parametrize(
    ("status", "name", "says"),
    [
        (429, "rate_limited.json", "TooManyRequests"),
        (500, "server_error.json", "InternalError"),
        (401, "bad_signature.json", "SignatureDoesNotMatch"),
    ],
)
async def test_rate_limits_server_errors_and_refused_keys_are_tried_again(
    status: int, name: str, says: str
) -> None:
    provider = Provider((status, fixture(name)))
    with pytest.raises(ProviderUnavailable, match=says):
        await sender(provider).send(NOTICE)


async def test_a_timeout_is_tried_again() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = SolapiClient("https://api.solapi.com", "k", "s", transport=httpx.MockTransport(slow))
    with pytest.raises(ProviderUnavailable, match="did not answer"):
        await client.send({"to": "01012345678"})


async def test_a_retried_notice_already_sent_is_not_sent_again() -> None:
    provider = Provider((200, fixture("send_success.json")), fixture("list_received.json"))
    delivery = await sender(provider).send(NOTICE | {"attempts": 2, "created_at": NOW})
    assert delivery.result == "sent" and provider.sent() == []
    lookup = provider.requests[0]
    assert lookup.url.path == LIST_PATH and lookup.url.params["to"] == "01012345678"
    # Only messages since the notice was written (less the clocks' margin), as the SDK asks.
    assert lookup.url.params["dateType"] == "CREATED"
    assert lookup.url.params["startDate"] == "2026-12-06T05:00:11+00:00"


async def test_a_retried_notice_the_provider_never_took_is_sent() -> None:
    provider = Provider((200, fixture("send_success.json")))
    await sender(provider).send(NOTICE | {"attempts": 3})
    assert len(provider.sent()) == 1


async def test_a_retried_notice_is_found_behind_more_than_a_page_of_later_messages() -> None:
    """The stand-in (SOLAPI's list as the SDK asks it: `to`, a date window, pages) holds 60
    later messages to the same number: the retried notice is still found, not sent twice."""
    state = StandinState.for_language("en")
    client = SolapiClient(
        "http://standin",
        STANDIN_API_KEY,
        STANDIN_API_SECRET,
        transport=httpx.ASGITransport(app=standin.create_app(state)),
        settle=0.0,
    )
    messages = MessageSender(
        client,
        sender_number=STANDIN_SENDER,
        channel_id=STANDIN_CHANNEL,
        template_ids=standin.standin_template_ids(),
        links=LinkSigner([b"k" * 32]),
        public_url="https://shop.example",
        link_ttl=timedelta(days=14),
        language="en",
    )
    written = datetime.now(UTC)
    first = await messages.send(NOTICE | {"created_at": written})
    for n in range(60):
        await messages.send(NOTICE | {"id": f"later-{n}", "created_at": written})
    assert len(state.messages) == 61

    again = await messages.send(NOTICE | {"attempts": 2, "created_at": written})
    assert len(state.messages) == 61, "not sent twice"
    assert again.message_id == first.message_id and again.result == "sent"
    # Looked up within the notice's own window: nothing older than it was written is read.
    assert await client.find(NOTICE["id"], "01012345678", written + timedelta(hours=1)) is None
    # The first page alone (the 50 newest) would not have held it.
    newest = await client._lookup({"to": "01012345678"})
    assert len(newest) == 50 and first.message_id not in newest

"""Customer messages through SOLAPI's REST API (messages v4): a KakaoTalk notification
(알림톡, type ATA) with SOLAPI's own SMS/LMS fallback when the number has no KakaoTalk.

Written against the shapes of SOLAPI's official Python SDK (github.com/solapi/solapi-python,
`solapi` 5.0.x on PyPI: lib/authenticator.py, lib/fetcher.py, services/message_service.py and
the request/response models), called with httpx directly: one dependency less, the SDK's
client is synchronous (it would block the worker's event loop) and retries on its own
(`HTTPTransport(retries=3)`, which would resend behind the outbox's back); here the outbox
owns retries and we choose the timeouts.

- Auth: `Authorization: HMAC-SHA256 apiKey=<key>, date=<ISO 8601>, salt=<unique>,
  signature=<hex HMAC-SHA256(secret, date + salt)>`.
- Send: `POST /messages/v4/send-many/detail` with `{"messages": [{"to", "from", "type",
  "text", "country", "customFields", "kakaoOptions": {"pfId", "templateId", "variables",
  "disableSms"}}], "allowDuplicates": false, "showMessageList": true}`. The answer is
  `{"groupInfo": {...}, "failedMessageList": [...], "messageList": [{"messageId",
  "statusCode", "statusMessage", "customFields"}]}`: statusCode 2000 is "accepted", not yet
  delivered. An error is a 4xx/5xx with `{"errorCode", "errorMessage"}`.
- Look up: `GET /messages/v4/list-old?messageId=...` (or `?to=...&dateType=CREATED&
  startDate=<ISO 8601>`, then `&startKey=<the last page's nextKey>`) answers
  `{"messageList": {"<id>": {..., "statusCode", "type", "customFields"}}, "nextKey"}`; 4000 is
  "received by the phone". A message still on its way when the send returned is recorded as
  `accepted`; the outbox's sweep looks it up again (`recheck`) until its result is final.

Idempotency: SOLAPI takes no idempotency key (`allowDuplicates` only concerns one request's
own recipients), so every message carries its notice id in `customFields.noticeId`, and a
notice being tried again (the outbox counts attempts) is first looked up among its number's
messages since the notice was written, every page of them, for that id: found, it is not
sent again. The window this leaves (the provider took the message
but has not listed it yet when the retry looks) is seconds wide; the outbox's lease is
longer than that.
"""

import asyncio
import dataclasses
import hashlib
import hmac
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import phonenumbers
import structlog

from domain.advertising import AdvertisingRefused, category_of
from domain.messages import TEMPLATES
from domain.wording import Language
from infra.links import LinkSigner, link_url
from store.delivery import Delivery, NoticeRow

log = structlog.get_logger(__name__)

SEND_PATH = "/messages/v4/send-many/detail"
LIST_PATH = "/messages/v4/list-old"  # the path the official SDK's get_messages calls
ACCEPTED, RECEIVED = "2000", "4000"
_PENDING_PREFIXES = ("2", "3")  # accepted, handed to the carrier: no final result yet
_FALLBACK_TYPES = ("SMS", "LMS", "MMS")
PAGE = "50"  # messages a lookup asks for at a time
MAX_PAGES = 20  # a retried notice's earlier send is looked for among this many pages at most
CLOCK_MARGIN = timedelta(minutes=10)  # the provider's dates against ours


class ProviderUnavailable(RuntimeError):
    """A failure worth trying again (rate limit, server error, timeout, bad credentials
    until someone fixes them): the outbox keeps the notice."""


def authorization(api_key: str, api_secret: str, now: datetime, salt: str) -> str:
    date = now.isoformat()
    signature = hmac.new(api_secret.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()
    return f"HMAC-SHA256 apiKey={api_key}, date={date}, salt={salt}, signature={signature}"


def national(phone: str) -> tuple[str, str]:
    """(country code, national digits) of an E.164 number, as SOLAPI takes `country` and
    `to`: +821012345678 -> ("82", "01012345678")."""
    number = phonenumbers.parse(phone, "KR")
    digits = "".join(
        c
        for c in phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if c.isdigit()
    )
    return str(number.country_code), digits


def _error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and "errorCode" in body:
        return f"{body['errorCode']}: {body.get('errorMessage', '')}".strip()
    return f"HTTP {response.status_code}"


class SolapiClient:
    """The HTTP side: signed requests, and what their answers mean for one message."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        settle: float = 2.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key, self.api_secret = api_key, api_secret
        self.timeout = timeout
        self.transport = transport
        self.settle = settle  # how long a send waits for the final result before "accepted"
        self.clock = clock

    def _headers(self) -> dict[str, str]:
        auth = authorization(self.api_key, self.api_secret, self.clock(), uuid.uuid4().hex)
        return {"Authorization": auth, "Content-Type": "application/json"}

    async def _request(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as c:
                return await c.request(
                    method, self.base_url + path, json=body, params=params, headers=self._headers()
                )
        except httpx.TimeoutException:
            raise ProviderUnavailable(
                f"message provider did not answer within {self.timeout:g} s"
            ) from None
        except httpx.HTTPError as err:
            raise ProviderUnavailable(
                f"message provider unreachable: {type(err).__name__}"
            ) from None

    async def send(self, message: dict[str, Any]) -> Delivery:
        """Send one message; its Delivery (failed for good when the provider refused it),
        or ProviderUnavailable when trying again may help."""
        body = {"messages": [message], "allowDuplicates": False, "showMessageList": True}
        response = await self._request("POST", SEND_PATH, body)
        if response.status_code == 429 or response.status_code >= 500:
            raise ProviderUnavailable(f"message provider answered {_error(response)}")
        if response.status_code in (401, 403):  # our keys: fixed by an operator, then retried
            raise ProviderUnavailable(
                f"message provider refused our credentials: {_error(response)}"
            )
        if not response.is_success:
            return Delivery("failed", "solapi", detail=_error(response))
        return await self._accepted(response.json())

    async def _accepted(self, body: dict[str, Any]) -> Delivery:
        group = str(body.get("groupInfo", {}).get("groupId", ""))
        failed = body.get("failedMessageList") or []
        if failed:
            first = failed[0]
            return Delivery(
                "failed",
                "solapi",
                channel=str(first.get("type", "")),
                group_id=group,
                message_id=str(first.get("messageId", "")),
                status_code=str(first.get("statusCode", "")),
                detail=str(first.get("statusMessage", "")),
            )
        listed = body.get("messageList") or []
        if not listed:
            raise ProviderUnavailable("message provider answered without the message")
        message_id = str(listed[0].get("messageId", ""))
        accepted = Delivery(
            "accepted",
            "solapi",
            channel="ATA",
            group_id=group,
            message_id=message_id,
            status_code=str(listed[0].get("statusCode", "")),
        )
        return await self._settled(accepted)

    async def _settled(self, accepted: Delivery) -> Delivery:
        """The final result if the provider has it within `settle` seconds, else `accepted`
        (a KakaoTalk notification usually lands in a second or two)."""
        waited, pause = 0.0, 0.1
        while True:
            found = await self._lookup({"messageId": accepted.message_id})
            record = found.get(accepted.message_id)
            if record is not None:
                outcome = self.outcome(record, accepted.group_id)
                if outcome.result != "accepted" or waited >= self.settle:
                    return outcome
            elif waited >= self.settle:
                return accepted
            await asyncio.sleep(pause)
            waited += pause
            pause = min(pause * 2, 0.5)

    async def _lookup(self, params: dict[str, str]) -> dict[str, dict[str, Any]]:
        return (await self._page(params))[0]

    async def _page(self, params: dict[str, str]) -> tuple[dict[str, dict[str, Any]], str | None]:
        """One page of the list (newest first) and the key of the next, if there is one."""
        response = await self._request("GET", LIST_PATH, params={**params, "limit": PAGE})
        if not response.is_success:
            raise ProviderUnavailable(f"message lookup answered {_error(response)}")
        body = response.json()
        listed = body.get("messageList") or {}
        found = {str(k): v for k, v in listed.items()} if isinstance(listed, dict) else {}
        return found, (str(body["nextKey"]) if body.get("nextKey") else None)

    @staticmethod
    def outcome(record: dict[str, Any], group_id: str = "") -> Delivery:
        """What a listed message's status means."""
        code, kind = str(record.get("statusCode", "")), str(record.get("type", ""))
        ids = {
            "group_id": str(record.get("groupId", group_id)),
            "message_id": str(record.get("messageId", "")),
            "status_code": code,
            "channel": kind,
        }
        if code == RECEIVED:
            fell_back = kind in _FALLBACK_TYPES or bool(record.get("replacement"))
            return Delivery("fallback_sms" if fell_back else "sent", "solapi", **ids)
        if code.startswith(_PENDING_PREFIXES):
            return Delivery("accepted", "solapi", **ids)
        return Delivery("failed", "solapi", detail=str(record.get("statusMessage", "")), **ids)

    async def lookup(self, message_id: str) -> Delivery | None:
        """A message's status now, by its id (`GET /messages/v4/list-old?messageId=`)."""
        record = (await self._lookup({"messageId": message_id})).get(message_id)
        return self.outcome({"messageId": message_id, **record}) if record else None

    async def find(self, notice_id: str, to: str, since: datetime | None = None) -> Delivery | None:
        """The message sent before for this notice, if the provider lists one: among the
        number's messages created since `since` (the notice's own creation: none can be
        older; less a margin for the provider's clock), page after page (`startKey`), as
        the SDK's GetMessagesRequest asks (`dateType`, `startDate`). A busy number's 50 latest
        messages would not do: the earlier send could be behind them, and go out twice."""
        params = {"to": to}
        if since is not None:
            start = (since - CLOCK_MARGIN).astimezone(UTC)
            params |= {"dateType": "CREATED", "startDate": start.isoformat()}
        key: str | None = None
        for _ in range(MAX_PAGES):
            listed, key = await self._page(params | ({"startKey": key} if key else {}))
            for message_id, record in listed.items():
                if (record.get("customFields") or {}).get("noticeId") == notice_id:
                    return self.outcome({"messageId": message_id, **record})
            if key is None:
                return None
        # Thousands of messages to one number since the notice was written: not a shop's
        # customer. Kept, not sent: the sweep tries again and an operator can look.
        raise ProviderUnavailable(
            f"message lookup: more than {MAX_PAGES * int(PAGE)} messages to the number since "
            "the notice was written; not sent again"
        )


class MessageSender:
    """A Sender for customer notices: each notice worded by its template (domain.messages),
    its link signed for the case and purpose, sent once as a KakaoTalk notification with
    the SMS/LMS fallback."""

    def __init__(
        self,
        client: SolapiClient,
        *,
        sender_number: str,
        channel_id: str,
        template_ids: dict[str, str],
        links: LinkSigner,
        public_url: str,
        link_ttl: timedelta,
        language: Language = "ko",
        provider: str = "solapi",
    ) -> None:
        self.client = client
        self.sender_number = "".join(c for c in sender_number if c.isdigit())
        self.channel_id = channel_id
        self.template_ids = template_ids
        self.links, self.public_url, self.link_ttl = links, public_url, link_ttl
        self.language = language
        self.provider = provider
        self.timeout = client.timeout * 3 + client.settle  # a lookup, a send, a status

    def message(self, notice: NoticeRow, now: datetime) -> dict[str, Any]:
        """The request's message for `notice` (the customer's number in `data.to`)."""
        kind = notice["kind"]
        if kind not in TEMPLATES and category_of(kind) == "advertising":
            raise AdvertisingRefused(
                f"{kind!r} is advertising: never a KakaoTalk notification template "
                "(advertisement() sends it as SMS/LMS)"
            )
        template = TEMPLATES.get(kind)
        if template is None:
            raise ValueError(f"no message template for notice kind {kind!r}")
        data = notice["data"]
        values = {v: str(data[v]) for v in template.variables if v in data and v != "link"}
        if template.link:
            token = self.links.issue(notice["case_id"], template.link, self.link_ttl, now)
            values["link"] = link_url(self.public_url, token)
        country, to = national(str(data["to"]))
        return {
            "to": to,
            "from": self.sender_number,
            "country": country,
            "type": "ATA",
            "text": template.render(self.language, values),
            "customFields": {"noticeId": str(notice["id"])},
            "kakaoOptions": {
                "pfId": self.channel_id,
                "templateId": self.template_ids.get(kind, kind),
                "variables": {f"#{{{k}}}": v for k, v in values.items()},
                "disableSms": False,
            },
        }

    def advertisement(self, ad_id: str, to: str, text: str) -> dict[str, Any]:
        """An advertising message: SMS or LMS by its length, no KakaoTalk options (Kakao's
        notification templates may carry no advertising). `text` is already framed by
        domain.advertising.advertising_text (label, sender, contact, opt-out)."""
        if not text.startswith("(광고)"):
            raise AdvertisingRefused("an advertising message starts with the (광고) label")
        return self.text_message(ad_id, to, text)

    def text_message(self, message_id: str, to: str, text: str) -> dict[str, Any]:
        """A plain text message (SMS, or LMS past 90 bytes): staff notices to staff phones,
        which need no template (a notice to staff is the shop's own business)."""
        country, national_to = national(to)
        kind = "SMS" if len(text.encode("euc-kr", errors="replace")) <= 90 else "LMS"
        return {
            "to": national_to,
            "from": self.sender_number,
            "country": country,
            "type": kind,
            "text": text,
            "customFields": {"noticeId": message_id},
        }

    async def send_text(self, notice: NoticeRow, to: str) -> Delivery:
        """`notice`'s text to a staff phone, once: a retried notice is looked up first."""
        message_id = f"{notice['id']}/staff"
        ids = {"case_id": notice["case_id"], "notice_id": str(notice["id"]), "kind": notice["kind"]}
        if notice.get("attempts", 1) > 1:
            sent_before = await self.client.find(
                message_id, national(to)[1], notice.get("created_at")
            )
            if sent_before is not None:
                log.info("staff text sent before; not sent again", **ids)
                return self._as_ours(sent_before)
        message = self.text_message(message_id, to, str(notice["message"]))
        delivery = self._as_ours(await self.client.send(message))
        log.info("staff text sent", result=delivery.result, **ids)
        return delivery

    async def send_advertisement(self, ad_id: str, to: str, text: str) -> Delivery:
        delivery = self._as_ours(await self.client.send(self.advertisement(ad_id, to, text)))
        log.info("advertisement sent", ad_id=ad_id, result=delivery.result)
        return delivery

    async def find_advertisement(self, ad_id: str, to: str) -> Delivery | None:
        """The advertising message sent before under `ad_id`, if the provider lists one:
        a send whose answer was lost (a timeout, a sender that died) may have gone."""
        found = await self.client.find(ad_id, national(to)[1])
        return self._as_ours(found) if found is not None else None

    async def recheck(self, accepted: Delivery) -> Delivery | None:
        """What became of a message the provider had only accepted when it was sent: its
        final result, still `accepted`, or None when it is not ours or not listed (yet)."""
        if accepted.provider != self.provider or not accepted.message_id:
            return None
        found = await self.client.lookup(accepted.message_id)
        return self._as_ours(found) if found is not None else None

    async def send(self, notice: NoticeRow) -> Delivery:
        message = self.message(notice, datetime.now(UTC))
        ids = {"case_id": notice["case_id"], "notice_id": str(notice["id"]), "kind": notice["kind"]}
        if notice.get("attempts", 1) > 1:
            sent_before = await self.client.find(
                str(notice["id"]), message["to"], notice.get("created_at")
            )
            if sent_before is not None:
                log.info("message sent before; not sent again", result=sent_before.result, **ids)
                return self._as_ours(sent_before)
        delivery = self._as_ours(await self.client.send(message))
        log.info(
            "message sent" if delivery.result != "failed" else "message refused",
            result=delivery.result,
            status_code=delivery.status_code,
            **ids,
        )
        return delivery

    def _as_ours(self, delivery: Delivery) -> Delivery:
        return dataclasses.replace(delivery, provider=self.provider)

"""The stand-in message provider: SOLAPI's messages API on this machine (port 8025,
COMPLAINTS_STANDIN_PORT), in the manner of Mailpit for e-mail. `make run` starts it when
COMPLAINTS_MESSAGES=standin (its default there), the tests start their own; the service
talks to it with the same adapter (notify/solapi.py) it uses for the real provider.

It checks what the real one checks: the HMAC signature (apiKey/date/salt/signature, the date
within 15 minutes, a salt used once), the sender number (registered), the KakaoTalk channel
(pfId), the template (registered, every `#{variable}` filled, the text the template makes),
the number, and the lengths (KakaoTalk 1000 characters; SMS 90 bytes, LMS 2000 bytes in
EUC-KR). It delivers at once: a number with KakaoTalk gets the notification (ATA); a number
without gets the SMS/LMS fallback. A number has no KakaoTalk when its last four digits are
0000 (e.g. 010-1234-0000) or after `POST /admin/no-kakao {"to": "01012345678"}`.

What you can see and steer:
- `GET /messages`: every message, oldest first: `to`, `type` (ATA, SMS, LMS), `template_id`,
  `text`, `status` (`sent`, `fallback_sms`, `failed`, `pending`), plus ids and the reason of
  a failure.
- `GET /`: the same as a page.
- `GET /messages/v4/list-old`: SOLAPI's list, newest first, by `messageId`, `to`, `groupId`,
  `startDate`/`endDate` (created), a page of `limit` at a time (`startKey`, `nextKey`).
- `POST /admin/fail {"status": 429 | 500, "times": N}`: the next N sends answer that.
- `POST /admin/slow {"seconds": S}`: every send takes its messages, then waits S seconds
  before it answers (a sender that gives up or dies meanwhile must not send them twice).
- `POST /admin/pending {"times": N}`: the next N messages stay on their way (status
  `pending`, code 3000) until `POST /admin/settle` delivers them: the result a sender learns
  only by looking the message up again later (the outbox's sweep does).
- `POST /admin/reset`: forget messages and steering.

Status codes are the stand-in's own where SOLAPI's are not public: the adapter reads only
2xxx/3xxx (accepted, on the way), 4000 (received) and anything else (failed).
"""

import asyncio
import hashlib
import hmac
import html
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from domain.messages import TEMPLATES
from domain.wording import Language
from notify.solapi import ACCEPTED, LIST_PATH, RECEIVED, SEND_PATH

STANDIN_API_KEY = "STANDINKEY000000"
STANDIN_API_SECRET = "STANDINSECRET0000000000000000000"
STANDIN_SENDER = "0212345678"
STANDIN_CHANNEL = "KA01PF-STANDIN"
MAX_KAKAO_CHARS, MAX_SMS_BYTES, MAX_LMS_BYTES = 1000, 90, 2000
SKEW = timedelta(minutes=15)
_AUTH = re.compile(r"^HMAC-SHA256 (.+)$")
_SLOT = re.compile(r"#\{([a-z_]+)\}")
_MOBILE = re.compile(r"^01[016789]\d{7,8}$")
_LANDLINE = re.compile(r"^0[2-6]\d{7,9}$")


def standin_template_ids() -> dict[str, str]:
    """The template id the stand-in registers each of our templates under."""
    return {kind: f"STANDIN-{kind}" for kind in TEMPLATES}


@dataclass
class StandinState:
    api_key: str = STANDIN_API_KEY
    api_secret: str = STANDIN_API_SECRET
    sender_number: str = STANDIN_SENDER
    channel_id: str = STANDIN_CHANNEL
    templates: dict[str, str] = field(default_factory=dict)  # template id -> text
    no_kakao: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)
    salts: set[str] = field(default_factory=set)
    fail: list[int] = field(default_factory=list)  # HTTP statuses for the next sends
    delay: float = 0.0
    pending: int = 0  # the next messages stay on their way until `POST /admin/settle`

    @classmethod
    def for_language(cls, language: Language = "ko") -> "StandinState":
        ids = standin_template_ids()
        return cls(templates={ids[k]: t.text[language] for k, t in TEMPLATES.items()})


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errorCode": code, "errorMessage": message}, status_code=status)


def _check_auth(state: StandinState, header: str | None, now: datetime) -> JSONResponse | None:
    match = _AUTH.match(header or "")
    if not match:
        return _error(401, "InvalidAuthorizationHeader", "HMAC-SHA256 인증 헤더가 필요합니다")
    parts = {}
    for part in match[1].split(","):
        key, _, value = part.strip().partition("=")
        parts[key.lower()] = value
    if parts.get("apikey") != state.api_key:
        return _error(403, "InvalidAPIKey", "등록되지 않은 API Key입니다")
    date, salt = parts.get("date", ""), parts.get("salt", "")
    try:
        signed_at = datetime.fromisoformat(date)
    except ValueError:
        return _error(401, "InvalidDate", "date는 ISO 8601 형식이어야 합니다")
    if signed_at.tzinfo is None or abs(now - signed_at) > SKEW:
        return _error(401, "RequestTimeTooSkewed", "요청 시각이 15분 이상 차이납니다")
    expected = hmac.new(
        state.api_secret.encode(), (date + salt).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, parts.get("signature", "")):
        return _error(401, "SignatureDoesNotMatch", "서명이 일치하지 않습니다")
    if not 12 <= len(salt) <= 64 or salt in state.salts:
        return _error(401, "DuplicatedSignature", "salt는 12-64자이고 한 번만 쓸 수 있습니다")
    state.salts.add(salt)
    return None


def _euc_kr_bytes(text: str) -> int:
    return len(text.encode("euc-kr", errors="replace"))


def _has_kakao(state: StandinState, to: str) -> bool:
    return not (to.endswith("0000") or to in state.no_kakao)


def _deliver(state: StandinState, m: dict[str, Any]) -> tuple[str, str, str, str]:
    """(final type, status, status code, reason) of one message, or a refusal."""
    to, text = str(m.get("to", "")), str(m.get("text", ""))
    kakao = m.get("kakaoOptions") or {}
    if m.get("from") != state.sender_number:
        return "", "failed", "1030", "등록되지 않은 발신번호 (unregistered sender number)"
    if str(m.get("country", "82")) != "82" or not (_MOBILE.match(to) or _LANDLINE.match(to)):
        return "", "failed", "1020", "유효하지 않은 수신번호 (invalid recipient number)"
    if m.get("type") == "ATA" or kakao:
        if kakao.get("pfId") != state.channel_id:
            return "ATA", "failed", "1025", "등록되지 않은 채널 (unknown pfId)"
        template = state.templates.get(str(kakao.get("templateId", "")))
        if template is None:
            return "ATA", "failed", "1021", "등록되지 않은 템플릿 (unknown templateId)"
        if "(광고)" in text:  # Kakao's rule: a notification template carries no advertising
            return "ATA", "failed", "1026", "알림톡에 광고 불가 (advertising in a notification)"
        variables = kakao.get("variables") or {}
        empty = [s for s in _SLOT.findall(template) if not variables.get(f"#{{{s}}}")]
        if empty:
            return "ATA", "failed", "1022", f"템플릿 변수 누락 (unfilled: {', '.join(empty)})"
        made = _SLOT.sub(lambda s: str(variables[f"#{{{s[1]}}}"]), template)
        if made != text:
            return "ATA", "failed", "1023", "템플릿과 내용 불일치 (text does not match template)"
        if len(text) > MAX_KAKAO_CHARS:
            return "ATA", "failed", "1024", "알림톡 1000자 초과 (over 1000 characters)"
        if _has_kakao(state, to):
            return "ATA", "sent", RECEIVED, ""
        if kakao.get("disableSms"):
            return "ATA", "failed", "3104", "카카오톡 미사용 번호 (no KakaoTalk), 대체 발송 꺼짐"
    size = _euc_kr_bytes(text)
    if size > MAX_LMS_BYTES:
        return "LMS", "failed", "1024", "LMS 2000바이트 초과 (over 2000 bytes)"
    kind = "SMS" if size <= MAX_SMS_BYTES else "LMS"
    status = "fallback_sms" if (m.get("type") == "ATA" or kakao) else "sent"
    return kind, status, RECEIVED, ""


def create_app(state: StandinState | None = None) -> FastAPI:
    state = state or StandinState.for_language()
    app = FastAPI(title="Stand-in message provider (SOLAPI messages v4)", docs_url=None)
    app.state.standin = state

    @app.post(SEND_PATH)
    async def send_many(request: Request) -> JSONResponse:
        refused = _check_auth(state, request.headers.get("authorization"), datetime.now(UTC))
        if refused is not None:
            return refused
        if state.fail:
            failing = state.fail.pop(0)
            if failing == 429:
                return _error(429, "TooManyRequests", "요청이 너무 많습니다")
            return _error(failing, "InternalError", "일시적인 서버 오류")
        body = await request.json()
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return _error(400, "ValidationError", "messages는 1건 이상이어야 합니다")
        group_id = "G4V" + uuid.uuid4().hex[:20].upper()
        accepted, failed = [], []
        for m in messages:
            message_id = "M4V" + uuid.uuid4().hex[:20].upper()
            kind, status, code, reason = _deliver(state, m)
            final = (kind, status, code, reason)
            if state.pending and not code.startswith("10"):  # on its way to the phone
                state.pending -= 1
                kind, status, code, reason = str(m.get("type", "")), "pending", "3000", ""
            kakao = m.get("kakaoOptions") or {}
            record = {
                "messageId": message_id,
                "groupId": group_id,
                "to": m.get("to"),
                "from": m.get("from"),
                "country": str(m.get("country", "82")),
                "type": kind or str(m.get("type", "")),
                "template_id": kakao.get("templateId"),
                "text": m.get("text"),
                "status": status,
                "statusCode": code,
                "statusMessage": reason
                or ("이통사 전송 중" if status == "pending" else "수신 완료"),
                "replacement": status == "fallback_sms",
                "customFields": m.get("customFields") or {},
                "dateCreated": datetime.now(UTC).isoformat(),
                "_final": final,
            }
            state.messages.append(record)
            if status == "failed" and code.startswith("10"):  # refused on arrival
                failed.append(
                    {k: record[k] for k in ("to", "from", "type", "country", "messageId")}
                    | {
                        "statusCode": code,
                        "statusMessage": reason,
                        "accountId": "STANDIN",
                        "customFields": record["customFields"],
                    }
                )
            else:
                accepted.append(
                    {
                        "messageId": message_id,
                        "statusCode": ACCEPTED,
                        "statusMessage": "정상 접수(이통사로 접수 예정) ",
                        "customFields": record["customFields"],
                    }
                )
        count = {
            "total": len(messages),
            "sentTotal": 0,
            "sentFailed": 0,
            "sentSuccess": 0,
            "sentPending": len(accepted),
            "sentReplacement": 0,
            "refund": 0,
            "registeredFailed": len(failed),
            "registeredSuccess": len(accepted),
        }
        group = {
            "groupId": group_id,
            "count": count,
            "status": "SENDING",
            "allowDuplicates": bool(body.get("allowDuplicates", False)),
            "accountId": "STANDIN",
            "apiVersion": "4",
            "dateCreated": datetime.now(UTC).isoformat(),
        }
        answer: dict[str, Any] = {"groupInfo": group, "failedMessageList": failed}
        if body.get("showMessageList"):
            answer["messageList"] = accepted
        if state.delay:  # took the messages, answers late: a sender may give up (or die)
            await asyncio.sleep(state.delay)
        return JSONResponse(answer)

    @app.get(LIST_PATH)
    async def list_messages(request: Request) -> JSONResponse:
        refused = _check_auth(state, request.headers.get("authorization"), datetime.now(UTC))
        if refused is not None:
            return refused
        q = request.query_params
        limit = int(q.get("limit", "20"))
        try:
            since = _instant(q.get("startDate"))
            until = _instant(q.get("endDate"))
        except ValueError:
            return _error(400, "ValidationError", "startDate/endDate는 ISO 8601이어야 합니다")
        found = [
            r
            for r in reversed(state.messages)  # newest first
            if (not q.get("messageId") or r["messageId"] == q["messageId"])
            and (not q.get("to") or r["to"] == q["to"])
            and (not q.get("groupId") or r["groupId"] == q["groupId"])
            and (since is None or datetime.fromisoformat(r["dateCreated"]) >= since)
            and (until is None or datetime.fromisoformat(r["dateCreated"]) <= until)
        ]
        start = q.get("startKey")
        if start:  # the page from that message on (a key from the last page's nextKey)
            ids = [r["messageId"] for r in found]
            found = found[ids.index(start) :] if start in ids else []
        page, rest = found[:limit], found[limit:]
        return JSONResponse(
            {
                "limit": limit,
                "startKey": start or None,
                "nextKey": rest[0]["messageId"] if rest else None,
                "messageList": {
                    r["messageId"]: {k: v for k, v in r.items() if k not in _OURS} for r in page
                },
            }
        )

    @app.get("/messages")
    async def messages() -> list[dict[str, Any]]:
        keys = ("to", "type", "template_id", "text", "status", "statusCode", "statusMessage")
        return [{k: r[k] for k in ("messageId", "groupId", *keys)} for r in state.messages]

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(r[k] or ''))}</td>"
                for k in ("dateCreated", "to", "type", "template_id", "status")
            )
            + f"<td><pre>{_linked(str(r['text'] or ''))}</pre></td></tr>"
            for r in reversed(state.messages)
        )
        return (
            "<!doctype html><meta charset=utf-8>"
            '<meta name=viewport content="width=device-width, initial-scale=1">'
            "<title>Stand-in messages</title><style>body{font-family:sans-serif;margin:1em}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px;"
            "vertical-align:top}pre{white-space:pre-wrap;margin:0}</style>"
            "<h1>Messages the stand-in provider received</h1>"
            "<p>Numbers ending in 0000 have no KakaoTalk: they get the SMS/LMS fallback. "
            "JSON: <a href=/messages>/messages</a></p><table><tr><th>when (UTC)</th><th>to</th>"
            f"<th>type</th><th>template</th><th>status</th><th>text</th></tr>{rows}</table>"
        )

    @app.post("/admin/no-kakao")
    async def no_kakao(request: Request) -> dict[str, Any]:
        to = str((await request.json())["to"]).replace("-", "")
        state.no_kakao.add(to)
        return {"no_kakao": sorted(state.no_kakao)}

    @app.post("/admin/fail")
    async def fail(request: Request) -> dict[str, Any]:
        body = await request.json()
        state.fail += [int(body.get("status", 500))] * int(body.get("times", 1))
        return {"fail": state.fail}

    @app.post("/admin/slow")
    async def slow(request: Request) -> dict[str, Any]:
        state.delay = float((await request.json()).get("seconds", 0))
        return {"seconds": state.delay}

    @app.post("/admin/pending")
    async def pending(request: Request) -> dict[str, Any]:
        state.pending = int((await request.json()).get("times", 1))
        return {"pending": state.pending}

    @app.post("/admin/settle")
    async def settle() -> dict[str, Any]:
        settled = 0
        for r in state.messages:
            if r["status"] == "pending":
                kind, status, code, reason = r["_final"]
                r |= {
                    "type": kind or r["type"],
                    "status": status,
                    "statusCode": code,
                    "statusMessage": reason or "수신 완료",
                    "replacement": status == "fallback_sms",
                }
                settled += 1
        return {"settled": settled}

    @app.post("/admin/reset")
    async def reset() -> dict[str, Any]:
        state.messages.clear()
        state.no_kakao.clear()
        state.fail.clear()
        state.delay = 0.0
        state.pending = 0
        return {"reset": True}

    return app


_SAID = {False: "수신 완료", True: "이통사 전송 중"}  # a delivered message, one on its way
_OURS = ("status", "_final")  # the stand-in's own bookkeeping, not SOLAPI's fields
_URL = re.compile(r"(https?://[^\s<]+)")


def _instant(text: str | None) -> datetime | None:
    """A date the list is asked for (ISO 8601; UTC when it names no offset)."""
    if not text:
        return None
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _linked(text: str) -> str:
    return _URL.sub(r'<a href="\1">\1</a>', html.escape(text))


def server(port: int, host: str = "127.0.0.1", state: StandinState | None = None) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(state), host=host, port=port, log_config=None, access_log=False
    )
    return uvicorn.Server(config)


async def serve(
    port: int, stop: asyncio.Event, host: str = "127.0.0.1", language: Language = "ko"
) -> None:
    """Serve until `stop` is set."""
    standin = server(port, host, StandinState.for_language(language))
    task = asyncio.create_task(standin.serve())
    try:
        await stop.wait()
    finally:
        standin.should_exit = True
        await task

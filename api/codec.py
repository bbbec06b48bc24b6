"""The codec endpoint: Temporal's remote codec protocol on the API's app, for staff only.

`POST /codec/decode` opens sealed payloads, `POST /codec/encode` seals them: a Payloads
message as JSON in and out, as the Temporal CLI (`--codec-endpoint URL/codec --codec-auth
"Bearer <token>"`) and the Web UI (`?preserveStorageRefs=true` added) call it. The caller is a
staff member by token, as on every other route, or for decoding from the Web UI's origin, by
the staff pages' session (see `reader`): decoding needs a role that may read cases;
encoding one that may act on cases (someone typing input into `temporal workflow update
execute` keeps it sealed in the history; the service's own doors seal with the key they hold
and never call it). Intake systems do neither. CORS lets the Web UI's page call it, with
credentials, from the UI's origin only, and only on these two paths.

A caller opens only their own shop's payloads and seals under their own shop's key: a payload
whose key id names another shop is answered exactly as one whose key is not here, so the
answer never tells whether that shop exists.
"""

from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from google.protobuf import json_format
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads

from api.auth import Caller, Ctx, bearer
from api.problems import problem
from app import sessions
from app.identity import READ, WALK, Actor, Permission, actor_for_token, require
from app.refusals import Forbidden, InvalidInput, Unavailable
from infra.codec import EncryptionCodec, UnknownKey, key_id_of
from infra.connection import codec_for
from infra.keys import shop_of_key
from infra.settings import Settings

PREFIX = "/codec"
# A Temporal payload is at most 2 MB by default; sealed and base64'd in JSON, a batch of a
# few still fits. Anything larger is not a history's payloads.
MAX_BODY = 8 * 1024 * 1024

router = APIRouter(prefix=PREFIX, include_in_schema=False)


class TooLarge(Exception):
    pass


async def _body(request: Request) -> bytes:
    """The body, refused (413) as soon as it is known to be over MAX_BODY: from its declared
    length before reading anything, else while it streams in."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _codec(request: Request, settings: Settings) -> EncryptionCodec:
    codec: EncryptionCodec | None = getattr(request.app.state, "codec", None)
    if codec is None:
        codec = codec_for(settings)
        if codec is None:
            raise Unavailable(
                "no payload key here: set COMPLAINTS_CODEC_KEYS (`make run` makes a local one)"
            )
        request.app.state.codec = codec
    return codec


def caller_shop(caller: Actor) -> str:
    """The shop whose payloads the caller may open and seal: their own. (Only members of a
    shop get this far: an operator, of none, may neither read nor walk a case.)"""
    if caller.shop is None:
        raise Forbidden(f"{caller.name} belongs to no shop: a shop's payloads are its own")
    return caller.shop


async def _open_own(codec: EncryptionCodec, payloads: Iterable[Payload]) -> list[Payload]:
    """Decode, refusing (before any key is looked up) a payload sealed for another shop than
    the one the codec is bound to, with the very error a key that is not here gives."""
    payloads = list(payloads)
    for p in payloads:
        key_id = key_id_of(p)
        if key_id is not None and shop_of_key(key_id) != codec.shop:
            raise UnknownKey(key_id)
    return await codec.decode(payloads)


async def _apply(
    request: Request,
    ctx: Ctx,
    caller: Caller,
    permission: Permission,
    apply: Callable[[EncryptionCodec, Iterable[Payload]], Awaitable[list[Payload]]],
) -> Response:
    require(caller, permission)  # who, before reading a byte of the body
    try:
        body = await _body(request)
    except TooLarge:
        return problem(
            413,
            "too-large",
            "Body too large",
            f"a codec request carries at most {MAX_BODY // 2**20} MiB of payloads",
        )
    codec = _codec(request, ctx.settings).for_shop(caller_shop(caller))
    try:
        payloads = json_format.Parse(body, Payloads())
    except json_format.ParseError:
        return problem(
            400, "bad-request", "Bad request", "the body is not a Payloads message as JSON"
        )
    try:
        result = await apply(codec, payloads.payloads)
    except Exception as err:  # an unknown key id, a tampered payload: say which, keep serving
        raise InvalidInput(f"payloads cannot be opened: {type(err).__name__} {err}") from None
    return Response(
        json_format.MessageToJson(Payloads(payloads=result)), media_type="application/json"
    )


async def reader(
    request: Request,
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """Who may decode: a staff token, as everywhere; or, from the Web UI's page alone (its
    origin, which the browser sets and a page cannot), the staff pages' session, which the
    UI sends with `TEMPORAL_CODEC_INCLUDE_CREDENTIALS` when it runs on the API's site. A
    staff member signed in to the pages then reads the histories decoded in the UI; anyone
    else sees them sealed."""
    cookie = request.cookies.get(sessions.COOKIE)
    origin = request.headers.get("origin")
    if credentials is None and cookie and origin in ui_origins(ctx.settings):
        return (await sessions.session_for(ctx, cookie)).actor
    return await actor_for_token(ctx, credentials.credentials if credentials else None)


@router.post("/decode")
async def decode(request: Request, ctx: Ctx, caller: Annotated[Actor, Depends(reader)]) -> Response:
    return await _apply(request, ctx, caller, READ, _open_own)


@router.post("/encode")
async def encode(request: Request, ctx: Ctx, caller: Caller) -> Response:
    return await _apply(request, ctx, caller, WALK, EncryptionCodec.encode)


def ui_origins(settings: Settings) -> list[str]:
    """The Web UI's origin, as the browser names it (localhost and 127.0.0.1 alike)."""
    url = settings.ui_url.rstrip("/")
    return sorted(
        {url, url.replace("localhost", "127.0.0.1"), url.replace("127.0.0.1", "localhost")}
    )


class CodecCors:
    """CORS for the Web UI's origin on the codec paths alone: the rest of the API is for
    programs and the CLI, not for pages of another origin."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST"],
            allow_headers=["authorization", "content-type", "x-namespace"],
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: Any = scope.get("path", "")
        if scope["type"] == "http" and str(path).startswith(PREFIX + "/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)

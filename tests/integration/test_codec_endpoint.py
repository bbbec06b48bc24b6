"""The codec endpoint on the API's app (`/codec/decode`, `/codec/encode`): no anonymous
decode, roles as on every other route, problem+json refusals, a body limit, and CORS for the
Web UI's origin on these two paths only; a caller opens their own shop's payloads alone.
Over the app in-process (no Temporal needed); the Temporal CLI against it for real is in
test_sealed.py."""

import base64
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

import api.codec
from api.codec import MAX_BODY
from api.main import create_app
from app import sessions
from app.context import Context
from app.identity import actor_for_token
from infra.codec import EncryptionCodec
from infra.connection import codec_for
from infra.keys import add_shop_key, shred_shop_key
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from store import staff as staff_store
from tests.helpers import INTAKE, MANAGER, OWNER, STAFF, add_staff

pytestmark = pytest.mark.db
PROBLEM = "application/problem+json"
UI = "http://localhost:8233"  # the Web UI's origin (COMPLAINTS_UI_URL's default)
SECRET = "박서연 010-8765-4321 the cake arrived crushed"


def plain(text: str) -> dict[str, object]:
    """A Payloads message as Temporal's codec protocol carries it: json/plain, base64."""
    data = base64.b64encode(json.dumps(text).encode()).decode()
    return {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": data}]}


@pytest.fixture
async def http(pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(Context(settings, pool=pool)))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sealed(http: httpx.AsyncClient, token: str, text: str = SECRET) -> dict[str, object]:
    response = await http.post("/codec/encode", json=plain(text), headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    detail: str = response.json()["detail"]
    return detail


async def test_decode_answers_no_one_without_a_staff_token(
    http: httpx.AsyncClient, staff_tokens: dict[str, str]
) -> None:
    body = await sealed(http, staff_tokens[STAFF])
    assert SECRET.encode() not in json.dumps(body).encode()
    anonymous = await http.post("/codec/decode", json=body)
    assert "needs a staff token" in problem(anonymous, 401)
    assert anonymous.headers["www-authenticate"] == "Bearer"
    for wrong in ("Bearer cmp_not-a-token", "Basic a2ltOm1pbmpp", "cmp_no-scheme"):
        refused = await http.post("/codec/decode", json=body, headers={"Authorization": wrong})
        problem(refused, 401)
    # Whatever the UI adds to the path changes nothing.
    query = await http.post("/codec/decode?preserveStorageRefs=true", json=body)
    problem(query, 401)


async def test_intake_may_neither_decode_nor_encode(
    http: httpx.AsyncClient, staff_tokens: dict[str, str]
) -> None:
    body = await sealed(http, staff_tokens[STAFF])
    decode = await http.post("/codec/decode", json=body, headers=bearer(staff_tokens[INTAKE]))
    assert "only staff, managers and the owner may read cases" in problem(decode, 403)
    encode = await http.post("/codec/encode", json=plain("x"), headers=bearer(staff_tokens[INTAKE]))
    assert "may act on a case" in problem(encode, 403)
    problem(await http.post("/codec/encode", json=plain("x")), 401)


@pytest.mark.parametrize("who", [STAFF, MANAGER, OWNER])
async def test_staff_decode_what_was_sealed(
    http: httpx.AsyncClient, staff_tokens: dict[str, str], who: str
) -> None:
    body = await sealed(http, staff_tokens[who])
    payload = body["payloads"][0]  # type: ignore[index]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"binary/encrypted"
    response = await http.post(
        "/codec/decode?preserveStorageRefs=true", json=body, headers=bearer(staff_tokens[who])
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    opened = response.json()["payloads"][0]
    assert json.loads(base64.b64decode(opened["data"])) == SECRET


async def test_a_revoked_token_decodes_nothing(
    http: httpx.AsyncClient, pool: asyncpg.Pool, staff_tokens: dict[str, str]
) -> None:
    name = f"Leaver {uuid.uuid4().hex[:6]}"
    token = await add_staff(pool, name, "staff")
    body = await sealed(http, token)
    assert (await http.post("/codec/decode", json=body, headers=bearer(token))).status_code == 200
    await staff_store.revoke(pool, name)
    assert "revoked" in problem(
        await http.post("/codec/decode", json=body, headers=bearer(token)), 401
    )


async def test_the_web_ui_decodes_with_a_signed_in_staff_members_session(
    http: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, staff_tokens: dict[str, str]
) -> None:
    """The Web UI sends the browser's cookies (TEMPORAL_CODEC_INCLUDE_CREDENTIALS), not a
    token: the staff pages' session opens payloads when the request comes from the UI's
    origin, and from nowhere else; encoding still needs a token."""
    ctx = Context(settings, pool=pool)
    owner = await actor_for_token(ctx, staff_tokens[OWNER])
    link = await sessions.sign_in_link(ctx, STAFF, owner)
    session = await sessions.sign_in(ctx, link.rsplit("/", 1)[-1], "test browser")
    body = await sealed(http, staff_tokens[STAFF])
    http.cookies.set(sessions.COOKIE, session.token)
    try:
        opened = await http.post("/codec/decode", json=body, headers={"Origin": UI})
        assert opened.status_code == 200, opened.text
        assert json.loads(base64.b64decode(opened.json()["payloads"][0]["data"])) == SECRET
        assert opened.headers["access-control-allow-origin"] == UI
        assert opened.headers["access-control-allow-credentials"] == "true"
        for elsewhere in ({"Origin": "http://evil.example"}, {}):
            problem(await http.post("/codec/decode", json=body, headers=elsewhere), 401)
        problem(await http.post("/codec/encode", json=plain("x"), headers={"Origin": UI}), 401)
        await sessions.sign_out(ctx, session)
        ended = await http.post("/codec/decode", json=body, headers={"Origin": UI})
        assert "session has ended" in problem(ended, 401)
    finally:
        http.cookies.clear()


async def test_bad_bodies_are_refused_as_problems(
    http: httpx.AsyncClient, staff_tokens: dict[str, str]
) -> None:
    auth = bearer(staff_tokens[STAFF])
    junk = await http.post("/codec/decode", content=b"{not json", headers=auth)
    assert "not a Payloads message" in problem(junk, 400)
    body = await sealed(http, staff_tokens[STAFF])
    payload = body["payloads"][0]  # type: ignore[index]
    payload["metadata"]["encryption-key-id"] = base64.b64encode(b"gone-1").decode()
    unknown = await http.post("/codec/decode", json=body, headers=auth)
    assert "'gone-1'" in problem(unknown, 422)


async def test_a_body_over_the_limit_is_refused_before_it_is_read(
    http: httpx.AsyncClient, staff_tokens: dict[str, str]
) -> None:
    auth = bearer(staff_tokens[STAFF])
    declared = await http.post(
        "/codec/decode",
        content=b"{}",
        headers=auth | {"Content-Length": str(MAX_BODY + 1)},
    )
    assert "at most 8 MiB" in problem(declared, 413)

    async def chunks() -> AsyncIterator[bytes]:  # no length declared: counted as it comes
        for _ in range(MAX_BODY // 2**20 + 1):
            yield b" " * 2**20

    streamed = await http.post("/codec/decode", content=chunks(), headers=auth)
    problem(streamed, 413)
    # Who asks is checked first: a stranger learns nothing, not even the limit.
    problem(await http.post("/codec/decode", content=chunks()), 401)


async def test_cors_lets_the_web_ui_call_the_codec_paths_only(
    http: httpx.AsyncClient, staff_tokens: dict[str, str]
) -> None:
    preflight = await http.options(
        "/codec/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == UI
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "x-namespace" in preflight.headers["access-control-allow-headers"].lower()
    body = await sealed(http, staff_tokens[STAFF])
    refused = await http.post("/codec/decode", json=body, headers={"Origin": UI})
    assert refused.status_code == 401  # the UI sees why, not a CORS error
    assert refused.headers["access-control-allow-origin"] == UI
    other = await http.post("/codec/decode", json=body, headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    # The rest of the API is not for pages of another origin.
    cases = await http.options(
        "/cases", headers={"Origin": UI, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in cases.headers


async def test_the_codec_paths_are_not_in_the_api_schema(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    assert not [path for path in schema["paths"] if path.startswith("/codec")]
    assert "/codec/decode" in schema["info"]["description"]


# Keys per shop: a caller opens their own shop's payloads only; another shop's answer as a
# key that is not here, so nobody learns whether that shop exists.
SHOP_A, SHOP_GONE = "k7qm-3xd9", "q2vn-8hzt"


@pytest.fixture
async def shops_http(
    pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, EncryptionCodec]]:
    """The app with a shop key folder holding shop A's secret (not SHOP_GONE's), and a codec
    with the same keys, as the worker of that deployment holds them."""
    shops = settings.model_copy(update={"shop_keys": tmp_path})
    add_shop_key(tmp_path, SHOP_A)
    codec = codec_for(shops)
    assert codec is not None
    transport = httpx.ASGITransport(app=create_app(Context(shops, pool=pool)))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client, codec


async def sealed_for(codec: EncryptionCodec, shop: str, text: str = SECRET) -> dict[str, object]:
    """A Payloads message as the worker seals one of `shop`'s cases (the shop's key id)."""
    [payload] = json_format.Parse(json.dumps(plain(text)), Payloads()).payloads
    if shop == SHOP_GONE:  # sealed while it had a secret, shredded since
        add_shop_key(codec.shop_keys or Path(), shop)
    [sealed] = await codec.for_shop(shop).encode([payload])
    if shop == SHOP_GONE:
        shred_shop_key(codec.shop_keys or Path(), shop)
    body: dict[str, object] = json.loads(json_format.MessageToJson(Payloads(payloads=[sealed])))
    return body


async def test_another_shops_payload_answers_as_an_unknown_key(
    shops_http: tuple[httpx.AsyncClient, EncryptionCodec], staff_tokens: dict[str, str]
) -> None:
    http, codec = shops_http
    auth = bearer(staff_tokens[STAFF])  # a first-shop staff member (every one, for now)
    own = await http.post("/codec/decode", json=await sealed_for(codec, FIRST_SHOP), headers=auth)
    assert own.status_code == 200, own.text
    other = await http.post("/codec/decode", json=await sealed_for(codec, SHOP_A), headers=auth)
    gone = await http.post("/codec/decode", json=await sealed_for(codec, SHOP_GONE), headers=auth)
    # Shop A exists and its secret is here; SHOP_GONE's is not: the same answer, word for word
    # but the key id the caller sent.
    assert problem(other, 422) == problem(gone, 422).replace(SHOP_GONE, SHOP_A)
    assert other.json() | {"detail": ""} == gone.json() | {"detail": ""}
    assert problem(other, 422) == (
        f"payloads cannot be opened: UnknownKey payload encrypted with key 'shop/{SHOP_A}/test-1', "
        "which is not here: it needs that master key (COMPLAINTS_CODEC_KEYS) and the shop's "
        "secret (COMPLAINTS_SHOP_KEYS); a shredded shop's payloads stay sealed"
    )
    assert SECRET not in other.text
    # A batch with one payload of another shop opens none of them.
    mixed = await sealed_for(codec, FIRST_SHOP)
    mixed["payloads"] += (await sealed_for(codec, SHOP_A))["payloads"]  # type: ignore[operator]
    problem(await http.post("/codec/decode", json=mixed, headers=auth), 422)


async def test_a_caller_of_a_shop_opens_and_seals_that_shops_payloads_only(
    shops_http: tuple[httpx.AsyncClient, EncryptionCodec],
    staff_tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    http, codec = shops_http
    monkeypatch.setattr(api.codec, "caller_shop", lambda caller: SHOP_A)
    auth = bearer(staff_tokens[STAFF])
    own = await http.post("/codec/decode", json=await sealed_for(codec, SHOP_A), headers=auth)
    assert own.status_code == 200, own.text
    assert json.loads(base64.b64decode(own.json()["payloads"][0]["data"])) == SECRET
    first = await http.post("/codec/decode", json=await sealed_for(codec, FIRST_SHOP), headers=auth)
    assert "UnknownKey payload encrypted with key 'test-1', which is not configured" in problem(
        first, 422
    )
    # Sealed through the endpoint: under the caller's shop key, which the worker opens.
    body = await sealed(http, staff_tokens[STAFF])
    [payload] = json_format.Parse(json.dumps(body), Payloads()).payloads
    assert payload.metadata["encryption-key-id"] == f"shop/{SHOP_A}/test-1".encode()
    [opened] = await codec.decode([payload])
    assert json.loads(opened.data) == SECRET

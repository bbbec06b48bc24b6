"""The codec endpoint on the API's app (`/codec/decode`, `/codec/encode`): no anonymous
decode, roles as on every other route, problem+json refusals, a body limit, and CORS for the
Web UI's origin on these two paths only. Over the app in-process (no Temporal needed); the
Temporal CLI against it for real is in test_sealed.py."""

import base64
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from api.codec import MAX_BODY
from api.main import create_app
from app.context import Context
from infra.settings import Settings
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

"""POST /sign-in-links: the owner gets a staff member's one-time sign-in link over the API,
the same link `complaints staff link NAME` prints (one application function); other roles
are refused and nothing is made."""

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from api.main import create_app
from app import sessions
from app.context import Context
from app.sessions import LinkRefused
from infra.settings import Settings
from tests.helpers import MANAGER, OWNER, STAFF, add_staff

pytestmark = pytest.mark.db
PROBLEM = "application/problem+json"


@pytest.fixture
async def api(
    pool: asyncpg.Pool, database_url: str, staff_tokens: dict[str, str]
) -> AsyncIterator[tuple[httpx.AsyncClient, Context]]:
    settings = Settings(database_url=database_url, public_url="https://shop.example")
    ctx = Context(settings, pool=pool)  # no Temporal: a link is a row in PostgreSQL
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client, ctx


def bearer(tokens: dict[str, str], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[name]}"}


async def links(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM staff_sign_in_links"))


async def test_the_owner_gets_a_link_that_signs_the_member_in_once(
    api: tuple[httpx.AsyncClient, Context], pool: asyncpg.Pool, staff_tokens: dict[str, str]
) -> None:
    client, ctx = api
    name = f"Lee Jiwoo {uuid.uuid4().hex[:4]}"
    await add_staff(pool, name, "staff")
    answer = await client.post(
        "/sign-in-links", json={"name": name}, headers=bearer(staff_tokens, OWNER)
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["name"] == name and body["expires_in"] == 15 * 60
    prefix = "https://shop.example/staff/sign-in/lnk_"
    assert body["url"].startswith(prefix)
    token = body["url"].removeprefix("https://shop.example/staff/sign-in/")
    assert await sessions.link_holder(ctx, token) == name
    session = await sessions.sign_in(ctx, token, "test")
    assert session.actor.name == name and session.actor.role.value == "staff"
    with pytest.raises(LinkRefused) as used:
        await sessions.sign_in(ctx, token, "test")
    assert used.value.why == "used"


@pytest.mark.parametrize("role", [STAFF, MANAGER])
async def test_other_roles_are_refused_and_nothing_is_made(
    api: tuple[httpx.AsyncClient, Context],
    pool: asyncpg.Pool,
    staff_tokens: dict[str, str],
    role: str,
) -> None:
    client, _ = api
    before = await links(pool)
    answer = await client.post(
        "/sign-in-links", json={"name": OWNER}, headers=bearer(staff_tokens, role)
    )
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert "only the owner may make a staff member's sign-in link" in answer.json()["detail"]
    assert await links(pool) == before


async def test_no_token_an_unknown_member_or_no_name_is_refused(
    api: tuple[httpx.AsyncClient, Context], pool: asyncpg.Pool, staff_tokens: dict[str, str]
) -> None:
    client, _ = api
    before = await links(pool)
    assert (await client.post("/sign-in-links", json={"name": OWNER})).status_code == 401
    unknown = await client.post(
        "/sign-in-links", json={"name": "Nobody Here"}, headers=bearer(staff_tokens, OWNER)
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == (
        "no active staff member 'Nobody Here': see `complaints staff list`"
    )
    bodies: tuple[dict[str, object], ...] = (
        {},
        {"name": ""},
        {"name": "x" * 81},
        {"name": "Lee\r\nJiwoo"},
        {"name": OWNER, "x": 1},
    )
    for body in bodies:
        answer = await client.post("/sign-in-links", json=body, headers=bearer(staff_tokens, OWNER))
        assert answer.status_code == 422, (body, answer.text)
    assert await links(pool) == before


async def test_the_route_is_documented(api: tuple[httpx.AsyncClient, Context]) -> None:
    client, _ = api
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/sign-in-links"]["post"]
    assert operation["operationId"] == "make_sign_in_link"
    assert {"201", "401", "403", "404", "422"} <= set(operation["responses"])
    assert "owner" in operation["summary"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = schema["components"]["schemas"][body.rsplit("/", 1)[-1]]
    assert request["required"] == ["name"]
    assert request["properties"]["name"]["maxLength"] == 80
    assert request["properties"]["name"]["pattern"].endswith("\\r\\n]*$")  # one line

"""Consent to advertising on PostgreSQL: given and withdrawn through the API (the phone in
the body), with its history (when, how, by whom); the opt-out link withdraws it without a
sign-in, and only a genuine opt-out link does."""

import random
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from api.main import create_app
from app import keeping
from app.context import Context
from app.identity import actor_named
from cli import handlers
from cli.parser import parser
from infra.links import OPT_OUT, link_signer, opt_out_url
from infra.settings import Settings
from store.consents import ConsentBook
from tests.helpers import OWNER

pytestmark = pytest.mark.db


def a_phone() -> str:
    return f"010-{random.randint(2000, 4999)}-{random.randint(1000, 9999)}"


@pytest.fixture
def linked(settings: Settings) -> Settings:
    return settings.model_copy(update={"link_secret": SecretStr("consent-test-secret")})


@pytest.fixture
async def http(pool: asyncpg.Pool, linked: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(Context(linked, pool=pool)))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


async def test_consent_given_and_withdrawn_through_the_api(
    http: httpx.AsyncClient, staff_tokens: dict[str, str], pool: asyncpg.Pool
) -> None:
    auth = {"Authorization": f"Bearer {staff_tokens[OWNER]}"}
    phone = a_phone()
    given = await http.post("/consents", json={"phone": phone, "given": True}, headers=auth)
    assert given.status_code == 200, given.text
    body = given.json()
    assert body["marketing"] and not body["night"] and body["opted_out_at"] is None
    night = await http.post(
        "/consents", json={"phone": phone, "given": True, "night": True}, headers=auth
    )
    assert night.json()["night"] and night.json()["marketing"]
    assert night.json()["marketing_since"] == body["marketing_since"]  # kept, not renewed
    no_night = await http.post(
        "/consents", json={"phone": phone, "given": False, "night": True}, headers=auth
    )
    assert no_night.json()["marketing"] and not no_night.json()["night"]
    withdrawn = await http.post("/consents", json={"phone": phone, "given": False}, headers=auth)
    assert not withdrawn.json()["marketing"] and withdrawn.json()["opted_out_at"]
    history = await ConsentBook(pool).history(body["customer_id"])
    assert [(h["scope"], h["given"], h["via"], h["by_whom"]) for h in history] == [
        ("marketing", True, "api", OWNER),
        ("marketing", True, "api", OWNER),
        ("night", True, "api", OWNER),
        ("night", False, "api", OWNER),
        ("marketing", False, "api", OWNER),
        ("night", False, "api", OWNER),
    ]
    refused = await http.post("/consents", json={"phone": "12", "given": True}, headers=auth)
    assert refused.status_code in (400, 422)
    assert (await http.post("/consents", json={"phone": phone, "given": True})).status_code == 401


async def test_the_opt_out_link_withdraws_consent_without_a_sign_in(
    http: httpx.AsyncClient, linked: Settings, pool: asyncpg.Pool
) -> None:
    ctx = Context(linked, pool=pool)
    owner = await actor_named(ctx, OWNER)
    state = await keeping.consent(ctx, owner, a_phone(), True, True, "cli")
    url = opt_out_url("http://api", link_signer(linked), state.customer_id, datetime.now(UTC))
    path = url.removeprefix("http://api")
    page = await http.get(path)
    assert page.status_code == 200 and 'action="' + path + '"' in page.text
    after_get = await ConsentBook(pool).state(state.customer_id)
    assert after_get is not None and after_get.marketing  # a link preview opts no one out
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf
    assert (await http.post(path, data={"csrf": "nope"})).status_code == 403
    done = await http.post(path, data={"csrf": csrf[1]})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=done")
    after = await ConsentBook(pool).state(state.customer_id)
    assert after is not None and not after.marketing and not after.night and after.opted_out_at
    history = await ConsentBook(pool).history(state.customer_id)
    assert history[-1]["via"] == "opt_out_link" and history[-1]["by_whom"] == "customer"
    again = await http.post(path, data={"csrf": csrf[1]})  # a second press changes nothing
    assert again.status_code == 303


async def test_only_a_genuine_opt_out_link_opts_out(
    http: httpx.AsyncClient, linked: Settings, pool: asyncpg.Pool
) -> None:
    signer = link_signer(linked)
    now = datetime.now(UTC)
    case_link = signer.issue("abcd1234", "choose", timedelta(days=1), now)
    assert (await http.get(f"/c/{case_link}/stop")).status_code == 403
    genuine = signer.issue("cus-aaaaaaaaaaaa", OPT_OUT, timedelta(days=1), now)
    # One character of its middle changed ("AA" at the end was sometimes what was there, or
    # only base64's unused bits: the same link, 1 run in about a thousand).
    middle = len(genuine) // 2
    altered = genuine[:middle] + ("B" if genuine[middle] == "A" else "A") + genuine[middle + 1 :]
    assert (await http.get(f"/c/{altered}/stop")).status_code == 404
    old = signer.token("cus-aaaaaaaaaaaa", OPT_OUT, now - timedelta(seconds=1))
    assert (await http.get(f"/c/{old}/stop")).status_code == 410


async def test_the_cli_says_what_it_recorded(pool: asyncpg.Pool, settings: Settings) -> None:
    ctx = Context(settings, pool=pool)
    phone = a_phone()

    async def consent(*answer: str) -> str:
        return await handlers.consent(ctx, parser().parse_args(["consent", phone, *answer]))

    assert ": consent to advertising recorded" in await consent("yes")
    night = await consent("yes", "--night")
    assert "consent to advertising, also between 21:00 and 08:00, recorded" in night
    no_night = await consent("no", "--night")
    assert ": night-time consent withdrawn" in no_night and "consent to advertising" not in no_night
    assert "between 21:00 and 08:00 no" in no_night and "advertising messages    yes" in no_night
    withdrawn = await consent("no")
    assert ": consent to advertising withdrawn (an opt-out)" in withdrawn
    assert "advertising messages    no" in withdrawn and "opted out" in withdrawn

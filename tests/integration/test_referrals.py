"""Visits with who referred whom, on PostgreSQL through the API (POST /visits with
`referred_by`): both sides get their discount, every third referral earns the referrer a free
check-up, a reward is used up once, and a referral counts on a new customer's first visit."""

import random
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from api.main import create_app
from app import customers
from app.context import Context
from app.identity import actor_named
from app.refusals import Conflict
from cli.render import rewards
from infra.settings import Settings
from tests.helpers import OWNER

pytestmark = pytest.mark.db


def a_phone() -> str:
    return f"010-{random.randint(2000, 4999)}-{random.randint(1000, 9999)}"


@pytest.fixture
def shop(settings: Settings) -> Settings:
    return settings.model_copy(update={"referral_discount_percent": 5})


@pytest.fixture
async def http(pool: asyncpg.Pool, shop: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(Context(shop, pool=pool)))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


async def test_referrals_reward_both_sides_and_the_third_a_free_check(
    http: httpx.AsyncClient, staff_tokens: dict[str, str]
) -> None:
    auth = {"Authorization": f"Bearer {staff_tokens[OWNER]}"}
    referrer = a_phone()
    first = await http.post("/visits", json={"phone": referrer, "name": "Kim"}, headers=auth)
    assert first.status_code == 200, first.text
    assert first.json()["rewards"] == [] and first.json()["referrer"] is None
    for n in (1, 2, 3):
        friend = await http.post(
            "/visits", json={"phone": a_phone(), "referred_by": referrer}, headers=auth
        )
        assert friend.status_code == 200, friend.text
        body = friend.json()
        assert [(r["kind"], r["percent"]) for r in body["rewards"]] == [("referred_discount", 5)]
        assert body["referrer"]["referrals"] == n
        kinds = [r["kind"] for r in body["referrer"]["rewards"]]
        assert kinds.count("referrer_discount") == n
        assert kinds.count("free_check") == (1 if n == 3 else 0)


async def test_a_referral_is_refused_where_it_cannot_hold(
    http: httpx.AsyncClient, staff_tokens: dict[str, str]
) -> None:
    auth = {"Authorization": f"Bearer {staff_tokens[OWNER]}"}
    unknown = await http.post(
        "/visits", json={"phone": a_phone(), "referred_by": a_phone()}, headers=auth
    )
    assert unknown.status_code == 409 and "referrer" in unknown.json()["detail"]
    regular, referrer = a_phone(), a_phone()
    for phone in (regular, referrer):
        assert (await http.post("/visits", json={"phone": phone}, headers=auth)).status_code == 200
    again = await http.post(
        "/visits", json={"phone": regular, "referred_by": referrer}, headers=auth
    )
    assert again.status_code == 409 and "first visit" in again.json()["detail"]
    itself = await http.post(
        "/visits", json={"phone": referrer, "referred_by": referrer}, headers=auth
    )
    assert itself.status_code == 409


async def test_a_reward_is_used_up_once(shop: Settings, pool: asyncpg.Pool) -> None:
    ctx = Context(shop, pool=pool)
    owner = await actor_named(ctx, OWNER)
    referrer, friend = a_phone(), a_phone()
    await customers.record_visit(ctx, owner, referrer, "Kim")
    first = await customers.record_visit(ctx, owner, friend, None, referrer)
    (reward,) = first.rewards
    assert any("5 % off (referred)" in line for line in rewards(first))
    second = await customers.record_visit(ctx, owner, friend, None, redeem=[reward.id])
    assert [r.id for r in second.redeemed] == [reward.id] and second.rewards == []
    with pytest.raises(Conflict, match="used already"):
        await customers.record_visit(ctx, owner, friend, None, redeem=[reward.id])
    assert second.visits == 2

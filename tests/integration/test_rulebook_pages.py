"""The pages speak the owner's language: `language` set with `rules set` is the pages' as soon
as this process has set it, and another process's pages follow within the cache's TTL."""

import argparse
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from api.main import create_app
from app import rules
from app.context import Context
from app.identity import Actor, Role
from cli import handlers
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from tests.helpers import OWNER

pytestmark = pytest.mark.db


async def lang(client: httpx.AsyncClient) -> str:
    response = await client.get("/staff/sign-in")
    assert response.status_code == 200, response.text
    return response.text.split('<html lang="', 1)[1].split('"', 1)[0]


def client(ctx: Context, base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(ctx)), base_url=base)


async def test_the_pages_speak_the_language_the_owner_sets(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    env = settings.model_copy(update={"language": "en"})
    ours, theirs = Context(env, pool=pool), Context(env, pool=pool)
    try:
        async with client(ours, "http://a") as here, client(theirs, "http://b") as there:
            assert await lang(here) == "en" and await lang(there) == "en"
            await rules.set_rules(
                ours, Actor(OWNER, Role.OWNER, shop=FIRST_SHOP), {"language": "ko"}
            )
            assert await lang(here) == "ko"  # the process that set it: at once
            theirs.rules_changed()  # what the TTL does in a few seconds
            assert await lang(there) == "ko"
            await rules.set_rules(
                ours, Actor(OWNER, Role.OWNER, shop=FIRST_SHOP), {"language": None}
            )
            assert await lang(here) == "en"  # back to the environment's
    finally:
        await pool.execute("DELETE FROM rulebook")


async def test_the_api_shows_times_in_the_zone_the_owner_sets(
    pool: asyncpg.Pool, settings: Settings, staff_tokens: dict[str, str]
) -> None:
    ctx = Context(settings.model_copy(update={"timezone": "Asia/Seoul"}), pool=pool)
    auth = {"Authorization": f"Bearer {staff_tokens[OWNER]}"}
    try:
        async with client(ctx, "http://api") as api:
            await rules.set_rules(
                ctx, Actor(OWNER, Role.OWNER, shop=FIRST_SHOP), {"timezone": "America/New_York"}
            )
            response = await api.get("/rules/changes?limit=1", headers=auth)
            assert response.status_code == 200, response.text
            at = datetime.fromisoformat(response.json()["changes"][0]["at"])
            assert at.utcoffset() == at.astimezone(ZoneInfo("America/New_York")).utcoffset()
            assert at.utcoffset() != timedelta(hours=9)
    finally:
        await pool.execute("DELETE FROM rulebook")


async def test_rules_set_language_says_a_kakaotalk_message_keeps_its_templates(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    env = settings.model_copy(
        update={"language": "en", "messages": "standin", "public_url": "https://shop.test"}
    )
    ctx = Context(env.model_copy(update={"staff": OWNER}), pool=pool)
    try:
        said = await handlers.rules_set(ctx, argparse.Namespace(pairs=["language", "ko"]))
        assert said.startswith("language: (default) -> ko")
        assert said.splitlines()[-1].startswith("notices and pages now speak ko; KakaoTalk")
        said = await handlers.rules_set(ctx, argparse.Namespace(pairs=["language", "-"]))
        assert "KakaoTalk" not in said
    finally:
        await pool.execute("DELETE FROM rulebook")

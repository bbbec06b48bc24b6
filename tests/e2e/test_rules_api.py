"""The rulebook over HTTP: staff read it, the owner changes it, managers close a day, every
change is listed, and a contradictory rulebook is refused in one line with nothing changed."""

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.e2e.test_api import Api, api, refusal
from tests.helpers import MANAGER, OWNER, STAFF

pytestmark = pytest.mark.db
__all__ = ["api"]  # the fixture, used by name


@pytest.fixture
async def clean_rulebook(pool: asyncpg.Pool) -> AsyncIterator[None]:
    await pool.execute("DELETE FROM rulebook")
    yield
    await pool.execute("DELETE FROM rulebook")
    await pool.execute("DELETE FROM calendar_closures WHERE day = '2031-03-04'")


async def test_the_owner_changes_the_rulebook_and_every_change_is_listed(
    api: Api, clean_rulebook: None
) -> None:
    shown = (await api("GET", "/rules", as_=STAFF)).json()["rules"]
    assert {r["key"] for r in shown} >= {"response_target", "opening_hours", "closed_every"}
    changed = await api("PATCH", "/rules", as_=OWNER, json={"rules": {"response_target": "48h"}})
    assert changed.status_code == 200, changed.text
    assert [c["what"] for c in changed.json()["changes"]] == ["response_target"]
    hours = await api(
        "POST",
        "/calendar/hours",
        as_=OWNER,
        json={"days": "mon-sun", "periods": "11:00-15:00,17:00-22:00"},
    )
    assert hours.status_code == 200, hours.text
    closed = await api(
        "POST",
        "/calendar/closures",
        as_=MANAGER,
        json={"day": "2031-03-04", "reason": "a funeral in the family"},
    )
    assert closed.status_code == 200, closed.text
    listed = (await api("GET", "/rules/changes", as_=STAFF)).json()["changes"]
    assert [c["what"] for c in listed[:3]] == [
        "closed 2031-03-04",
        "opening_hours",
        "response_target",
    ]
    assert listed[2]["before"] is None and listed[2]["after"] == "48h"
    assert listed[0]["by"] == MANAGER


async def test_a_contradictory_rulebook_is_refused_in_one_line_and_nothing_changes(
    api: Api, pool: asyncpg.Pool, clean_rulebook: None
) -> None:
    before = (await api("GET", "/rules")).json()
    bad = await api(
        "POST",
        "/calendar/hours",
        as_=OWNER,
        json={"days": "mon", "periods": "11:00-15:00,14:00-22:00"},
    )
    detail = refusal(bad, 409)
    assert "overlap or are out of order" in detail and "\n" not in detail
    none_open = await api(
        "PATCH",
        "/rules",
        as_=OWNER,
        json={"rules": {"closed_every": "mon;tue;wed;thu;fri;sat;sun"}},
    )
    assert "needs opening hours on at least one weekday" in refusal(none_open, 409)
    assert (await api("GET", "/rules")).json() == before
    assert await pool.fetchval("SELECT count(*) FROM rulebook") == 0
    forbidden = await api("PATCH", "/rules", as_=MANAGER, json={"rules": {"language": "en"}})
    assert "only the owner may change the shop's rulebook" in refusal(forbidden, 403)

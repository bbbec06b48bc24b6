"""The rulebook in the owner's hands, from the CLI: opening hours with a break, regular
closing days, every change listed, and a contradictory rulebook refused in one line with
nothing changed."""

import re
from collections.abc import AsyncIterator

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from infra.settings import Settings
from tests.e2e.test_cli import Cli
from tests.helpers import MANAGER

pytestmark = pytest.mark.db


@pytest.fixture
async def clean_rulebook(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """The rulebook is the shop's, shared by every test: leave it as the environment says."""
    await pool.execute("DELETE FROM rulebook")
    yield
    await pool.execute("DELETE FROM rulebook")
    await pool.execute("DELETE FROM calendar_openings WHERE day = '2026-12-14'")


async def test_an_owner_sets_a_break_and_regular_closing_days(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, clean_rulebook: None
) -> None:
    cli = Cli(dev_env, settings)
    hours = await cli("calendar", "hours", "mon-sun", "11:00-15:00,17:00-22:00")
    assert "opening_hours:" in hours and re.search(r"\d+ open cases? takes? the new rules", hours)
    assert "closed_every: (default) -> 2nd,4th mon" in await cli(
        "calendar", "closed-every", "2nd,4th mon"
    )
    # An hour from a Tuesday 14:30, counted in open hours: the break is skipped.
    due = await cli(
        "calendar", "due", "--target", "1h", "--from", "2026-12-08 14:30", "--mode", "business"
    )
    assert due.splitlines()[0] == "2026-12-08T17:30:00+09:00"
    # The 2nd Monday of December 2026 is closed, the 3rd is open.
    second = await cli(
        "calendar", "due", "--target", "1h", "--from", "2026-12-13 22:00", "--mode", "business"
    )
    assert second.splitlines()[0] == "2026-12-15T12:00:00+09:00"
    # The 2nd Monday opened once, from noon: the same hour falls due there.
    opened = await cli("calendar", "open", "2026-12-14", "12:00-16:00", "--reason", "a party")
    assert "2026-12-14 (Mon) open once 12:00-16:00: a party" in opened
    again = await cli(
        "calendar", "due", "--target", "1h", "--from", "2026-12-13 22:00", "--mode", "business"
    )
    assert again.splitlines()[0] == "2026-12-14T13:00:00+09:00"
    both = await cli("calendar", "close", "2026-12-14", "--reason", "no", ok=False)
    assert "has a one-off extra opening" in both
    shown = await cli("rules", "show")
    assert "11:00-15:00,17:00-22:00" in shown and "(set by " in shown
    changes = await cli("rules", "changes")
    assert "closed_every: (default) -> 2nd,4th mon" in changes
    assert "opening_hours: " in changes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("calendar", "hours", "mon", "11:00-15:00,14:00-22:00"),
            "PERIODS: 11:00-15:00 and 14:00-22:00 overlap or are out of order",
        ),
        (
            ("calendar", "closed-every", "mon;tue;wed;thu;fri;sat;sun"),
            "calendar: a business calendar needs opening hours on at least one weekday",
        ),
        (("rules", "set", "timezone", "Asia/Busan"), "timezone: unknown time zone"),
        (("rules", "set", "opening_hour", "x"), "'opening_hour' is not a rule"),
        (
            ("rules", "set", "response_target", "48h", "warn_fraction", "2"),
            "warn_fraction: Input should be less than 1",
        ),
    ],
)
async def test_a_contradictory_rulebook_is_refused_in_one_line_and_nothing_changes(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    clean_rulebook: None,
    args: tuple[str, ...],
    message: str,
) -> None:
    cli = Cli(dev_env, settings)
    before = await cli("rules", "show")
    line = await cli(*args, ok=False)
    assert message in line, line
    assert line.endswith("nothing changed")
    assert await cli("rules", "show") == before
    assert await pool.fetchval("SELECT count(*) FROM rulebook") == 0


async def test_staff_read_the_rulebook_but_only_the_owner_changes_it(
    dev_env: WorkflowEnvironment, settings: Settings, clean_rulebook: None
) -> None:
    cli = Cli(dev_env, settings)
    cli.env["COMPLAINTS_STAFF"] = MANAGER
    assert "response_target" in await cli("rules", "show")
    line = await cli("rules", "set", "response_target", "48h", ok=False)
    assert "only the owner may change the shop's rulebook" in line

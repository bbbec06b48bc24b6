"""The rulebook in the owner's hands, from the CLI: opening hours with a break, regular
closing days, every change listed, and a contradictory rulebook refused in one line with
nothing changed."""

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from app import rules as rulebook
from app.context import Context
from infra.settings import Settings
from tests.e2e.test_cli import Cli
from tests.helpers import MANAGER, OWNER, eventually
from worker import build_worker

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


WALL_HINT = (
    "counted in wall-clock time, as the shop's targets are: "
    "`complaints rules set target_mode business` counts opening hours"
)


async def test_the_owners_walk_a_closed_day_moves_an_open_case_and_show_says_why(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, clean_rulebook: None
) -> None:
    """Issue 26's "Done when", from the CLI alone: hours with a break, regular closing days,
    the due-time check (in the shop's own clock, saying which), then a case due tomorrow
    moves past a closure of tomorrow, and `show` says when, why and who closed the day."""
    cli = Cli(dev_env, settings)
    await cli("calendar", "hours", "mon-sun", "11:00-15:00,17:00-22:00")
    await cli("calendar", "closed-every", "2nd,4th mon")
    # Without --mode the check counts as the shop's cases do (wall-clock time unless set),
    # and says so with how to switch.
    due = (
        await cli("calendar", "due", "--target", "1h", "--from", "2026-12-08 14:30")
    ).splitlines()
    assert due[0] == "2026-12-08T15:30:00+09:00"
    assert due[1].endswith("1h of wall-clock time from Tue 2026-12-08 14:30")
    assert due[2] == WALL_HINT
    forced = await cli(
        "calendar", "due", "--target", "1h", "--from", "2026-12-08 14:30", "--mode", "wall"
    )
    assert WALL_HINT not in forced, "asked for wall-clock time: nothing to point out"
    await cli("rules", "set", "target_mode", "business")
    due = (
        await cli("calendar", "due", "--target", "1h", "--from", "2026-12-08 14:30")
    ).splitlines()
    assert due[0] == "2026-12-08T17:30:00+09:00", "the break is skipped"
    assert len(due) == 2 and "1h of open hours" in due[1]

    # A target that ends at 13:00 on the next open day: today's open hours left, plus 2h.
    shop, _ = await rulebook.effective(Context(settings, client=dev_env.client, pool=pool))
    now = datetime.now(shop.zone)
    calendar = shop.calendar(now=now)
    left = sum(
        (b - max(a, now) for a, b in calendar.open_intervals(now.date()) if b > now),
        timedelta(0),
    )
    target = left + timedelta(hours=2)
    await cli("rules", "set", "response_target", str(int(target.total_seconds())))
    tomorrow = calendar.add_business_time(now, target).astimezone(shop.zone)
    assert tomorrow.date() > now.date() and f"{tomorrow:%H:%M}" == "13:00", tomorrow
    after = next(
        d
        for d in (tomorrow.date() + timedelta(days=n) for n in range(1, 30))
        if calendar.open_intervals(d)
    )
    closed = tomorrow.date().isoformat()
    try:
        async with build_worker(dev_env.client, pool, settings):
            opened = await cli(
                "open", "--name", "Park Jiho", "--phone", "010-2468-1357", "--channel", "phone",
                "--motive", "compensation", "--what", "The cake arrived crushed",
            )  # fmt: skip
            case_id = re.search(r"opened case ([\w-]+)", opened).group(1)  # type: ignore[union-attr]
            assert f"next      apologize, due {closed} 13:0" in await cli("show", case_id)

            said = await cli("calendar", "close", closed, "--reason", "a funeral in the family")
            assert re.search(r"[1-9]\d* open cases? takes? the new rules", said), said

            async def moved() -> str:
                shown = await cli("show", case_id)
                assert f"next      apologize, due {after.isoformat()} 13:0" in shown, shown
                return shown

            shown = await eventually(moved, timeout=30)
            history = shown[shown.index("history") :].splitlines()
            why = [line for line in history if "rules changed" in line]
            assert len(why) == 1, history
            assert (
                f"rules changed (the shop's rules): closed {closed} by {OWNER}: "
                f"a funeral in the family; due {after.isoformat()} 13:0"
            ) in why[0], why[0]
            assert "case opened (Test Owner): The cake arrived crushed" in shown
        # The closure is listed as the closure it is; targets read as the owner writes them.
        changes = await cli("rules", "changes")
        assert f"{OWNER}  closed {closed}: a funeral in the family" in changes, changes
        assert "(default) -> a funeral" not in changes
        shown_rules = await cli("rules", "show")
        assert '{"protect_others": "4h"}' in shown_rules and "PT" not in shown_rules
    finally:
        await pool.execute("DELETE FROM calendar_closures WHERE day = $1", tomorrow.date())

"""The shop's calendar from the CLI and in a case: business-time targets skip nights,
weekends, public holidays and the shop's own closures, the same way in both."""

import json
import re
from datetime import datetime, timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from infra.settings import Settings
from tests.e2e.test_accidents import OPEN
from tests.e2e.test_cli import Cli
from tests.helpers import workflow_id
from worker import build_worker
from workflows.complaint import ComplaintWorkflow as WF

pytestmark = pytest.mark.db

WEEKDAYS_10_TO_19 = json.dumps({d: "10:00-19:00" for d in ("mon", "tue", "wed", "thu", "fri")})
SHOP = {"COMPLAINTS_TARGET_MODE": "business", "COMPLAINTS_OPENING_HOURS": WEEKDAYS_10_TO_19}


async def test_calendar_due_and_a_case_count_the_same_open_hours(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    cli.env |= SHOP
    friday = await cli("calendar", "due", "--target", "8h", "--from", "2026-11-27 17:00")
    assert friday.splitlines()[0] == "2026-11-30T16:00:00+09:00"  # Monday, in the shop's zone
    assert "due Mon 2026-11-30 16:00 KST: 8h of open hours" in friday

    # A closure of the shop's own, then Christmas (a public holiday in Korea), then a weekend.
    assert "2026-12-24 (Thu) closed: Staff outing" in await cli(
        "calendar", "close", "2026-12-24", "--reason", "Staff outing"
    )
    eve = await cli("calendar", "due", "--target", "8h", "--from", "2026-12-23 17:00")
    assert eve.splitlines()[0] == "2026-12-28T16:00:00+09:00"
    days = await cli("calendar", "--days", "40")
    assert "2026-12-24 Thu  closed: Staff outing" in days
    assert re.search(r"2026-12-25 Fri  closed: public holiday \(.+\)", days)
    assert "2026-12-26 Sat  closed" in days and "2026-12-28 Mon  10:00-19:00" in days

    shop = settings.model_copy(
        update={"target_mode": "business", "opening_hours": WEEKDAYS_10_TO_19}
    )
    async with build_worker(dev_env.client, pool, shop):
        opened = await cli(*OPEN)
        case_id = re.search(r"opened case ([\w-]+)", opened).group(1)
        handle = dev_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
        state = await handle.query(WF.current)
        assert state is not None and state.targets.mode == "business"
        start = state.opened_at.astimezone(shop.zone).isoformat()
        predicted = await cli("calendar", "due", "--target", "24h", "--from", start)
        due = datetime.fromisoformat(predicted.splitlines()[0])
        assert abs(due - state.response_due_at) < timedelta(milliseconds=1)
        assert due - state.opened_at > timedelta(hours=24)  # nights and weekends skipped
        await handle.terminate("test over")


async def test_calendar_refusals_are_one_line(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    assert "is not a time" in await cli(
        "calendar", "due", "--target", "8h", "--from", "Friday 5pm", ok=False
    )
    assert "--target" in await cli("calendar", "due", "--target", "soon", ok=False)
    assert "control character U+0007" in await cli(
        "calendar", "close", "2026-12-31", "--reason", "Inventory\x07", ok=False
    )
    cli.env["COMPLAINTS_OPENING_HOURS"] = '{"funday": "10:00-19:00"}'
    refused = await cli("calendar", ok=False)
    assert "'funday' is not a weekday" in refused


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("due", "--target", "1000000000h"), "--target: is longer than 366 days"),
        (("due", "--target", "9" * 30 + "d"), "is longer than 366 days"),
        (("due", "--target", "9" * 400), "is longer than 366 days"),
        (("due", "--target", "8h", "--from", "9999-12-31 23:00"), "outside the years"),
        (("due", "--target", "8h", "--from", "0001-01-01 00:00"), "outside the years"),
        (("--days", "100000000"), "--days: 100000000 is not between 1 and 366"),
        (("close", "9999-12-31", "--reason", "x"), "day: 9999-12-31 is out of range"),
        (("close", "0001-01-01", "--reason", "x"), "day: 0001-01-01 is out of range"),
        (("open", "9999-12-31", "10:00-12:00", "--reason", "x"), "day: 9999-12-31 is out"),
    ],
)
async def test_out_of_range_calendar_input_is_one_line_and_exit_1(
    dev_env: WorkflowEnvironment, settings: Settings, args: tuple[str, ...], said: str
) -> None:
    code, out, err = await Cli(dev_env, settings).run("calendar", *args)
    assert code == 1, out
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert said in err, err


async def test_a_day_out_of_range_is_stored_nowhere_and_named_as_typed(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    before = await pool.fetchval("SELECT count(*) FROM calendar_closures")
    refused = await cli("calendar", "close", "9999-12-31", "--reason", "x", ok=False)
    assert "nothing changed" in refused
    assert await pool.fetchval("SELECT count(*) FROM calendar_closures") == before
    for args, field in (
        (("list", "--since", "9999-12-31"), "--since"),
        (("report", "--from", "1850-01-01"), "--from"),
        (("report", "--to", "9999-12-31"), "--to"),
    ):
        said = await cli(*args, ok=False)
        assert said.startswith(f"complaints: error: {field}: "), said
        assert "out of range" in said, said

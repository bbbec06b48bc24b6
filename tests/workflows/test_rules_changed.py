"""Changes to the rulebook reach open cases: a closure entered today moves a due time that
would fall on it, a raised target moves the pending escalation; what fired stays fired.
Driven on the time-skipping server; the owner acts through the application layer."""

from collections.abc import AsyncIterator
from datetime import date, timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from app import rules as rulebook
from app.cases import start_case
from app.context import Context
from app.identity import Actor, Role
from domain.commands import Apologize
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from tests.helpers import OWNER, event_types, eventually, open_command, skip_time, workflow_id
from tests.workflows.test_shop_time import (
    local,
    minute,
    move_to,
    next_weekday,
    shop,
    state_of,
    today,
)
from worker import build_worker
from workflows.complaint import ComplaintWorkflow as WF

pytestmark = pytest.mark.db

HOUR = timedelta(hours=1)
THE_OWNER = Actor(OWNER, Role.OWNER, shop=FIRST_SHOP)


@pytest.fixture
async def clean_rulebook(pool: asyncpg.Pool) -> AsyncIterator[list[date]]:
    """The rulebook and closures are the shop's, shared by every test: the days a test
    closes are listed here and reopened after it, and its rules unset."""
    closed: list[date] = []
    yield closed
    await pool.execute("DELETE FROM rulebook")
    await pool.execute("DELETE FROM calendar_closures WHERE day = ANY($1::date[])", closed)


def open_week(rules: Settings, monday: date) -> bool:
    calendar = rules.calendar(now=local(monday, 12))
    return all(calendar.open_interval(monday + timedelta(days=i)) for i in range(4))


async def test_a_case_due_tomorrow_escalates_the_day_after_once_the_shop_closes_tomorrow(
    ts_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    case_id: str,
    clean_rulebook: list[date],
) -> None:
    rules = shop(settings, target_mode="business", response_target=7 * HOUR)
    monday = next_weekday(await today(ts_env), 0)
    while not open_week(rules, monday):
        monday += timedelta(days=7)
    tuesday, wednesday = monday + timedelta(days=1), monday + timedelta(days=2)
    await move_to(ts_env, local(monday, 14))
    async with build_worker(ts_env.client, pool, rules):
        await start_case(ts_env.client, rules, open_command(case_id))
        assert minute((await state_of(ts_env, case_id)).response_due_at) == local(tuesday, 12)

        clean_rulebook.append(tuesday)
        ctx = Context(rules, client=ts_env.client, pool=pool)
        new, done = await rulebook.close_day(ctx, THE_OWNER, tuesday, "a funeral in the family")
        assert new and done.reached >= 1

        async def moved() -> None:
            assert await event_types(pool, case_id) == ["case_opened", "rules_changed"]
            state = await state_of(ts_env, case_id)
            assert minute(state.response_due_at) == local(wednesday, 12)
            assert tuesday in state.targets.calendar.closures  # type: ignore[union-attr]

        await eventually(moved)
        reason = await pool.fetchval(
            "SELECT data->>'reason' FROM complaint_events WHERE case_id = $1 AND seq = 2", case_id
        )
        assert reason == f"closed {tuesday.isoformat()} by {OWNER}: a funeral in the family"
        due_at = await pool.fetchval(
            "SELECT response_due_at FROM complaint_cases WHERE case_id = $1", case_id
        )
        assert minute(due_at) == local(wednesday, 12)  # the staff pages read this

        await move_to(ts_env, local(tuesday, 18))
        assert await event_types(pool, case_id) == ["case_opened", "rules_changed"]
        await move_to(ts_env, local(wednesday, 12, 30))

        async def escalated_once() -> None:
            types = await event_types(pool, case_id)
            assert types == ["case_opened", "rules_changed", "response_due_soon", "escalated"]

        await eventually(escalated_once)


async def test_a_target_raised_from_24h_to_48h_moves_the_pending_escalation(
    ts_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    case_id: str,
    clean_rulebook: list[date],
) -> None:
    rules = settings.model_copy(update={"hold_staff_notices": False})
    async with build_worker(ts_env.client, pool, rules):
        await start_case(ts_env.client, rules, open_command(case_id))
        opened = await state_of(ts_env, case_id)
        assert opened.response_due_at == opened.opened_at + 24 * HOUR
        await skip_time(ts_env, 2 * HOUR)

        ctx = Context(rules, client=ts_env.client, pool=pool)
        done = await rulebook.set_rules(ctx, THE_OWNER, {"response_target": "48h"})
        assert [c.what for c in done.changes] == ["response_target"]

        async def moved() -> None:
            state = await state_of(ts_env, case_id)
            assert state.targets.target == 48 * HOUR
            # The 2 hours used count; the other 46 are counted from the change.
            assert minute(state.response_due_at) == minute(opened.opened_at + 48 * HOUR)

        await eventually(moved)
        await skip_time(ts_env, 28 * HOUR)  # past the old due time (and the old warning)
        assert await event_types(pool, case_id) == ["case_opened", "rules_changed"]
        await skip_time(ts_env, 20 * HOUR)  # past the new one

        async def escalated_once() -> None:
            types = await event_types(pool, case_id)
            assert types == ["case_opened", "rules_changed", "response_due_soon", "escalated"]

        await eventually(escalated_once)


async def test_a_case_that_outlives_its_calendars_years_reads_the_next_years_holidays(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    rules = shop(settings, target_mode="business", response_target=8 * HOUR)
    start = await today(ts_env)
    async with build_worker(ts_env.client, pool, rules):
        await start_case(ts_env.client, rules, open_command(case_id))
        opened = await state_of(ts_env, case_id)
        assert opened.targets.calendar is not None
        last = opened.targets.calendar.years[1]  # type: ignore[index]
        assert last == start.year + 1
        # Still open on December 31 of the last year its holidays cover: the next step's
        # 8 open hours run into a year whose New Year's Day it does not hold.
        await move_to(ts_env, local(date(last, 12, 31), 15))
        handle = ts_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
        await handle.execute_update(WF.apologize, Apologize(what="Sorry it took so long"))

        async def extended() -> None:
            state = await state_of(ts_env, case_id)
            assert state.targets.calendar is not None
            assert state.targets.calendar.years == (start.year, last + 1)
            assert date(last + 1, 1, 1) in state.targets.calendar.holidays

        await eventually(extended)
        reasons = await pool.fetch(
            "SELECT data->>'reason' AS reason FROM complaint_events "
            "WHERE case_id = $1 AND type = 'rules_changed'",
            case_id,
        )
        assert [r["reason"] for r in reasons] == [
            f"the calendar's public holidays extended to {last + 1}"
        ]

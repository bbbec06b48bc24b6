"""A rulebook change whose signalling dies partway is not lost: the change stays marked
undelivered, and the notification sweep (its workflow and activity, on the worker) takes
it to the open cases that missed it. Driven on the time-skipping server; the owner acts
through the application layer."""

import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from app import rule_delivery
from app import rules as rulebook
from app.cases import start_case
from app.context import Context
from infra.settings import Settings
from store import rulebook as store
from tests.helpers import event_types, eventually, open_command, workflow_id
from tests.workflows.test_rules_changed import THE_OWNER, clean_rulebook
from tests.workflows.test_shop_time import minute, state_of
from worker import build_worker
from workflows.notification_sweep import NotificationSweepWorkflow

pytestmark = pytest.mark.db
__all__ = ["clean_rulebook"]  # the fixture, shared with test_rules_changed

HOUR = timedelta(hours=1)


class DiesAt:
    """The application's Temporal client, in a process that dies when it comes to signal
    one case (the ones before it were signalled)."""

    def __init__(self, client: Client, dies_at: str) -> None:
        self.client, self.dies_at = client, dies_at

    def get_workflow_handle(self, wid: str) -> WorkflowHandle[Any, Any]:
        if wid == self.dies_at:
            raise RuntimeError("the process died")
        return self.client.get_workflow_handle(wid)


async def sweep(env: WorkflowEnvironment, settings: Settings) -> dict[str, int]:
    """One run of the sweep, as its schedule starts it every 5 minutes (in real time: the
    time-skipping server would otherwise jump to the case's own timers while it waits)."""
    with env.auto_time_skipping_disabled():
        result: dict[str, int] = await env.client.execute_workflow(
            NotificationSweepWorkflow.run,
            id=f"sweep-{uuid.uuid4().hex[:6]}",
            task_queue=settings.task_queue,
        )
    return result


async def test_a_change_whose_signalling_died_reaches_the_case_at_the_next_sweep(
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

        dying = Context(rules, client=DiesAt(ts_env.client, workflow_id(case_id)), pool=pool)  # type: ignore[arg-type]
        with pytest.raises(RuntimeError):
            await rulebook.set_rules(dying, THE_OWNER, {"response_target": "48h"})
        assert await store.undelivered(pool, timedelta(0)) is not None  # the mark stays
        assert await event_types(pool, case_id) == ["case_opened"]  # the case missed it

        # Within the minute the storing process may still be signalling: the sweep waits.
        assert (await sweep(ts_env, rules))["rules_reached"] == 0
        assert await event_types(pool, case_id) == ["case_opened"]

        await pool.execute(
            "UPDATE rulebook_delivery SET changed_at = changed_at - interval '2 minutes'"
        )
        swept = await sweep(ts_env, rules)
        assert swept["rules_reached"] >= 1
        assert await store.undelivered(pool, timedelta(0)) is None  # delivered: cleared

        async def moved() -> None:
            assert await event_types(pool, case_id) == ["case_opened", "rules_changed"]
            state = await state_of(ts_env, case_id)
            assert state.targets.target == 48 * HOUR
            assert minute(state.response_due_at) == minute(opened.opened_at + 48 * HOUR)

        await eventually(moved)
        reason = await pool.fetchval(
            "SELECT data->>'reason' FROM complaint_events WHERE case_id = $1 AND seq = 2", case_id
        )
        assert reason == rule_delivery.REDELIVERED

        # Nothing left to deliver: the next sweep signals no one.
        assert (await sweep(ts_env, rules))["rules_reached"] == 0


async def test_the_mark_stays_when_a_newer_change_came_during_the_signalling(
    pool: asyncpg.Pool, clean_rulebook: list[date]
) -> None:
    await store.set_rules(pool, {"response_target": "30h"}, THE_OWNER.name)
    version = await store.delivery_version(pool)
    await store.set_rules(pool, {"response_target": "31h"}, THE_OWNER.name)  # meanwhile
    assert not await store.delivered(pool, version)
    assert await store.undelivered(pool, timedelta(0)) == version + 1
    assert await store.delivered(pool, version + 1)
    assert await store.undelivered(pool, timedelta(0)) is None

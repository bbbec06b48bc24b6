"""The response clock on the time-skipping server: warning, breach, next level, pause on answer."""

from datetime import timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from app.cases import start_case
from domain.commands import Apologize
from domain.model import CaseState, CaseStatus
from infra.settings import Settings
from tests.helpers import event_types, eventually, open_command, skip_time, workflow_id
from worker import build_worker
from workflows import search_attributes
from workflows.complaint import ComplaintWorkflow

pytestmark = pytest.mark.db


async def test_breach_escalates_then_second_window_escalates_to_next_level(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    async with build_worker(ts_env.client, pool, settings):
        opened = await start_case(ts_env.client, settings, open_command(case_id))
        handle = ts_env.client.get_workflow_handle_for(ComplaintWorkflow.run, workflow_id(case_id))

        async def state_after(level: int, warned: bool) -> CaseState:
            state = await handle.query(ComplaintWorkflow.current)
            assert state is not None
            assert (state.escalation_level, state.warned) == (level, warned)
            return state

        await skip_time(ts_env, timedelta(hours=19))  # past the 75 % warning, before the breach
        await eventually(lambda: state_after(level=0, warned=True))
        await skip_time(ts_env, timedelta(hours=6))  # 25 h: the first breach
        first = await eventually(lambda: state_after(level=1, warned=False))
        assert first.status == CaseStatus.ESCALATED
        assert first.response_due_at is not None and opened.response_due_at is not None
        assert first.response_due_at - opened.response_due_at >= timedelta(hours=24)
        await skip_time(ts_env, timedelta(hours=24))  # 49 h: the fresh window breached too
        second = await eventually(lambda: state_after(level=2, warned=False))
        assert second.escalations == 2
        await skip_time(ts_env, timedelta(days=3))  # the owner knows: no escalation is repeated
        assert (await state_after(level=2, warned=False)).escalations == 2

        description = await handle.describe()
        attrs = description.typed_search_attributes
        assert attrs.get(search_attributes.STATUS) == "escalated"
        assert attrs.get(search_attributes.ESCALATION_LEVEL) == 2

        answered = await handle.execute_update(
            ComplaintWorkflow.apologize, Apologize(what="Sorry we kept you waiting")
        )
        assert (answered.status, answered.escalation_level) == (CaseStatus.OPEN, 0)

    assert await event_types(pool, case_id) == [
        "case_opened",
        "response_due_soon",
        "escalated",
        "response_due_soon",
        "escalated",
        "apologized",
    ]

    async def all_sent() -> list[asyncpg.Record]:
        rows = await pool.fetch(
            "SELECT kind, recipient, sent_at FROM notifications WHERE case_id = $1 "
            "ORDER BY created_at",
            case_id,
        )
        assert all(r["sent_at"] is not None for r in rows)
        return rows

    rows = await all_sent()
    assert [(r["kind"], r["recipient"]) for r in rows] == [
        ("response_due_soon", "staff"),
        ("escalated", "manager"),
        ("response_due_soon", "staff"),
        ("escalated", "owner"),
    ]


async def test_a_short_target_from_settings_escalates_an_untouched_case(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, case_id: str, database_url: str
) -> None:
    shop = Settings(
        task_queue=f"complaints-{case_id}", database_url=database_url, response_target="4h"
    )
    command = open_command(case_id).model_copy(
        update={"targets": shop.targets_for(open_command(case_id).motive)}
    )
    async with build_worker(ts_env.client, pool, shop):
        await start_case(ts_env.client, shop, command)
        handle = ts_env.client.get_workflow_handle_for(ComplaintWorkflow.run, workflow_id(case_id))
        await skip_time(ts_env, timedelta(hours=4, minutes=1))

        async def escalated() -> None:
            state = await handle.query(ComplaintWorkflow.current)
            assert state is not None and state.escalation_level == 1

        await eventually(escalated)
        await handle.terminate("test over")

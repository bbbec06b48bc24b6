"""The sweep schedule on a real Temporal server: notices a case gave up on are sent later,
never forgotten; `complaints notifications` shows what is still undelivered."""

import json
import uuid
from datetime import timedelta

import asyncpg
import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from infra.settings import Settings
from tests.e2e.test_cli import Cli
from tests.helpers import eventually
from tests.integration.test_outbox import overdue_case
from tests.webhook import SECRET, webhook
from worker import build_worker
from workflows.notification_sweep import ensure_schedule

pytestmark = pytest.mark.db


async def test_the_schedule_sweeps_notices_left_behind_and_the_cli_lists_them(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    case_id = await overdue_case(pool)  # two notices nobody has sent
    await pool.execute(
        "UPDATE notifications SET attempts = 8, last_error = 'webhook answered 503' "
        "WHERE case_id = $1",
        case_id,
    )  # as a case's own retries leave them
    cli = Cli(dev_env, settings)
    listed = json.loads(await cli("notifications", "--json", "--limit", "1000"))
    mine = [n for n in listed if n["case_id"] == case_id]
    assert [(n["kind"], n["attempts"]) for n in mine] == [
        ("response_due_soon", 8),
        ("escalated", 8),
    ]
    assert "failed: webhook answered 503" in await cli("notifications", "--limit", "1000")

    schedule_id = f"sweep-{uuid.uuid4().hex[:6]}"
    with webhook() as hook:
        shop = settings.model_copy(
            update={"webhook_url": hook.url, "webhook_secret": SecretStr(SECRET)}
        )
        assert await ensure_schedule(dev_env.client, shop.task_queue, schedule_id)
        assert not await ensure_schedule(dev_env.client, shop.task_queue, schedule_id)
        handle = dev_env.client.get_schedule_handle(schedule_id)
        try:
            spec = (await handle.describe()).schedule.spec
            assert spec.intervals[0].every == timedelta(minutes=5)
            async with build_worker(dev_env.client, pool, shop):
                await handle.trigger()  # the five minutes, now

                async def delivered() -> None:
                    kinds = [n["kind"] for n in hook.received if n["case_id"] == case_id]
                    assert kinds == ["response_due_soon", "escalated"]

                await eventually(delivered, timeout=20)
        finally:
            await handle.delete()
    listed = json.loads(await cli("notifications", "--json", "--limit", "1000"))
    assert not [n for n in listed if n["case_id"] == case_id]

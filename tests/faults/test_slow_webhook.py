"""A slow receiver never moves the response clock, and every delivery of one notice
carries one id. Real time on the dev server: a 3-second target stands in for 24 hours."""

import json
from collections import defaultdict
from datetime import datetime, timedelta

import asyncpg
import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from app.cases import start_case
from infra.settings import Settings
from tests.helpers import eventually, open_command, workflow_id
from tests.webhook import SECRET, webhook
from worker import build_worker

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("first_shop")]


async def test_escalations_keep_time_while_the_webhook_answers_too_late(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    with webhook() as hook:
        hook.delay = 1.5  # answers only after the sender stopped waiting: every try "fails"
        shop = settings.model_copy(
            update={
                "webhook_url": hook.url,
                "webhook_secret": SecretStr(SECRET),
                "webhook_timeout": timedelta(seconds=1),
                "response_target": timedelta(seconds=3),  # the worker's rulebook
            }
        )
        command = open_command(case_id)
        async with build_worker(dev_env.client, pool, shop):
            await start_case(dev_env.client, shop, command)

            async def escalated_twice() -> list[asyncpg.Record]:
                rows = await pool.fetch(
                    "SELECT data, recorded_at FROM complaint_events "
                    "WHERE case_id = $1 AND type = 'escalated' ORDER BY seq",
                    case_id,
                )
                assert len(rows) == 2
                return rows

            escalations = await eventually(escalated_twice, timeout=20)
            for row in escalations:
                due = datetime.fromisoformat(json.loads(row["data"])["missed_due_at"])
                late = (row["recorded_at"] - due).total_seconds()
                assert 0 <= late < 2, f"escalation stored {late:.1f} s after it fell due"
            hook.delay = 0

            async def all_sent() -> None:
                unsent = await pool.fetchval(
                    "SELECT count(*) FROM notifications WHERE case_id = $1 AND sent_at IS NULL",
                    case_id,
                )
                assert unsent == 0

            await eventually(all_sent, timeout=40)
            await dev_env.client.get_workflow_handle(workflow_id(case_id)).terminate()
    deliveries = defaultdict(list)
    for d in hook.deliveries:
        deliveries[d.headers["webhook-id"]].append(d.body)
    kinds = [json.loads(bodies[0])["kind"] for bodies in deliveries.values()]
    assert kinds == ["response_due_soon", "escalated", "response_due_soon", "escalated"]
    for notice_id, bodies in deliveries.items():
        assert len(set(bodies)) == 1 and json.loads(bodies[0])["id"] == notice_id
    assert max(len(b) for b in deliveries.values()) > 1  # it was retried, under one id

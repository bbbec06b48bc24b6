"""The keep-in-touch run on the time-skipping server, its activity mocked: the schedule's
workflow runs the activity once per start and returns its counts; its schedule is made once
(a second worker start finds it)."""

import uuid

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from workflows.keep_in_touch import EVERY, KeepInTouchWorkflow

RUNS: list[int] = []


@activity.defn(name="keep_in_touch")
async def fake_keep_in_touch() -> dict[str, int]:
    RUNS.append(1)
    return {"due": 3, "sent": 2, "held": 1, "failed": 0}


@activity.defn(name="end_legal_holds")
async def fake_end_legal_holds() -> int:
    return 4


async def test_the_run_sends_what_is_due(ts_env: WorkflowEnvironment) -> None:
    queue = f"keep-{uuid.uuid4().hex[:8]}"
    async with Worker(
        ts_env.client,
        task_queue=queue,
        workflows=[KeepInTouchWorkflow],
        activities=[fake_keep_in_touch, fake_end_legal_holds],
    ):
        counts = await ts_env.client.execute_workflow(
            KeepInTouchWorkflow.run, id=f"keep-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
    assert counts == {"due": 3, "sent": 2, "held": 1, "failed": 0, "records_destroyed": 4}
    assert RUNS == [1]
    assert EVERY.total_seconds() == 3600  # hourly: a run at night holds, the morning's sends

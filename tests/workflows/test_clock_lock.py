"""The time-skipping server keeps its clock locked for a case terminated while its workflow
task was out; the tests' teardown (`conftest.end_without_a_lock_left`) gives it back, so a
later test's `skip_time` skips instead of running in real time."""

import asyncio
import time
import uuid
from datetime import timedelta

from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import PollWorkflowTaskQueueRequest
from temporalio.testing import WorkflowEnvironment

from tests.workflows.conftest import end_without_a_lock_left


async def test_a_case_ended_with_its_task_out_leaves_the_clock_free(
    ts_env: WorkflowEnvironment,
) -> None:
    queue = f"nobody-{uuid.uuid4().hex[:6]}"
    client = ts_env.client
    handle = await client.start_workflow(
        "Idle", id=f"idle-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    # The task handed out and never finished: a worker stopping mid-poll.
    await client.workflow_service.poll_workflow_task_queue(
        PollWorkflowTaskQueueRequest(namespace="default", task_queue=TaskQueue(name=queue))
    )
    await end_without_a_lock_left(ts_env, handle)
    started = time.monotonic()
    await asyncio.wait_for(ts_env.sleep(timedelta(hours=1)), timeout=20)
    assert time.monotonic() - started < 10, "the hour was skipped, not waited"

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.testservice.v1 import UnlockTimeSkippingRequest
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from infra.settings import Settings
from tests.helpers import workflow_id


@pytest.fixture(autouse=True)
def in_the_first_shop(first_shop: None) -> None:
    """The engine's tests start cases below the application layer: the first shop's."""


@pytest.fixture(autouse=True)
async def end_the_case(ts_env: WorkflowEnvironment, case_id: str) -> AsyncIterator[None]:
    """A case left running would hold the time-skipping server's clock for every later test
    (its timers fall due on a queue nobody polls any more), so each test's case ends here."""
    yield
    handle = ts_env.client.get_workflow_handle(workflow_id(case_id))
    with contextlib.suppress(RPCError):  # already ended, or never started
        await end_without_a_lock_left(ts_env, handle)


_TASK_OUT = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
}


async def end_without_a_lock_left(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]
) -> None:
    """Terminate the case, and give back the clock's lock its workflow task held. The
    time-skipping server locks its clock while a workflow task is out (scheduled or started)
    and does not unlock it when the case is terminated then: a worker that stopped just as
    a task fell due (an activity's result, a timer) left every later `skip_time` running in
    real time (CI: the next test's one-hour skip took an hour). Measured with the server
    alone: a case terminated with its task out keeps the clock from skipping an hour for
    25 s and more; one unlock afterwards and the hour skips at once."""
    last = None
    async for event in handle.fetch_history_events():
        last = event.event_type
    await handle.terminate("test finished")
    if last in _TASK_OUT:
        await env.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The engine's tests run every case in Temporal's workflow sandbox, which refuses a call
    that would not replay (the clock, randomness, files): the guard the deployed worker goes
    without (COMPLAINTS_WORKFLOW_SANDBOX, off by default: about a seventh of its CPU)."""
    return settings.model_copy(update={"workflow_sandbox": True})

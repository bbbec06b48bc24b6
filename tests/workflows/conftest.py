import contextlib
from collections.abc import AsyncIterator

import pytest
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
        await handle.terminate("test finished")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The engine's tests run every case in Temporal's workflow sandbox, which refuses a call
    that would not replay (the clock, randomness, files): the guard the deployed worker goes
    without (COMPLAINTS_WORKFLOW_SANDBOX, off by default: about a seventh of its CPU)."""
    return settings.model_copy(update={"workflow_sandbox": True})

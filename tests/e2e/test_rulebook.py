"""One shop, one rulebook: a case's targets come from the worker's configuration, never
from the environment of whoever opened it."""

import re
from datetime import timedelta

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


async def test_the_clis_environment_changes_nothing_about_a_cases_targets(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    shop = settings.model_copy(update={"response_target": timedelta(hours=6)})
    cli = Cli(dev_env, settings)
    cli.env |= {"COMPLAINTS_RESPONSE_TARGET": "1h", "COMPLAINTS_CUSTOMER_WAIT": "1h"}
    async with build_worker(dev_env.client, pool, shop):
        opened = await cli(*OPEN)
        case_id = re.search(r"opened case ([\w-]+)", opened).group(1)
        handle = dev_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
        state = await handle.query(WF.current)
        assert state is not None
        assert state.targets.target == timedelta(hours=6)  # the worker's, not the CLI's 1 h
        assert state.care.customer_wait == timedelta(hours=72)
        assert state.response_due_at == state.opened_at + timedelta(hours=6)
        await handle.terminate("test over")

"""What a tired person and a stopped worker do to the CLI: a retried `open`, a case id
typed back sloppily, an action on an ended case, `show` with no worker, output into
`head`, a usage mistake. Each once went wrong."""

import asyncio
import re
import subprocess

import asyncpg
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

import app.cases
from app.cases import query_case, start_case
from app.refusals import CaseIdTaken
from cli.main import run as cli_run
from cli.parser import parser
from domain.commands import Withdraw
from infra.case_ids import case_id_for_key, read_case_id
from infra.settings import Settings
from tests.e2e.test_cli import BIN, Cli
from tests.helpers import event_types, open_command, workflow_id
from worker import build_worker
from workflows.complaint import ComplaintWorkflow as WF

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("first_shop")]

OPEN = (
    "open",
    "--name",
    "Choi Yuna",
    "--phone",
    "010-2222-3333",
    "--channel",
    "phone",
    "--motive",
    "compensation",
    "--what",
    "Washing machine still leaks",
)


async def runs_of(env: WorkflowEnvironment, case_id: str) -> int:
    query = f'WorkflowId = "{workflow_id(case_id)}"'
    return len([w async for w in env.client.list_workflows(query)])


async def test_open_retried_with_one_key_while_the_worker_is_down_makes_one_case(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    cli.env["COMPLAINTS_OPEN_WAIT"] = "1s"
    key = f"booking-{settings.task_queue}"
    case_id = case_id_for_key(key)
    for _ in range(2):  # no worker: the case exists in Temporal, not yet stored
        code, _, err = await cli.run(*OPEN, "--key", key)
        assert code == 3, err
        assert err.strip() == (
            f"complaints: error: case {case_id} exists and will be stored as soon as a worker "
            "runs (none answered within 1 s: is `make run` running?); do not open it again: "
            f"`complaints show {case_id}` tells when it is stored"
        )
    async with build_worker(dev_env.client, pool, settings):
        again = f"case {case_id} was opened earlier with this key: now open, at apologize"
        assert again in await cli(*OPEN, "--key", key)
        assert again in await cli(*OPEN, "--key", key)
        other = await cli(*OPEN[:-1], "Another thing entirely", "--key", key, ok=False)
        assert f"this idempotency key already opened case {case_id} with other details" in other
        await cli("withdraw", case_id, "test over")
        # The key still names that case once it has ended: never a second one.
        assert f"case {case_id} was opened earlier" in await cli(*OPEN, "--key", key)
    assert await runs_of(dev_env, case_id) == 1
    assert await event_types(pool, case_id) == ["case_opened", "case_withdrawn"]


async def test_a_case_id_in_use_is_never_started_again(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    """A clash of ids once crashed the CLI (running case) or started a second run that
    broke the first case's history (ended case)."""
    async with build_worker(dev_env.client, pool, settings):
        await start_case(dev_env.client, settings, open_command(case_id))
        with pytest.raises(CaseIdTaken):
            await start_case(dev_env.client, settings, open_command(case_id))
        handle = dev_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
        await handle.execute_update(WF.withdraw, Withdraw(reason="test over"))
        await handle.result()
        with pytest.raises(CaseIdTaken):
            await start_case(dev_env.client, settings, open_command(case_id))
        state = await query_case(dev_env.client, case_id)
        assert state.status == "withdrawn"
    assert await runs_of(dev_env, case_id) == 1
    assert await event_types(pool, case_id) == ["case_opened", "case_withdrawn"]


async def test_the_cli_draws_another_id_when_a_fresh_one_clashes(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    case_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rare clash of two fresh random ids: the CLI draws again instead of failing."""
    ids = iter([case_id, "zzzz-zzzz-" + case_id[:4]])
    monkeypatch.setattr(app.cases, "new_case_id", lambda: next(ids))
    address = dev_env.client.service_client.config.target_host
    cli_settings = settings.model_copy(update={"temporal_address": address})
    async with build_worker(dev_env.client, pool, settings):
        await start_case(dev_env.client, settings, open_command(case_id))
        out = await cli_run(parser().parse_args(list(OPEN)), cli_settings)
    assert out.startswith(f"opened case zzzz-zzzz-{case_id[:4]}:")


async def test_an_action_on_an_ended_case_says_it_ended_and_when(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    async with build_worker(dev_env.client, pool, settings):
        opened = await cli(*OPEN)
        case_id = re.search(r"opened case ([\w-]+)", opened).group(1)
        await cli("withdraw", case_id, "Settled at the counter")
        handle = dev_env.client.get_workflow_handle(workflow_id(case_id))
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
        refused = await cli("apologize", case_id, "Sorry", ok=False)
        assert re.fullmatch(
            rf"complaints: error: case {case_id} is withdrawn on \d{{4}}-\d\d-\d\d \d\d:\d\d KST: "
            rf"nothing more can be recorded \(see it with `complaints show {case_id}`\)",
            refused,
        ), refused
        # Typed back as read out on the phone: upper case, no dashes, an O for a 0.
        typed = case_id.replace("-", "").upper().replace("0", "O")
        assert read_case_id(typed) == case_id
        assert f"case      {case_id}" in await cli("show", typed)


async def test_show_with_no_worker_answers_from_the_read_model(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    async with build_worker(dev_env.client, pool, settings):
        opened = await cli(*OPEN)
    case_id = re.search(r"opened case ([\w-]+)", opened).group(1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    shown = await cli("show", case_id)  # the worker is gone: the query cannot be answered
    assert f"case      {case_id}   (open, at apologize" in shown
    assert loop.time() - started < 15, "show waited for the query's full timeout"
    await dev_env.client.get_workflow_handle(workflow_id(case_id)).terminate("over")


async def test_output_into_a_closed_pipe_and_usage_mistakes_are_quiet(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    code, _, err = await cli.run("list", "--limt", "3")
    assert code == 2
    assert err.strip().splitlines() == [
        "complaints: error: unrecognized arguments: --limt 3 (see `complaints --help`)"
    ]
    code, _, err = await cli.run("rate", "abc")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "the following arguments are required: score" in err
    process = subprocess.Popen(
        [str(BIN / "complaints"), "list", "--limit", "100"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()  # `| head` that has already read what it wanted
    _, err_bytes = process.communicate(timeout=60)
    assert "Traceback" not in err_bytes.decode() and process.returncode == 0, err_bytes

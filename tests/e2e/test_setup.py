"""On any Temporal cluster but `make run`'s, the custom search attributes are not there:
`complaints setup` registers them on the configured namespace, and the worker refuses to
start without them, in one line that names the fix.

A real dev server started WITHOUT them, with two more namespaces: `shop` (proves that
TEMPORAL_NAMESPACE is honoured, `default` stays bare) and `clash` (ComplaintStatus is an Int).
"""

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment

from app.cases import start_case
from infra import temporal_server
from infra.settings import Settings
from tests.conftest import ROOT, TEST_CONVERTER
from tests.helpers import event_types, open_command, workflow_id
from workflows import search_attributes

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("first_shop")]
BIN = os.path.dirname(sys.executable)
NAMES = [key.name for key in search_attributes.ALL]


@pytest.fixture(scope="module")
async def bare_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_server.binary("temporal"),
        search_attributes=[],
        data_converter=TEST_CONVERTER,
        ui=False,
        dev_server_extra_args=[
            "--log-level",
            "error",
            "--namespace",
            "shop",
            "--namespace",
            "clash",
        ],
    )
    yield env
    await env.shutdown()


def environment(env: WorkflowEnvironment, settings: Settings, namespace: str) -> dict[str, str]:
    return os.environ | {
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": namespace,
        "COMPLAINTS_TASK_QUEUE": settings.task_queue,
        "DATABASE_URL": settings.database_url or "",
        "COMPLAINTS_LOG_FORMAT": "json",
    }


async def run(args: list[str], env: dict[str, str], timeout: float) -> tuple[int, str, str]:
    """Exit code, standard output and standard error; fails if it runs past `timeout`."""
    process = await asyncio.create_subprocess_exec(
        *args, env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"{args[-1]} still running after {timeout} s")
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"a refusal is one clear line, got: {lines}"
    return lines[0]


async def test_setup_registers_what_the_worker_requires(
    bare_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    env = environment(bare_env, settings, "shop")
    worker = [sys.executable, str(ROOT / "worker.py")]
    setup = [os.path.join(BIN, "complaints"), "setup"]

    # It stops instead of waiting for the attributes (a worker that waited would still be
    # running at the timeout, which fails the test).
    code, _, err = await run(worker, env, timeout=60)
    assert code != 0
    line = one_line(err)
    assert all(name in line for name in NAMES), line
    assert "complaints setup" in line and "shop" in line, line

    code, out, err = await run(setup, env, timeout=20)
    assert code == 0, err
    assert "added" in out and all(name in out for name in NAMES), out
    code, out, err = await run(setup, env, timeout=20)
    assert code == 0, err
    assert "all present" in out and "added" not in out, out
    # Only the configured namespace got them.
    assert (
        await temporal_server.missing_search_attributes(
            bare_env.client, search_attributes.ALL, "default"
        )
        == NAMES
    )

    process = subprocess.Popen(
        worker, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        client = await Client.connect(
            env["TEMPORAL_ADDRESS"], namespace="shop", data_converter=TEST_CONVERTER
        )
        case_id = uuid.uuid4().hex[:8]
        state = await start_case(client, settings, open_command(case_id), wait=30)
        assert state.version == 1
        assert await event_types(pool, case_id) == ["case_opened"]
        handle = client.get_workflow_handle(workflow_id(case_id))
        description = await handle.describe()
        assert description.typed_search_attributes.get(search_attributes.STATUS) == "open"
        await handle.terminate("test over")
    finally:
        process.kill()
        process.wait()


async def test_a_search_attribute_of_another_type_is_one_clear_line(
    bare_env: WorkflowEnvironment, settings: Settings
) -> None:
    clash = await Client.connect(
        bare_env.client.service_client.config.target_host, namespace="clash"
    )
    await temporal_server.register_search_attributes(
        clash, (SearchAttributeKey.for_int("ComplaintStatus"),), namespace="clash"
    )
    env = environment(bare_env, settings, "clash")

    code, _, err = await run([os.path.join(BIN, "complaints"), "setup"], env, timeout=20)
    assert code == 1
    line = one_line(err)
    assert "ComplaintStatus" in line and "Int" in line and "Keyword" in line, line

    code, _, err = await run([sys.executable, str(ROOT / "worker.py")], env, timeout=20)
    assert code != 0
    line = one_line(err)
    assert "ComplaintStatus" in line and "Int" in line, line

"""Stopping `python worker.py`: SIGTERM (what a container runtime or systemd sends) and SIGINT
(Ctrl-C) drain it, an action in flight finishes, and it exits 0; also as PID 1 of its own
PID namespace, where a signal without a handler is ignored."""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from temporalio.testing import WorkflowEnvironment

from app.cases import start_case
from domain.commands import Apologize
from infra.settings import Settings
from tests.conftest import ROOT
from tests.helpers import an_append_waits, case_row_locked, event_types, open_command, workflow_id
from worker import build_worker
from workflows.complaint import ComplaintWorkflow as WF

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("first_shop")]
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]


class Started:
    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process, self.log = process, log

    async def exit_code(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            assert time.monotonic() < deadline, f"still running after {timeout} s"
            await asyncio.sleep(0.05)
        return self.process.returncode


@pytest.fixture
def worker_process(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> Iterator[object]:
    """Starts `python worker.py` (behind `prefix`) against the session's servers; its log
    goes to a file. Kills leftovers."""
    started: list[subprocess.Popen] = []

    def start(prefix: tuple[str, ...] = ()) -> Started:
        env = os.environ | {
            "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
            "COMPLAINTS_TASK_QUEUE": settings.task_queue,
            "DATABASE_URL": settings.database_url or "",
            "COMPLAINTS_LOG_FORMAT": "json",
        }
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*prefix, sys.executable, str(ROOT / "worker.py")],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return Started(process, log)

    yield start
    for process in started:
        if process.poll() is None:
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
            process.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_stops_the_worker_cleanly(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    case_id: str,
    worker_process,
    sig: signal.Signals,
) -> None:
    worker = worker_process()
    await start_case(dev_env.client, settings, open_command(case_id), wait=30)

    worker.process.send_signal(sig)
    # Within docker stop's 10 s grace (a worker that hung would be killed and fail here).
    assert await worker.exit_code(timeout=10) == 0, worker.log.read_text()
    assert "worker stopped" in worker.log.read_text()

    # The case is untouched and carries on with the next worker.
    assert await event_types(pool, case_id) == ["case_opened"]
    handle = dev_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
    async with build_worker(dev_env.client, pool, settings):
        state = await handle.execute_update(WF.apologize, Apologize(what="Sorry"))
    assert state.version == 2
    assert await event_types(pool, case_id) == ["case_opened", "apologized"]
    await handle.terminate("test over")


async def test_sigterm_lets_an_action_in_flight_finish(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    case_id: str,
    worker_process,
) -> None:
    worker = worker_process()
    await start_case(dev_env.client, settings, open_command(case_id), wait=30)
    handle = dev_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
    async with case_row_locked(pool, case_id):
        action = asyncio.create_task(
            handle.execute_update(WF.apologize, Apologize(what="Sorry for the wrong order"))
        )
        await an_append_waits(pool)
        worker.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(1)
        assert worker.process.poll() is None, "the worker must drain, not drop the append"
    assert await worker.exit_code(timeout=10) == 0, worker.log.read_text()
    # The draining worker stored the action; no other worker ran meanwhile.
    assert await event_types(pool, case_id) == ["case_opened", "apologized"]
    async with build_worker(dev_env.client, pool, settings):
        state = await asyncio.wait_for(action, timeout=60)
    assert state.recorded == ("apologized",) and state.version == 2
    assert await event_types(pool, case_id) == ["case_opened", "apologized"]
    await handle.terminate("test over")


def _unshare_unavailable() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = subprocess.run([*UNSHARE, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"unshare cannot make a PID namespace here: {probe.stderr.strip()}"
    return None


async def test_sigterm_stops_the_worker_as_pid_1(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    case_id: str,
    worker_process,
) -> None:
    reason = _unshare_unavailable()
    if reason:
        pytest.skip(reason)
    worker = worker_process(prefix=tuple(UNSHARE))
    await start_case(dev_env.client, settings, open_command(case_id), wait=30)
    # unshare blocks SIGTERM itself and waits for its child: the child is the worker,
    # PID 1 inside the new namespace (the last NSpid field), like a container's main process.
    (child,) = psutil.Process(worker.process.pid).children()
    status = Path(f"/proc/{child.pid}/status").read_text()
    nspid = next(line for line in status.splitlines() if line.startswith("NSpid:"))
    assert nspid.split()[-1] == "1", nspid

    os.kill(child.pid, signal.SIGTERM)  # what `docker stop` does
    # Within docker stop's 10 s grace (a worker that hung would be killed and fail here).
    assert await worker.exit_code(timeout=10) == 0, worker.log.read_text()
    assert "worker stopped" in worker.log.read_text()
    assert await event_types(pool, case_id) == ["case_opened"]
    await dev_env.client.get_workflow_handle(workflow_id(case_id)).terminate("test over")

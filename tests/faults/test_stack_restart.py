"""`make run` after a crash: the stack killed with SIGKILL (OOM, kill -9) starts again.

Runs `python -m stack` as a subprocess on its own data folder and ports, with the
embedded PostgreSQL (DATABASE_URL unset), as a fresh machine runs it. Nothing sleeps: each
step polls with a deadline.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, DescribeTaskQueueRequest
from temporalio.client import Client

from infra import temporal_server
from tests.conftest import ROOT, TEST_DATA, free_port
from tests.helpers import eventually
from workflows import search_attributes

DATA = (TEST_DATA / "stack-restart").resolve()
DB_FILE = DATA / "temporal.db"
PGDATA = DATA / "postgres"
PID_FILE = DATA / "temporal.pid"


def _cmdline(process: psutil.Process) -> list[str]:
    with contextlib.suppress(psutil.Error):
        if process.status() != psutil.STATUS_ZOMBIE:
            return process.cmdline()
    return []


def temporal_servers() -> list[psutil.Process]:
    """Live Temporal dev servers on this test's data file."""
    return [p for p in psutil.process_iter() if str(DB_FILE) in _cmdline(p)]


def postmasters() -> list[psutil.Process]:
    """Live PostgreSQL servers on this test's data folder (the postmaster, not its workers)."""
    return [p for p in psutil.process_iter() if str(PGDATA) in _cmdline(p)]


def _stop(processes: list[psutil.Process], sig: signal.Signals) -> None:
    for p in processes:
        with contextlib.suppress(psutil.Error):
            p.send_signal(sig)
    _, alive = psutil.wait_procs(processes, timeout=10)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=5)


def dead_pid() -> int:
    """A pid that belonged to a process that has exited (a crashed `make run`)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


class Stack:
    """`make run` processes on DATA and on ports of their own."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.port, self.ui_port = free_port(), free_port()
        self.api_port = free_port()
        self.standin_port = free_port()  # `make run`'s stand-in message provider
        self.address = f"127.0.0.1:{self.port}"
        self.runs: list[tuple[subprocess.Popen, Path]] = []

    def start(self) -> subprocess.Popen:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "COMPLAINTS_DATABASE_URL")  # the embedded PostgreSQL
        }
        env |= {
            "COMPLAINTS_DATA_DIR": str(DATA),
            "TEMPORAL_ADDRESS": self.address,
            "COMPLAINTS_UI_URL": f"http://localhost:{self.ui_port}",
            "COMPLAINTS_API_PORT": str(self.api_port),  # not 8000: a `make run` nearby
            "COMPLAINTS_STANDIN_PORT": str(self.standin_port),  # not 8025, likewise
            "COMPLAINTS_LOG_FORMAT": "json",
            "COMPLAINTS_TASK_QUEUE": "complaints",
        }
        out = self.out_dir / f"run-{len(self.runs) + 1}.out"
        with out.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "stack"],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group, so clean-up can kill all of it
            )
        self.runs.append((process, out))
        return process

    def output(self, process: subprocess.Popen) -> str:
        return next(out for p, out in self.runs if p is process).read_text(errors="replace")

    async def up(self, process: subprocess.Popen, timeout: float = 60) -> Client:
        """Wait until the Temporal server answers and this run's in-process worker polls."""

        async def serving() -> Client:
            if process.poll() is not None:
                pytest.fail(f"make run exited with {process.returncode}:\n{self.output(process)}")
            try:
                client = await Client.connect(self.address)
                await client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace="default")
                )
                queue = await client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace="default",
                        task_queue=TaskQueue(name="complaints"),
                        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                    )
                )
            except Exception as err:  # not serving yet
                raise AssertionError(f"not serving yet: {err}") from err
            # This run's worker (a dead worker stays listed for a while).
            identities = [poller.identity for poller in queue.pollers]
            assert any(i.startswith(f"{process.pid}@") for i in identities), identities
            return client

        return await eventually(serving, timeout=timeout)

    def stop_all(self) -> None:
        """Every process of this test, whatever state a failure left them in."""
        for process, _ in self.runs:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # Ctrl-C: it stops its servers itself
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
        leftovers()


def leftovers() -> None:
    _stop(temporal_servers(), signal.SIGTERM)
    _stop(postmasters(), signal.SIGINT)  # PostgreSQL's fast shutdown
    PID_FILE.unlink(missing_ok=True)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    DATA.mkdir(parents=True, exist_ok=True)
    leftovers()  # of an earlier run of this test that was itself killed
    s = Stack(tmp_path)
    try:
        yield s
    finally:
        s.stop_all()


@pytest.mark.db
async def test_make_run_starts_again_after_kill_9_and_stops_everything_at_ctrl_c(
    stack: Stack,
) -> None:
    first = stack.start()
    await stack.up(first)
    [first_server] = temporal_servers()
    assert postmasters(), "no embedded PostgreSQL on the test's data folder"

    first.send_signal(signal.SIGKILL)  # no handler, no finally, no atexit
    first.wait(timeout=10)

    second = stack.start()
    client = await stack.up(second)
    await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace="default"))
    running = [p.pid for p in temporal_servers()]
    assert first_server.pid not in running, "the first run's Temporal server is still running"
    [server] = temporal_servers()
    assert server.ppid() == second.pid

    # A second `make run` while this one lives: refused, and the live server is left alone.
    third = stack.start()
    assert third.wait(timeout=30) != 0
    assert f"port {stack.port} is taken" in stack.output(third)
    assert temporal_servers() == [server]

    second.send_signal(signal.SIGINT)  # Ctrl-C
    assert second.wait(timeout=30) == 0, stack.output(second)
    assert temporal_servers() == []
    assert postmasters() == [], "the embedded PostgreSQL outlived the run after a crash"


@pytest.mark.db
async def test_make_run_stops_a_server_a_crashed_run_left_behind(stack: Stack) -> None:
    # A server whose `make run` died without taking it along (no PR_SET_PDEATHSIG: macOS,
    # or it ignored the signal): the pid file names it and a starter that is gone.
    orphan = subprocess.Popen(
        [
            temporal_server.binary("temporal"),
            *temporal_server.dev_server_args(
                DB_FILE, search_attributes.ALL, port=stack.port, ui_port=stack.ui_port
            ),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        temporal_server.wait_for_port(stack.port, process=orphan)
        temporal_server.write_pid_file(PID_FILE, server=orphan.pid, owner=dead_pid())

        run = stack.start()
        await stack.up(run)
        assert orphan.wait(timeout=10) is not None
        [server] = temporal_servers()
        assert server.ppid() == run.pid
        assert json.loads(PID_FILE.read_text())["server"] == server.pid
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()


@pytest.mark.db
async def test_make_run_in_json_mode_logs_only_json_and_serves_metrics(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics = free_port()
    monkeypatch.setenv("COMPLAINTS_METRICS_PORT", str(metrics))
    run = stack.start()
    await stack.up(run)
    url = f"http://127.0.0.1:{metrics}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    assert "\ntemporal_request_total{" in text, text
    # The UI is pointed at the API's codec endpoint, which answers no one without a token.
    ui = f"http://127.0.0.1:{stack.ui_port}/api/v1/settings"
    with urllib.request.urlopen(ui, timeout=5) as response:
        codec = json.loads(response.read())["Codec"]
    assert codec["Endpoint"] == f"http://localhost:{stack.api_port}/codec", codec
    decode = urllib.request.Request(
        f"http://127.0.0.1:{stack.api_port}/codec/decode", data=b'{"payloads": []}'
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(decode, timeout=5)
    assert refused.value.code == 401
    run.send_signal(signal.SIGINT)
    assert run.wait(timeout=30) == 0, stack.output(run)
    output = stack.output(run)
    lines = [json.loads(line) for line in output.splitlines()]  # raises on a plain line
    running = next(line for line in lines if line["event"] == "service running")
    # What to do first, in the log too: add yourself as staff, then open these URLs.
    assert running["add_yourself_first"] == (
        '.venv/bin/complaints staff add "Your Name" --role owner'
    )
    assert running["then_sign_in"] == '.venv/bin/complaints staff link "Your Name"'
    assert running["api"] == f"http://localhost:{stack.api_port}"
    assert running["docs"] == f"http://localhost:{stack.api_port}/docs"
    assert running["ui"] == f"http://localhost:{stack.ui_port}"
    assert "\x1b[" not in output


@pytest.mark.parametrize("which", ["temporal", "ui", "metrics"])
def test_make_run_refuses_a_port_held_by_something_else(
    stack: Stack, which: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pid file naming a live process that is not our server: it is left alone.
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        temporal_server.write_pid_file(PID_FILE, server=bystander.pid, owner=dead_pid())
        port = {"temporal": stack.port, "ui": stack.ui_port, "metrics": free_port()}[which]
        monkeypatch.setenv("COMPLAINTS_METRICS_PORT", str(port if which == "metrics" else 0))
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", port))
            holder.listen()
            run = stack.start()
            code = run.wait(timeout=30)
        output = stack.output(run)
        assert code != 0, output
        assert f"port {port} is taken" in output
        assert bystander.poll() is None, "make run stopped a process that is not its server"
    finally:
        bystander.kill()
        bystander.wait()

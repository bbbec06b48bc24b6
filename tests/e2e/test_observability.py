"""What an operator sees of a running `python worker.py`: Prometheus metrics on
COMPLAINTS_METRICS_PORT (the SDK's `temporal_` ones and the service's `complaints_` counters),
and in JSON mode a log of which every line is JSON, the SDK's and Temporal core's lines too,
with the case named on each line about it. The CLI binds no metrics port.

Real time on the dev server: a 2-second response target stands in for 24 hours."""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from app.cases import start_case
from app.context import connect
from domain.commands import Apologize, Empathize, ShowPrevention
from infra.settings import Settings
from tests.conftest import ROOT, free_port
from tests.helpers import eventually, open_command, workflow_id
from tests.webhook import SECRET, webhook
from workflows.complaint import ComplaintWorkflow as WF

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("first_shop")]

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """The samples of a Prometheus text exposition: (name, labels, value)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        name, labels, value = match.groups()
        out.append((name, dict(_LABEL.findall(labels or "")), float(value)))
    return out


def total(text: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(
        value
        for n, have, value in samples(text)
        if n == name and all(have.get(k) == v for k, v in labels.items())
    )


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
        return response.read().decode()


@pytest.fixture
def metrics_worker(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> Iterator[object]:
    """Starts `python worker.py` in JSON log mode with metrics on a free port; stdout and
    stderr go to one file. Kills leftovers."""
    started: list[subprocess.Popen] = []

    def start(**extra: str) -> tuple[subprocess.Popen, Path, int]:
        port = free_port()
        env = os.environ | {
            "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
            "COMPLAINTS_TASK_QUEUE": settings.task_queue,
            "DATABASE_URL": settings.database_url or "",
            "COMPLAINTS_LOG_FORMAT": "json",
            "COMPLAINTS_METRICS_PORT": str(port),
            "COMPLAINTS_LANGUAGE": "en",
            **extra,
        }
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, str(ROOT / "worker.py")],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process, log, port

    yield start
    for process in started:
        if process.poll() is None:
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
            process.wait()


async def test_metrics_and_json_logs_of_a_worker_process(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    case_id: str,
    metrics_worker,
) -> None:
    with webhook() as hook:
        hook.status = 500  # the first notices fail, then the receiver recovers
        process, log, port = metrics_worker(
            COMPLAINTS_WEBHOOK_URL=hook.url,
            COMPLAINTS_WEBHOOK_SECRET=SECRET,
            COMPLAINTS_WEBHOOK_TIMEOUT="2s",
            COMPLAINTS_RESPONSE_TARGET="2s",  # the worker's rulebook sets the case's target
        )
        command = open_command(case_id)
        await start_case(dev_env.client, settings, command, wait=30)
        handle = dev_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
        await handle.execute_update(WF.apologize, Apologize(what="Sorry the cake was crushed"))
        await handle.execute_update(WF.empathize, Empathize(customer_words="It was his birthday"))
        with pytest.raises(WorkflowUpdateFailedError):  # refused by the validator
            await handle.execute_update(WF.show_prevention, ShowPrevention(measure="Mats"))

        async def escalated_to_the_owner() -> list[str]:
            rows = await pool.fetch(
                "SELECT data->>'level' AS level, data->>'step' AS step FROM complaint_events "
                "WHERE case_id = $1 AND type = 'escalated' ORDER BY seq",
                case_id,
            )
            assert ("2", "analyze_cause") in [(r["level"], r["step"]) for r in rows]
            return [r["level"] for r in rows]

        levels = await eventually(escalated_to_the_owner, timeout=30)

        async def a_notice_failed() -> None:
            assert await pool.fetchval(
                "SELECT count(*) FROM notifications WHERE case_id = $1 AND last_error IS NOT NULL",
                case_id,
            )

        await eventually(a_notice_failed, timeout=30)
        hook.status = 200

        async def all_sent() -> asyncpg.Record:
            row = await pool.fetchrow(
                "SELECT count(*) AS notices, count(sent_at) AS sent, "
                "sum(attempts) AS attempts FROM notifications WHERE case_id = $1",
                case_id,
            )
            assert row["notices"] >= 3 and row["sent"] == row["notices"]
            return row

        notices = await eventually(all_sent, timeout=60)

        # The metrics endpoint: the SDK's own and the service's counters, right values.
        text = scrape(port)
        names = {name for name, _, _ in samples(text)}
        assert any(n.startswith("temporal_") for n in names), sorted(names)
        assert "temporal_workflow_task_execution_latency_count" in names or any(
            n.startswith("temporal_request") for n in names
        )
        queue = {"task_queue": settings.task_queue}
        for action in ("open", "apologize", "empathize"):
            assert total(text, "complaints_actions_total", action=action, **queue) == 1, action
        assert total(text, "complaints_actions_total", action="show_prevention", **queue) == 0
        assert (
            total(
                text,
                "complaints_refusals_total",
                action="show_prevention",
                refusal="StepOutOfOrder",
                **queue,
            )
            == 1
        )
        for level in ("1", "2"):
            assert total(
                text, "complaints_escalations_total", level=level, reason="overdue", **queue
            ) == levels.count(level)
        sends = {"activity_type": "send_notifications", **queue}
        assert total(text, "complaints_notices_sent_total", **sends) == notices["sent"]
        assert total(text, "complaints_notices_failed_total", **sends) == (
            notices["attempts"] - notices["sent"]
        )
        assert total(text, "complaints_notices_failed_total", kind="response_due_soon") >= 1
        # Low cardinality: no label carries the case.
        assert case_id not in text

        await handle.terminate("test over")
        process.send_signal(signal.SIGTERM)
        for _ in range(200):
            if process.poll() is not None:
                break
            await asyncio.sleep(0.05)
        assert process.returncode == 0, log.read_text()

    # Every line the process wrote is JSON; lines about the case name it.
    text = log.read_text()
    assert "\x1b[" not in text, "no colour codes in JSON mode"
    lines = [json.loads(line) for line in text.splitlines()]  # raises on a plain line
    assert all(isinstance(line, dict) and "event" in line and "level" in line for line in lines)
    about_case = [line for line in lines if case_id in json.dumps(line, ensure_ascii=False)]
    assert about_case
    for line in about_case:
        assert line.get("case_id") == case_id, line
    # The SDK's own lines (an activity that failed its notice) carry the workflow too.
    sdk = [line for line in about_case if str(line.get("logger", "")).startswith("temporalio")]
    assert sdk, [line.get("logger") for line in lines]
    for line in sdk:
        assert line["workflow_id"] == workflow_id(case_id)
        assert line.get("run_id")
    assert any(line.get("exception") for line in sdk), "the failure's traceback, in the line"


async def test_the_cli_binds_no_metrics_port(
    dev_env: WorkflowEnvironment, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("COMPLAINTS_METRICS_PORT", str(port))
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    cli = Settings(task_queue=settings.task_queue, database_url=settings.database_url)
    assert cli.metrics_port == port
    client = await connect(cli)
    await client.count_workflows("WorkflowType = 'ComplaintWorkflow'")  # it is connected
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # free: the CLI's client serves no metrics

"""Logs in JSON mode: every line JSON, whoever wrote it (our structlog calls, the SDK's Python
loggers, Temporal core's Rust logs forwarded into Python), with the case named where known."""

import io
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import structlog
from temporalio import activity, workflow

from infra import logs, telemetry


@pytest.fixture
def json_logs() -> Iterator[Any]:
    """`logs.configure("json")` for one test; what it wrote, line by line as JSON. Restores
    the logging set-up it found."""
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    config = structlog.get_config()
    out = io.StringIO()
    logs.configure("json", stream=out)

    def lines() -> list[dict[str, Any]]:
        text = out.getvalue()
        assert "\x1b[" not in text
        return [json.loads(line) for line in text.splitlines()]

    yield lines
    root.handlers[:], root.level, sys.excepthook = handlers, level, hook
    structlog.configure(**config)


def test_our_own_lines_are_json_with_the_case(json_logs) -> None:
    log = structlog.get_logger("activities.store")
    log.info("events appended", case_id="4f7k-q2mx-9bd3", written=1)
    structlog.get_logger("x").info("sent", workflow_id="complaint-4f7k-q2mx-9bd3")
    first, second = json_logs()
    assert first["event"] == "events appended" and first["level"] == "info"
    assert first["case_id"] == "4f7k-q2mx-9bd3" and "timestamp" in first
    assert second["case_id"] == "4f7k-q2mx-9bd3"


def test_the_sdks_python_loggers_render_as_json_with_workflow_and_case(json_logs) -> None:
    details = {
        "attempt": 1,
        "namespace": "default",
        "run_id": "0195-run",
        "task_queue": "complaints",
        "workflow_id": "complaint-4f7k-q2mx-9bd3",
        "workflow_type": "ComplaintWorkflow",
        "update_name": "apologize",
    }
    logging.getLogger("temporalio.workflow").warning(
        "notifications not sent yet", extra={"temporal_workflow": details}
    )
    [line] = json_logs()
    assert line["event"] == "notifications not sent yet"
    assert line["level"] == "warning" and line["logger"] == "temporalio.workflow"
    assert line["workflow_id"] == "complaint-4f7k-q2mx-9bd3" and line["run_id"] == "0195-run"
    assert line["case_id"] == "4f7k-q2mx-9bd3"
    assert line["update_name"] == "apologize"
    assert "temporal_workflow" not in line


def test_an_activity_failure_is_one_json_line_with_its_traceback(json_logs) -> None:
    details = {
        "activity_id": "3",
        "activity_type": "send_notifications",
        "attempt": 2,
        "namespace": "default",
        "task_queue": "complaints",
        "workflow_id": "complaint-4f7k-q2mx-9bd3",
        "workflow_run_id": "0195-run",
        "workflow_type": "ComplaintWorkflow",
    }
    try:
        raise RuntimeError("webhook answered 500")
    except RuntimeError:
        logging.getLogger("temporalio.activity").warning(
            "Completing activity as failed",
            exc_info=True,
            extra={"temporal_activity": details},
        )
    [line] = json_logs()
    assert line["case_id"] == "4f7k-q2mx-9bd3" and line["run_id"] == "0195-run"
    assert line["activity_type"] == "send_notifications"
    assert "RuntimeError: webhook answered 500" in line["exception"]


def test_the_sdk_loggers_leave_the_context_out_of_the_message(json_logs) -> None:
    assert workflow.logger.workflow_info_on_message is False
    assert activity.logger.activity_info_on_message is False


@dataclass
class CoreEntry:
    """What Temporal core hands Python per log line (temporalio.bridge BufferedLogEntry)."""

    message: str
    target: str = "temporalio_sdk_core::worker"
    level: int = logging.WARNING
    time: float = 1_790_000_000.0
    fields: dict[str, Any] = field(default_factory=dict)


def test_core_logs_are_forwarded_into_json_lines(json_logs) -> None:
    forwarding = telemetry.core_logging().forwarding
    assert forwarding is not None
    forwarding._on_logs(
        [
            CoreEntry(
                "Network error while polling",
                fields={"workflow_id": "complaint-4f7k-q2mx-9bd3", "run_id": "r1", "n": 3},
            )
        ]
    )
    [line] = json_logs()
    assert line["event"] == "Network error while polling"
    assert line["logger"] == "temporalio.core" and line["level"] == "warning"
    assert line["target"] == "temporalio_sdk_core::worker"
    assert line["case_id"] == "4f7k-q2mx-9bd3" and line["run_id"] == "r1"
    assert line["fields"] == {"n": 3}


def test_a_crash_is_a_json_line_too(json_logs) -> None:
    try:
        raise KeyError("boom")
    except KeyError as err:
        sys.excepthook(type(err), err, err.__traceback__)
    [line] = json_logs()
    assert line["level"] == "critical" and "KeyError: 'boom'" in line["exception"]


async def test_a_client_that_went_away_is_no_error(json_logs) -> None:
    """htmx cancels a phone lookup as the next digit is typed: the request's body is never
    read to the end. Nothing failed on our side, so no ERROR and no traceback."""
    import httpx
    from fastapi import FastAPI
    from starlette.requests import ClientDisconnect

    from api import problems

    app = FastAPI()
    problems.install(app)

    @app.post("/staff/customers/lookup")
    async def lookup() -> None:
        raise ClientDisconnect()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        answer = await client.post("/staff/customers/lookup", data={"phone": "0101"})
    assert answer.status_code == 499
    assert [line for line in json_logs() if line.get("level") in ("error", "warning")] == []

"""The alerting rules against a live worker, as an operator would see them: a real
Prometheus (Debian's `prometheus` package) scrapes a worker process and evaluates
deploy/prometheus/alerts.yml; the gauges are there from the start, and once the worker stops
the "no worker polling" expression is true and its alert pending."""

import json
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, free_port
from tests.e2e.test_observability import metrics_worker

__all__ = ["metrics_worker"]  # the fixture

PROMETHEUS = shutil.which("prometheus")
pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(
        PROMETHEUS is None,
        reason="Prometheus is not installed (Debian: apt-get install prometheus; .ci/run does)",
    ),
]


def api(port: int, path: str, **params: str) -> Any:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/{path}{query}", timeout=5) as r:
        return json.loads(r.read())["data"]


def value(port: int, promql: str) -> float | None:
    result = api(port, "query", query=promql)["result"]
    return float(result[0]["value"][1]) if result else None


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = check()
            if got:
                return got
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {check.__doc__ or check}")
        time.sleep(0.25)


def test_no_worker_polling_is_true_against_live_metrics_once_the_worker_stops(
    metrics_worker: Any, tmp_path: Path
) -> None:
    worker, _log, metrics_port = metrics_worker(COMPLAINTS_GAUGES_EVERY="1s")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{ROOT / 'deploy/prometheus/alerts.yml'}]\n"
        "scrape_configs:\n"
        "  - job_name: complaints-worker\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{metrics_port}']}}]\n"
    )
    assert PROMETHEUS
    server = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "prometheus.log").open("wb"),
    )  # fmt: skip
    try:

        def polling() -> bool:
            """the worker scraped, ready, its gauges present"""
            return value(port, "max(complaints_worker_ready)") == 1 and (
                value(port, "max(complaints_database_up)") == 1
            )

        wait_for(polling, timeout=60)
        assert value(port, "max(complaints_cases_overdue)") is not None  # zeros, from the start
        assert value(port, "max(complaints_notices_unsent)") is not None
        assert value(port, "absent(complaints_worker_ready == 1)") is None

        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

        def no_worker() -> bool:
            """absent(complaints_worker_ready == 1) is true"""
            return value(port, "absent(complaints_worker_ready == 1)") == 1

        wait_for(no_worker)

        def pending() -> list[dict[str, Any]]:
            """the alert pending (its `for` is 2 minutes)"""
            alerts = api(port, "alerts")["alerts"]
            return [a for a in alerts if a["labels"]["alertname"] == "ComplaintsNoWorkerPolling"]

        assert wait_for(pending)[0]["state"] in ("pending", "firing")
        assert value(port, 'up{job="complaints-worker"}') == 0
    finally:
        server.terminate()
        server.wait(timeout=10)

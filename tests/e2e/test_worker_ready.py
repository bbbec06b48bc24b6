"""The worker's readiness signal: `GET /ready` beside `/metrics` on COMPLAINTS_METRICS_PORT,
200 once the worker polls its task queue, 503 problem+json while it starts or stops."""

import json
import signal
import time
import urllib.error
import urllib.request

import pytest

from infra import telemetry
from infra.settings import Settings
from tests.conftest import free_port
from tests.e2e.test_observability import metrics_worker

__all__ = ["metrics_worker"]  # the fixture, shared with test_observability


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


def test_ready_follows_the_worker_and_metrics_stay_beside_it() -> None:
    port = free_port()
    runtime = telemetry.worker_runtime(Settings(metrics_port=port))
    status, headers, body = get(port, "/ready")
    assert status == 503 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["detail"] == "the worker is starting" and headers["Retry-After"]
    telemetry.READINESS.polling()
    try:
        assert get(port, "/ready")[:1] == (200,)
        runtime.metric_meter.create_counter("complaints_ready_probe").add(1)
        status, _, metrics = get(port, "/metrics")
        assert status == 200 and b"complaints_ready_probe_total" in metrics
    finally:
        telemetry.READINESS.stopping()
    status, _, body = get(port, "/ready")
    assert (status, json.loads(body)["detail"]) == (503, "the worker is stopping")
    assert get(port, "/nothing")[0] == 404


@pytest.mark.db
def test_a_worker_process_is_ready_once_it_polls(metrics_worker) -> None:  # type: ignore[no-untyped-def]
    process, log, port = metrics_worker()
    deadline = time.monotonic() + 60
    seen: list[int] = []
    while time.monotonic() < deadline:
        try:
            seen.append(get(port, "/ready")[0])
        except OSError:
            seen.append(0)  # not listening yet
        if seen[-1] == 200:
            break
        time.sleep(0.1)
    assert seen[-1] == 200, (seen[-5:], log.read_text()[-2000:])
    assert set(seen[:-1]) <= {0, 503}, "never ready before it polls"
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0

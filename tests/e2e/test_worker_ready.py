"""The worker's readiness signal: `GET /ready` beside `/metrics` on COMPLAINTS_METRICS_PORT,
200 while the worker polls its task queue and PostgreSQL and Temporal answer it, 503
problem+json while it starts or stops, or once either stops answering (and
`complaints_worker_ready` with it, which the "no worker polling" alert reads)."""

import asyncio
import json
import re
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from infra import telemetry, temporal_server
from infra.settings import Settings
from tests.conftest import free_port
from tests.e2e.test_observability import metrics_worker
from tests.integration.fresh import fresh_database
from workflows import search_attributes

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


def worker_ready_gauge(port: int) -> float:
    text = get(port, "/metrics")[2].decode()
    found = re.search(r"^complaints_worker_ready(?:\{[^}]*\})? (\S+)$", text, re.MULTILINE)
    assert found, "complaints_worker_ready not served"
    return float(found[1])


def until_ready(port: int, want: int, log: Path, timeout: float = 60) -> dict[str, Any]:
    """Probe `/ready` until it answers `want`; its JSON body then."""
    deadline, seen = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        try:
            seen, _, body = get(port, "/ready")
        except OSError:
            seen = 0  # not listening yet
        if seen == want:
            answer: dict[str, Any] = json.loads(body)
            return answer
        time.sleep(0.25)
    raise AssertionError(f"/ready answered {seen}, not {want}: {log.read_text()[-2000:]}")


def until_gauge(port: int, want: float, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while worker_ready_gauge(port) != want:
        assert time.monotonic() < deadline, f"complaints_worker_ready is not {want}"
        time.sleep(0.25)


@pytest.mark.db
async def test_a_worker_whose_database_stops_answering_is_not_ready(  # type: ignore[no-untyped-def]
    metrics_worker, server_url: str
) -> None:
    async with fresh_database(server_url) as url:
        name = urlsplit(url).path.lstrip("/")
        process, log, port = metrics_worker(DATABASE_URL=url)
        # The probes block: in a thread, so the session's event loop (and what it serves) runs.
        await asyncio.to_thread(until_ready, port, 200, log)
        await asyncio.to_thread(until_gauge, port, 1)
        admin = await asyncpg.connect(server_url)
        try:  # the database gone for the worker; the shared server keeps serving the rest
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            down = await asyncio.to_thread(until_ready, port, 503, log, 20)
            assert down["detail"].startswith("PostgreSQL does not answer"), down
            await asyncio.to_thread(until_gauge, port, 0)
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await asyncio.to_thread(until_ready, port, 200, log, 20)  # back by itself
            await asyncio.to_thread(until_gauge, port, 1)
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await admin.close()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0
    assert "worker not ready" in log.read_text() and "worker ready again" in log.read_text()


@pytest.mark.db
def test_a_worker_that_loses_temporal_is_not_ready(metrics_worker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    temporal_port, db_file = free_port(), tmp_path / "temporal.db"

    def start_temporal() -> Any:
        return temporal_server.start_dev_server(
            db_file, search_attributes.ALL, port=temporal_port, ui_port=None
        )

    server = start_temporal()
    try:
        process, log, port = metrics_worker(
            TEMPORAL_ADDRESS=f"127.0.0.1:{temporal_port}", COMPLAINTS_TEMPORAL_GRACE="3s"
        )
        until_ready(port, 200, log, timeout=90)
        server.kill()  # no goodbye: the server is simply gone
        server.wait(30)
        down = until_ready(port, 503, log, timeout=30)
        assert down["detail"].startswith("Temporal has not answered for"), down
        until_gauge(port, 0)
        server = start_temporal()
        until_ready(port, 200, log, timeout=60)  # polls again by itself
        until_gauge(port, 1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        server.kill()
        server.wait(30)

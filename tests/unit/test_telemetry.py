"""Telemetry settings and wiring: the metrics port and host, which client gets a runtime, and
tracing only when an OTLP endpoint is configured."""

from typing import Any

import pytest
from temporalio.runtime import Runtime

from infra import connection, telemetry
from infra.settings import Settings


def test_metrics_default_to_9464_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLAINTS_METRICS_PORT", raising=False)
    monkeypatch.delenv("COMPLAINTS_METRICS_HOST", raising=False)
    settings = Settings()
    assert (settings.metrics_port, settings.metrics_host) == (9464, "127.0.0.1")
    assert settings.metrics_address == "127.0.0.1:9464"


def test_metrics_port_and_host_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTS_METRICS_PORT", "9100")
    monkeypatch.setenv("COMPLAINTS_METRICS_HOST", "0.0.0.0")
    assert Settings().metrics_address == "0.0.0.0:9100"
    monkeypatch.setenv("COMPLAINTS_METRICS_HOST", "::")
    assert Settings().metrics_address == "[::]:9100"
    monkeypatch.setenv("COMPLAINTS_METRICS_PORT", "0")
    assert Settings().metrics_address is None  # off


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("COMPLAINTS_METRICS_HOST", "localhost", "an IP address"),
        ("COMPLAINTS_METRICS_PORT", "70000", "COMPLAINTS_METRICS_PORT: "),
        ("COMPLAINTS_METRICS_PORT", "-1", "COMPLAINTS_METRICS_PORT: "),
    ],
)
def test_a_bad_metrics_setting_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        Settings.load()
    assert says in str(stopped.value) and "\n" not in str(stopped.value)


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Client.connect's keyword arguments, without a server."""
    calls: list[dict[str, Any]] = []

    async def fake_connect(**kwargs: Any) -> object:
        calls.append(kwargs)
        return object()

    monkeypatch.setattr(connection.Client, "connect", fake_connect)
    return calls


async def test_connect_passes_the_runtime_it_is_given(connects: list[dict[str, Any]]) -> None:
    runtime = Runtime.default()
    await connection.connect(Settings(), runtime=runtime)
    await connection.connect(Settings())
    assert connects[0]["runtime"] is runtime
    assert "runtime" not in connects[1]  # the CLI: the SDK's default, no metrics port


async def test_tracing_only_when_an_otlp_endpoint_is_set(
    connects: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert telemetry.tracing_interceptors() == []
    await connection.connect(Settings())
    assert not connects[-1].get("interceptors")

    pytest.importorskip("opentelemetry.sdk.trace", reason="the `otel` extra is not installed")
    from temporalio.contrib.opentelemetry import TracingInterceptor

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    [interceptor] = telemetry.tracing_interceptors()
    assert isinstance(interceptor, TracingInterceptor)
    await connection.connect(Settings())
    assert [type(i) for i in connects[-1]["interceptors"]] == [TracingInterceptor]


def test_readiness_means_polling_with_postgresql_and_temporal_answering() -> None:
    now = [100.0]
    ready = telemetry.Readiness(temporal_grace=30, stale_after=20, clock=lambda: now[0])
    assert ready.verdict() == (False, "the worker is starting")
    ready.polling()
    assert ready.verdict() == (True, "")

    ready.database_failed("connection refused")  # the very next check: not ready
    assert ready.verdict() == (False, "PostgreSQL does not answer: connection refused")
    ready.database_answered()
    assert ready.ready

    now[0] += 10  # Temporal silent for 10 s of a 30 s grace: a restart, still ready
    ready.database_answered()
    ready.temporal_failed("connection refused")
    assert ready.ready
    now[0] += 21
    ready.database_answered()
    assert ready.verdict() == (False, "Temporal has not answered for 31 s: connection refused")
    ready.temporal_answered()
    assert ready.ready

    now[0] += 21  # no check at all (a stalled loop) is no answer either
    assert ready.verdict() == (False, "PostgreSQL not checked for 21 s")
    ready.database_answered()
    ready.temporal_answered()
    ready.stopping()
    assert ready.verdict() == (False, "the worker is stopping")


def test_temporal_grace_defaults_to_30_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLAINTS_TEMPORAL_GRACE", raising=False)
    assert Settings().temporal_grace.total_seconds() == 30
    monkeypatch.setenv("COMPLAINTS_TEMPORAL_GRACE", "5s")
    assert Settings().temporal_grace.total_seconds() == 5

"""The worker's telemetry: one Temporal runtime per process with the Prometheus endpoint and
Temporal core's logs forwarded into Python logging (infra.logs renders them), and optional
OpenTelemetry tracing when an OTLP endpoint is configured (the `otel` extra).

Service metrics go through the same runtime's meter, so one endpoint shows both the SDK's
`temporal_*` metrics and the service's `complaints_*` counters: workflows count through
`workflow.metric_meter()` (skipped during replay), activities through
`activity.metric_meter()`. Counters are exposed with Prometheus' `_total` suffix.

The metrics port also answers `GET /ready`: 200 while the worker polls its task queue and
both PostgreSQL and Temporal answer it (`Readiness`), else 503 (problem+json, `Retry-After`,
the reason in `detail`), for an orchestrator's probe and the image's HEALTHCHECK. Core's
exporter serves only `/metrics`, so it listens on a loopback port of its own and a small HTTP
server on the metrics port relays `/metrics` to it and answers `/ready` itself.

Gauges (`ServiceGauges`) exist from the worker's start, zeros included, so an alert on them
never waits for a first event: overdue cases, unsent notices and their age, open cases by
status and step, time to first response, whether the database answered the last reading
and whether this worker is ready (as its `/ready`)."""

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from infra.settings import Settings

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

    from temporalio.common import MetricGaugeFloat, MetricMeter

    from store.health import Readings

# Temporal core's own (Rust) log lines arrive on this Python logger.
CORE_LOGGER = "temporalio.core"

_runtimes: dict[str | None, Runtime] = {}
_tracer: Any = None  # the process's OTLP tracer, made once


class MetricsUnavailable(Exception):
    """The metrics endpoint cannot be served (its port is taken): one line that says so."""


def metrics_url(settings: Settings) -> str | None:
    """Where the worker's metrics are scraped, None when they are off."""
    address = settings.metrics_address
    return f"http://{address}/metrics" if address else None


def core_logging() -> LoggingConfig:
    """Core's warnings (and the SDK bridge's errors) into the Python logger `temporalio.core`
    instead of coloured text on stderr: its target and fields become fields of the line."""
    return LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(
            logger=logging.getLogger(CORE_LOGGER),
            append_target_to_name=False,
            prepend_target_on_message=False,
            append_log_fields_to_message=False,
        ),
    )


class Readiness:
    """Whether this worker can do its work: it polls its task queue (worker.py says when it
    starts and stops), PostgreSQL answered its last check, and Temporal answered within
    `temporal_grace` seconds (a server restart is no outage; a server gone is one).

    The checks run in the worker's own loop every few seconds (`worker.watch_health`); `/ready`
    and `complaints_worker_ready` only read what they found, so a probe costs the database
    nothing. A check that has not run for `stale_after` seconds counts as failed: a loop that
    stalls is a worker that does no work."""

    def __init__(
        self,
        temporal_grace: float = 30.0,
        stale_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.temporal_grace, self.stale_after, self._clock = temporal_grace, stale_after, clock
        self._phase: str | None = "the worker is starting"  # None while it polls
        self._database_at = self._temporal_at = 0.0  # when each last answered
        self._database_error = self._temporal_error = ""

    def polling(self) -> None:
        """The worker polls: both answered just now (it connected and migrated to get here)."""
        self._phase = None
        self.database_answered()
        self.temporal_answered()

    def stopping(self) -> None:
        self._phase = "the worker is stopping"

    def database_answered(self) -> None:
        self._database_at, self._database_error = self._clock(), ""

    def database_failed(self, error: str) -> None:
        self._database_error = error or "no answer"

    def temporal_answered(self) -> None:
        self._temporal_at, self._temporal_error = self._clock(), ""

    def temporal_failed(self, error: str) -> None:
        self._temporal_error = error or "no answer"

    def verdict(self) -> tuple[bool, str]:
        """(ready, why not)."""
        if self._phase is not None:
            return False, self._phase
        now = self._clock()
        if self._database_error:
            return False, f"PostgreSQL does not answer: {self._database_error}"
        if now - self._database_at > self.stale_after:
            return False, f"PostgreSQL not checked for {now - self._database_at:.0f} s"
        silent = now - self._temporal_at
        if silent > self.temporal_grace:
            why = f": {self._temporal_error}" if self._temporal_error else ""
            return False, f"Temporal has not answered for {silent:.0f} s{why}"
        return True, ""

    @property
    def ready(self) -> bool:
        return self.verdict()[0]

    @property
    def reason(self) -> str:
        return self.verdict()[1]


READINESS = Readiness()


@dataclass(frozen=True)
class Gauge:
    name: str
    description: str


# The service's gauges, as Prometheus shows them (deploy/ and docs/operations.md use these).
GAUGES = (
    Gauge("complaints_cases_overdue", "Open cases whose response is past due"),
    Gauge("complaints_cases_overdue_oldest_seconds", "How long the most overdue case is past due"),
    Gauge("complaints_notices_unsent", "Notices due and not sent (held ones not counted)"),
    Gauge("complaints_notices_unsent_oldest_seconds", "Age of the oldest notice due and unsent"),
    Gauge("complaints_notices_held", "Notices held for quiet or opening hours"),
    Gauge("complaints_notices_failing", "Unsent notices whose last attempt failed"),
    Gauge("complaints_cases_open", "Cases not closed, by status and step"),
    Gauge("complaints_first_response_p50_seconds", "Median opening-to-apology, last 7 days"),
    Gauge("complaints_first_response_p90_seconds", "90th percentile opening-to-apology, 7 days"),
    Gauge("complaints_database_up", "1 when the last reading from PostgreSQL succeeded"),
    Gauge(
        "complaints_worker_ready",
        "1 while this worker polls its task queue and PostgreSQL and Temporal answer it",
    ),
)


class ServiceGauges:
    """The gauges on one runtime's meter, set from a `store.health.Readings`."""

    def __init__(self, meter: "MetricMeter") -> None:
        self._g: dict[str, MetricGaugeFloat] = {
            g.name: meter.create_gauge_float(g.name, g.description) for g in GAUGES
        }
        self._stages: set[tuple[str, str]] = set()
        self.database(up=False)
        self.ready(READINESS.ready)

    def show(self, readings: "Readings") -> None:
        r = readings
        # Per shop (label `shop`, its random id): an alert says whose cases wait.
        for shop, s in sorted(r.shops.items()):
            for name, value in (
                ("complaints_cases_overdue", s.cases_overdue),
                ("complaints_cases_overdue_oldest_seconds", s.oldest_overdue_seconds),
                ("complaints_notices_unsent", s.notices_unsent),
                ("complaints_notices_unsent_oldest_seconds", s.oldest_unsent_seconds),
                ("complaints_notices_held", s.notices_held),
                ("complaints_notices_failing", s.notices_failing),
            ):
                self._g[name].set(float(value), {"shop": shop})
        for name, value in (
            ("complaints_first_response_p50_seconds", r.first_response_p50_seconds),
            ("complaints_first_response_p90_seconds", r.first_response_p90_seconds),
        ):
            self._g[name].set(float(value))
        # A pair that emptied since the last reading goes to 0 rather than keeping its count.
        self._stages |= set(r.cases_by_stage)
        for status, step in sorted(self._stages):
            count = r.cases_by_stage.get((status, step), 0)
            self._g["complaints_cases_open"].set(float(count), {"status": status, "step": step})
        self.database(up=True)

    def database(self, up: bool) -> None:
        self._g["complaints_database_up"].set(1.0 if up else 0.0)

    def ready(self, polling: bool) -> None:
        self._g["complaints_worker_ready"].set(1.0 if polling else 0.0)


def worker_runtime(settings: Settings) -> Runtime:
    """The worker's runtime, made once per process: Prometheus and `/ready` on
    `settings.metrics_address` (none when the port is 0), core logs forwarded. Only the
    worker uses it; the CLI keeps the SDK's default runtime and so never binds the port."""
    address = settings.metrics_address
    if address not in _runtimes:
        metrics, internal = None, None
        if address:
            try:
                internal = _loopback_address()
                _serve_probes(address, internal)
            except OSError as err:  # "Address already in use"
                raise MetricsUnavailable(
                    f"cannot serve metrics on {address}: {err}; set COMPLAINTS_METRICS_PORT to "
                    "a free port (0 turns metrics off)"
                ) from None
            metrics = PrometheusConfig(bind_address=internal, counters_total_suffix=True)
        try:
            runtime = Runtime(telemetry=TelemetryConfig(logging=core_logging(), metrics=metrics))
        except ValueError as err:  # "Failed starting Prometheus exporter: Address in use"
            raise MetricsUnavailable(
                f"cannot serve metrics on {address}: {err}; set COMPLAINTS_METRICS_PORT to a "
                "free port (0 turns metrics off)"
            ) from None
        _runtimes[address] = runtime
    return _runtimes[address]


def _loopback_address() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def _serve_probes(address: str, internal: str) -> "ThreadingHTTPServer":
    """`/metrics` (core's exporter at `internal`, relayed) and `/ready` on `address`."""
    # Here, not at the top: only a worker serves probes, and a CLI command that connects
    # (and so imports this module) should not read an HTTP server's modules.
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    host, _, port = address.rpartition(":")
    host = host.strip("[]")

    class Probes(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/metrics":
                try:
                    with urllib.request.urlopen(f"http://{internal}/metrics", timeout=5) as got:
                        self._answer(200, got.read(), got.headers.get("Content-Type", "text/plain"))
                except OSError as err:
                    self._answer(503, str(err).encode(), "text/plain")
            elif self.path.split("?")[0] == "/ready":
                self._ready()
            else:
                self._answer(404, b"not found: /metrics or /ready", "text/plain")

        def _ready(self) -> None:
            ready, reason = READINESS.verdict()
            if ready:
                self._answer(200, b'{"status":"ready"}', "application/json")
                return
            problem = {
                "type": "https://complaints.example/problems/unavailable",
                "title": "Service unavailable",
                "status": 503,
                "detail": reason,
            }
            body = json.dumps(problem).encode()
            self._answer(503, body, "application/problem+json", {"Retry-After": "5"})

        def _answer(
            self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # scrapes are not news
            pass

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True

    server = Server((host, int(port)), Probes)
    threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
    return server


def _traces_configured(env: Mapping[str, str]) -> bool:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    )


def tracing_interceptors(
    environ: Mapping[str, str] | None = None, exporter: Any = None
) -> list[Any]:
    """[TracingInterceptor] when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the standard variables) and the `otel` extra is
    installed; else nothing. On a client, it traces the workers made from it too.

    Spans go to the endpoint over OTLP/HTTP (the exporter reads the OTEL_* variables:
    headers, timeout, ...); service name OTEL_SERVICE_NAME, else `complaints`. `exporter`
    replaces the OTLP one (tests)."""
    env = os.environ if environ is None else environ
    if not _traces_configured(env):
        return []
    try:
        from temporalio.contrib.opentelemetry import TracingInterceptor
    except ImportError:
        logging.getLogger(__name__).warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed "
            "(pip install 'complaints[otel]'): no tracing"
        )
        return []
    return [TracingInterceptor(_make_tracer(env, exporter))]


def _make_tracer(env: Mapping[str, str], exporter: Any) -> Any:
    global _tracer
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if exporter is None and _tracer is not None:
        return _tracer
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or "complaints"})
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        return provider.get_tracer("complaints")
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)  # flushed at exit (the provider's atexit hook)
    _tracer = provider.get_tracer("complaints")
    return _tracer


def flush(timeout_millis: int = 2000) -> None:
    """Send the spans still buffered: for a short-lived process that skips exit handlers."""
    if _tracer is None:
        return
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    if force_flush is not None:
        with contextlib.suppress(Exception):  # a collector that is down loses spans, no more
            force_flush(timeout_millis)

"""The worker's telemetry: one Temporal runtime per process with the Prometheus endpoint and
Temporal core's logs forwarded into Python logging (infra.logs renders them), and optional
OpenTelemetry tracing when an OTLP endpoint is configured (the `otel` extra).

Service metrics go through the same runtime's meter, so one endpoint shows both the SDK's
`temporal_*` metrics and the service's `complaints_*` counters: workflows count through
`workflow.metric_meter()` (skipped during replay), activities through
`activity.metric_meter()`. Counters are exposed with Prometheus' `_total` suffix."""

import contextlib
import logging
import os
from collections.abc import Mapping
from typing import Any

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from infra.settings import Settings

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


def worker_runtime(settings: Settings) -> Runtime:
    """The worker's runtime, made once per process: Prometheus on `settings.metrics_address`
    (none when the port is 0), core logs forwarded. Only the worker uses it; the CLI keeps
    the SDK's default runtime and so never binds the port."""
    address = settings.metrics_address
    if address not in _runtimes:
        metrics = (
            PrometheusConfig(bind_address=address, counters_total_suffix=True) if address else None
        )
        try:
            runtime = Runtime(telemetry=TelemetryConfig(logging=core_logging(), metrics=metrics))
        except ValueError as err:  # "Failed starting Prometheus exporter: Address in use"
            raise MetricsUnavailable(
                f"cannot serve metrics on {address}: {err}; set COMPLAINTS_METRICS_PORT to a "
                "free port (0 turns metrics off)"
            ) from None
        _runtimes[address] = runtime
    return _runtimes[address]


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

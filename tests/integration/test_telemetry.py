"""The worker's runtime: Prometheus on the configured port (a taken port is one clear error),
Temporal core's logs forwarded into Python; OpenTelemetry spans for a traced client."""

import socket
import urllib.request
import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():  # the sandbox re-imports this module
    from infra import telemetry
    from infra.settings import Settings
    from tests.conftest import free_port


def test_the_worker_runtime_serves_prometheus_with_clean_counter_names() -> None:
    port = free_port()
    runtime = telemetry.worker_runtime(Settings(metrics_port=port))
    assert telemetry.worker_runtime(Settings(metrics_port=port)) is runtime  # once a process
    counter = runtime.metric_meter.create_counter("complaints_probe", "a test counter")
    counter.add(2, {"kind": "probe"})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert 'complaints_probe_total{kind="probe"' in text, text


def test_a_taken_metrics_port_is_one_clear_error() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(telemetry.MetricsUnavailable) as refused:
            telemetry.worker_runtime(Settings(metrics_port=port))
    message = str(refused.value)
    assert f"127.0.0.1:{port}" in message and "COMPLAINTS_METRICS_PORT" in message


def test_metrics_off_binds_nothing() -> None:
    runtime = telemetry.worker_runtime(Settings(metrics_port=0))
    assert runtime.metric_meter is not None  # a no-op meter: counters cost nothing


@activity.defn
async def greet(name: str) -> str:
    return f"hello {name}"


@workflow.defn
class Traced:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=10)
        )


async def test_a_traced_client_exports_spans_for_workflow_and_activity(
    ts_env: WorkflowEnvironment,
) -> None:
    pytest.importorskip("opentelemetry.sdk.trace", reason="the `otel` extra is not installed")
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    interceptors = telemetry.tracing_interceptors(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, exporter=exporter
    )
    client = Client(**(ts_env.client.config() | {"interceptors": interceptors}))
    queue = f"traced-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[Traced], activities=[greet]):
        result = await client.execute_workflow(
            Traced.run, "Minji", id=f"traced-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
    assert result == "hello Minji"
    names = {span.name for span in exporter.get_finished_spans()}
    assert {"StartWorkflow:Traced", "RunWorkflow:Traced", "RunActivity:greet"} <= names, names

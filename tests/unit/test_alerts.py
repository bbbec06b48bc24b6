"""deploy/: the Prometheus alerting rules pass `promtool check` and each alert's unit test
(`promtool test rules`); a rule made wrong is caught; the Grafana dashboard is valid JSON on
the provisioned data source; every metric the rules and the dashboard use is one the worker
exports; every alert has its runbook section in docs/operations.md."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML  # comes with check-jsonschema (dev extra)

from infra.telemetry import GAUGES

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "docker-compose.yml").exists())
RULES = ROOT / "deploy/prometheus/alerts.yml"
RULE_TESTS = ROOT / "deploy/prometheus/alerts.test.yml"
DASHBOARD = ROOT / "deploy/grafana/dashboards/complaints.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed (Debian: apt-get install prometheus; .ci/run does)",
)

# What the Temporal SDK's core exports (temporalio 1.35, counters with `_total`): the names a
# worker served on a dev server with a failing workflow task, plus the failure counters that
# appear only on a failure (temporalio/sdk-core's metrics.rs names them).
SDK_METRICS = {
    "temporal_long_request_latency", "temporal_long_request_total", "temporal_num_pollers",
    "temporal_request_latency", "temporal_request_total", "temporal_sticky_cache_size",
    "temporal_sticky_cache_total_forced_eviction_total", "temporal_worker_start_total",
    "temporal_worker_task_slots_available", "temporal_worker_task_slots_used",
    "temporal_workflow_task_execution_failed_total", "temporal_workflow_task_execution_latency",
    "temporal_workflow_task_queue_poll_succeed_total",
    "temporal_workflow_task_schedule_to_start_latency",
    "temporal_long_request_failure_total", "temporal_request_failure_total",
    "temporal_activity_execution_failed_total",
}  # fmt: skip
PROMETHEUS_OWN = {"up"}


def exported_service_metrics() -> set[str]:
    """The complaints_* series the code makes: the gauges, and each counter with `_total`
    (the names passed to create_counter, or through the outbox's count)."""
    counters = set()
    for folder in ("workflows", "activities", "store", "notify"):
        for path in (ROOT / folder).rglob("*.py"):
            counters |= set(re.findall(r'"(complaints_[a-z_]+)"', path.read_text()))
    gauges = {g.name for g in GAUGES}
    return gauges | {f"{name}_total" for name in counters - gauges}


def metric_names(promql: str) -> set[str]:
    names = set(re.findall(r"\b((?:complaints|temporal)_[a-z_]+)\b", promql))
    names |= {w for w in re.findall(r"\b(\w+)\s*\{", promql) if w in PROMETHEUS_OWN}
    return {re.sub(r"_(bucket|count|sum)$", "", n) for n in names}


def rules() -> list[dict[str, str]]:
    doc = YAML(typ="safe").load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in board["panels"] for t in p.get("targets", [])]


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@needs_promtool
def test_rules_and_prometheus_config_pass_promtool_check() -> None:
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = promtool("check", "config", str(ROOT / "deploy/prometheus/prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr


@needs_promtool
def test_every_alert_has_a_unit_test_and_they_pass() -> None:
    tests = YAML(typ="safe").load(RULE_TESTS.read_text())["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    quiet = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if not case.get("exp_alerts")
    }
    alerts = {rule["alert"] for rule in rules()}
    assert len(alerts) >= 6
    assert fired == alerts, "an alert without a test that fires it"
    assert quiet == alerts, "an alert without a test that it stays quiet"
    result = promtool("test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
@pytest.mark.parametrize(
    ("alert", "change"),
    [
        ("ComplaintCaseOverdue", ("oldest_seconds) > 900", "oldest_seconds) > 9000")),
        ("ComplaintsNoWorkerPolling", ("absent(complaints_worker_ready == 1)", "absent(up)")),
        ("ComplaintsDatabaseUnreachable", ("complaints_database_up == 0", "up == 0")),
    ],
)
def test_a_wrong_rule_fails_its_unit_test(
    tmp_path: Path, alert: str, change: tuple[str, str]
) -> None:
    text = RULES.read_text()
    assert change[0] in text
    (tmp_path / "alerts.yml").write_text(text.replace(change[0], change[1]))
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    result = promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert result.returncode != 0
    assert f"alertname: {alert}" in result.stdout + result.stderr


def test_rules_and_dashboard_use_only_metrics_the_worker_exports() -> None:
    known = exported_service_metrics() | SDK_METRICS | PROMETHEUS_OWN
    assert {"complaints_cases_overdue", "complaints_notices_unsent"} <= known
    assert "complaints_notices_failed_total" in known and "complaints_messages_total" in known
    used = {name for rule in rules() for name in metric_names(rule["expr"])}
    used |= {name for expr in dashboard_exprs() for name in metric_names(expr)}
    assert used - known == set()
    assert metric_names("rate(complaints_nonesuch_total[5m])") - known  # the check can fail


def test_the_dashboard_is_valid_and_covers_what_operators_watch() -> None:
    board = json.loads(DASHBOARD.read_text())
    assert board["uid"] == "complaints"
    panels = board["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    source = YAML(typ="safe").load(
        (ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    for panel in panels:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == source["uid"], panel["title"]
            assert panel["targets"], panel["title"]
    text = " ".join(dashboard_exprs())
    for watched in (
        "complaints_cases_open",  # by status and step
        "complaints_escalations_total",
        "complaints_first_response_p50_seconds",
        "complaints_notices_sent_total",
        "complaints_notices_unsent",
        "complaints_worker_ready",
    ):
        assert watched in text, watched


def test_every_alert_has_a_runbook_section() -> None:
    runbook = (ROOT / "docs/operations.md").read_text()
    headings = {h.strip().lower() for h in re.findall(r"^#+ (.+)$", runbook, re.M)}
    for rule in rules():
        name = rule["alert"]
        assert f"docs/operations.md#{name.lower()}" in str(rule["annotations"]), name
        assert name.lower() in headings, f"docs/operations.md has no section {name}"

"""The CLI's start, held in `python -X importtime` terms (which modules a command imports, not
how long that took on a busy machine): `--help` reads the parser and nothing of the service,
and `show` reads what showing a case needs, not the workflow's code, the HTTP stack or every
country's holidays. Measured 2026-12-07: `--help` imports 22 modules beyond `python -c pass`
(1,371 before the CLI's imports were made lazy), `show` 428 in all (467 while it imported the
holidays package to check the default country, 787 while it asked the workflow, 1,709
before)."""

import os
import subprocess
import sys
from pathlib import Path

from temporalio.workflow import _Definition

from app import cases
from workflows.complaint import ComplaintWorkflow

ROOT = Path(__file__).resolve().parents[2]
OURS = ("starter", "cli", "app", "domain", "infra", "store", "workflows", "activities", "notify")


def imported(*argv: str, code: str = "from starter import cli; cli()") -> list[str]:
    """The modules `complaints ARGV` imports, in order (the command may fail: no servers)."""
    env = os.environ | {
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",  # refused at once
        "COMPLAINTS_STAFF": "Nobody",
    }
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [
        line.rsplit("|", 1)[1].strip()
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and "imported package" not in line
    ]


def test_help_imports_the_parser_and_nothing_of_the_service() -> None:
    python = set(imported(code="pass"))  # what Python's own start imports (site's too)
    modules = imported("--help")
    ours = {m for m in modules if m.split(".")[0] in OURS}
    assert ours == {"starter", "cli", "cli.main", "cli.parser"}
    third_party = {
        m
        for m in modules
        if m not in python
        and m.split(".")[0] not in sys.stdlib_module_names
        and m.split(".")[0] not in OURS
    }
    assert third_party == set()  # temporalio.client, asyncpg, babel, pydantic: none
    assert len(set(modules) - python) <= 40  # 22 today: argparse and what it brings


def test_show_imports_what_showing_a_case_needs() -> None:
    modules = set(imported("show", "abcd-efgh-jkmn"))
    assert {"asyncpg", "app.reads", "cli.render"} <= modules
    never = (
        "temporalio",  # a stored case is read from PostgreSQL (the workflow only as a fallback)
        "workflows.complaint",  # app.cases calls the workflow by its names
        "activities",
        "store.events",  # only when no worker answers
        "structlog",
        "fastapi",
        "httpx",
        "notify",
        "babel",  # notices' dates; `show` writes stamps
        "holidays",  # the default country is checked without the package (35 ms)
    )
    found = sorted(m for m in modules if m.split(".")[0] in never or m.startswith(never))
    assert found == []
    assert len(modules) <= 600  # 428 today, 787 with Temporal's client, 1,709 before


def test_the_names_the_application_layer_calls_are_the_workflows() -> None:
    definition = _Definition.from_class(ComplaintWorkflow)
    assert definition is not None
    assert definition.name == cases.WORKFLOW
    assert cases.STATE in definition.queries
    called = {
        "apologize",
        "empathize",
        "analyze_cause",
        "offer_resolution",
        "record_customer_response",
        "show_prevention",
        "record_satisfaction",
        "record_delay",
        "withdraw",
    }
    source = (ROOT / "app" / "cases.py").read_text()
    assert all(f'"{name}"' in source for name in called)
    assert called <= set(definition.updates)

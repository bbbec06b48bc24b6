"""A property run of the API against its own /openapi.json (schemathesis): no 5xx, every
response as documented, every refusal problem+json. Fixed seed, few examples per route.

The API runs as in production: uvicorn with a worker beside it, in a thread with its own
event loop (schemathesis calls are blocking, so the test's loop would stall them)."""

import asyncio
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.testing import WorkflowEnvironment

from api.main import create_app, server
from app.context import Context
from infra.connection import connect
from infra.postgres import connect as connect_pool
from infra.settings import Settings
from tests.conftest import free_port
from tests.helpers import OWNER
from worker import build_worker

pytestmark = pytest.mark.db
schema = schemathesis.openapi.from_dict(create_app().openapi())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class LiveApi:
    url: str
    token: str


@pytest.fixture(scope="module")
def live_api(
    dev_env: WorkflowEnvironment, database_url: str, staff_tokens: dict[str, str]
) -> Iterator[LiveApi]:
    shop = Settings(
        temporal_address=dev_env.client.service_client.config.target_host,
        task_queue=f"schema-{uuid.uuid4().hex[:8]}",
        database_url=database_url,
        api_port=free_port(),
    )
    started, stop = threading.Event(), asyncio.Event()
    loop = asyncio.new_event_loop()

    async def run() -> None:
        client = await connect(shop)
        pool = await connect_pool(database_url, max_size=4)
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
    yield LiveApi(f"http://{shop.api_host}:{shop.api_port}", staff_tokens[OWNER])
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)


@schema.parametrize()
@seed(20261123)
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case: schemathesis.Case, live_api: LiveApi) -> None:
    response = case.call(
        base_url=live_api.url, headers={"Authorization": f"Bearer {live_api.token}"}, timeout=30
    )
    case.validate_response(response, checks=CHECKS)
    if response.status_code >= 400:
        content_type = response.headers["content-type"][0]  # schemathesis keeps header lists
        assert content_type.startswith("application/problem+json"), content_type
        assert response.json()["detail"]

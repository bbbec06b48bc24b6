"""The API at its edges: outages answer 503 (never 500), oversized bodies 413 before they are
read, health and readiness without a token, visits with the phone in the body, `/docs` with
nothing from a CDN, CSV times in the shop's offset."""

import asyncio
import csv
import io
import json
import re
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api import routes
from api.main import create_app
from app.context import Context
from infra import postgres
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from tests.conftest import TEST_CONVERTER
from tests.e2e.test_api import NEW_CASE, WALK, Api, api, phone, refusal
from tests.e2e.test_cli import Cli
from tests.helpers import MANAGER, STAFF
from worker import build_worker

pytestmark = pytest.mark.db
__all__ = ["api"]  # the fixture, shared with test_api


def unavailable(response: httpx.Response) -> str:
    detail = refusal(response, 503)
    assert int(response.headers["retry-after"]) > 0
    return detail


@pytest.fixture
async def own_api(
    dev_env: WorkflowEnvironment, database_url: str, staff_tokens: dict[str, str]
) -> AsyncIterator[tuple[Api, str]]:
    """An API on a pool of its own (the session's pool and workers are not touched), and the
    name of its database."""
    pool = await postgres.connect(database_url, max_size=2, scope=FIRST_SHOP)
    settings = Settings(database_url=database_url, language="en")
    app = create_app(Context(settings, client=dev_env.client, pool=pool))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a 500 is an answer
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield Api(client, dict(staff_tokens)), urlsplit(database_url).path.lstrip("/")
    finally:
        await pool.close()


async def test_postgresql_unreachable_is_503_problem_with_retry_after(
    own_api: tuple[Api, str], server_url: str
) -> None:
    api, database = own_api
    assert database.startswith("complaints_test_"), "only ever the session's own database"
    assert (await api("GET", "/cases")).status_code == 200  # the pool holds a connection
    case_id = "abcd-efgh-jkmn"
    admin = await asyncpg.connect(server_url)
    try:
        # The test's own database only: no new connections, the open ones ended.
        await admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
        await asyncio.sleep(0.1)
        answers = [
            await api("GET", "/cases"),
            await api("GET", f"/cases/{case_id}"),
            await api("POST", f"/cases/{case_id}/apology", json=WALK[0][1]),
            await api("POST", "/cases", json=NEW_CASE | {"phone": phone()}),
            await api("GET", "/reports", as_=MANAGER),
            await api("GET", "/exports/cases.csv", as_=MANAGER),
            await api("POST", "/visits", json={"phone": phone()}),
            await api("GET", "/ready", as_=None),
        ]
        for answer in answers:
            assert "PostgreSQL" in unavailable(answer), answer.text
        assert (await api("GET", "/health", as_=None)).status_code == 200, "alive all the same"
    finally:
        await admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')
        await admin.close()
    assert (await api("GET", "/cases")).status_code == 200, "back once PostgreSQL is"


async def test_temporal_unreachable_is_503_problem_and_not_ready(
    pool: asyncpg.Pool, database_url: str, staff_tokens: dict[str, str]
) -> None:
    # nothing listens on port 1
    nowhere = await Client.connect("127.0.0.1:1", lazy=True, data_converter=TEST_CONVERTER)
    settings = Settings(database_url=database_url, language="en")
    app = create_app(Context(settings, client=nowhere, pool=pool))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        api = Api(client, dict(staff_tokens))
        unavailable(await api("POST", "/cases", json=NEW_CASE | {"phone": phone()}))
        unavailable(await api("POST", "/cases/abcd-efgh-jkmn/apology", json=WALK[0][1]))
        assert "Temporal" in unavailable(await api("GET", "/ready", as_=None))
        assert (await api("GET", "/cases")).status_code == 200, "reads need PostgreSQL only"


async def test_a_30_mb_body_is_refused_with_413_before_it_is_read(api: Api) -> None:
    chunks_read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_read
        for _ in range(30):
            chunks_read += 1
            yield b"x" * (1024 * 1024)

    declared = await api(
        "POST",
        "/cases",
        content=body(),
        headers={"Content-Type": "application/json", "Content-Length": str(30 * 1024 * 1024)},
    )
    assert "larger than 64 KiB" in refusal(declared, 413)
    assert chunks_read == 0, "refused on Content-Length alone"
    chunked = await api(
        "POST", "/cases", content=body(), headers={"Content-Type": "application/json"}
    )
    assert "larger than 64 KiB" in refusal(chunked, 413)
    assert chunks_read <= 2, f"stopped reading past the limit, read {chunks_read} MiB"
    small = await api("POST", "/cases", json=NEW_CASE | {"phone": phone(), "what": "x" * 4000})
    assert small.status_code == 201, "a body under the limit is read"


async def test_health_and_readiness_need_no_token(api: Api) -> None:
    health = await api("GET", "/health", as_=None)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = await api("GET", "/ready", as_=None)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "postgresql": "ok", "temporal": "ok"}
    paths = (await api("GET", "/openapi.json", as_=None)).json()["paths"]
    assert {"/health", "/ready"} <= set(paths)
    assert "security" not in paths["/ready"]["get"]


async def test_a_visit_takes_the_phone_in_the_body(api: Api) -> None:
    number = phone()
    first = await api("POST", "/visits", json={"phone": number, "name": "Park Jiho"})
    assert first.status_code == 200, first.text
    again = await api("POST", "/visits", json={"phone": number})
    assert again.json()["visits"] == first.json()["visits"] + 1
    gone = await api("POST", f"/customers/{number}/visits", json={"name": "Park Jiho"})
    assert "POST /visits" in refusal(gone, 410)
    paths = (await api("GET", "/openapi.json", as_=None)).json()["paths"]
    assert "/visits" in paths and not [p for p in paths if "phone" in p]
    assert "phone: " in refusal(await api("POST", "/visits", json={"phone": "call me"}), 422)


async def test_docs_work_offline(api: Api) -> None:
    for page in ("/docs", "/redoc"):
        html = await api("GET", page, as_=None)
        assert html.status_code == 200 and "text/html" in html.headers["content-type"]
        assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html.text)
        assert assets, html.text
        assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets
        assert "cdn" not in html.text.lower() and "https://" not in html.text.replace(
            "https://complaints.example", ""
        )
        for asset in assets:
            fetched = await api("GET", asset, as_=None)
            assert fetched.status_code == 200 and fetched.content, asset


async def test_the_csv_export_writes_times_in_the_shops_offset(
    api: Api, dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    opened = await api("POST", "/cases", as_=STAFF, json=NEW_CASE | {"phone": phone()})
    case_id = opened.json()["case_id"]
    exported = await api("GET", "/exports/cases.csv", as_=MANAGER)
    cli = Cli(dev_env, settings)
    cli.env["COMPLAINTS_STAFF"] = MANAGER
    for text in (exported.text, await cli("export")):
        rows = {r["case_id"]: r for r in csv.DictReader(io.StringIO(text))}
        assert rows[case_id]["opened_at"].endswith("+09:00"), rows[case_id]
        assert rows[case_id]["response_due_at"].endswith("+09:00")


async def test_what_the_schema_rules_out_is_refused_and_what_it_allows_is_not(api: Api) -> None:
    assert "YYYY-MM-DD" in refusal(await api("GET", "/reports", as_=MANAGER, params={"to": 0}), 422)
    swapped = await api(
        "GET", "/reports", as_=MANAGER, params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert swapped.status_code == 200, "the same days, given the other way round"
    options = await api("OPTIONS", "/cases")
    refusal(options, 405)
    assert options.headers["allow"] == "GET, POST"
    malformed = await api(
        "POST", "/cases", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in refusal(malformed, 400)
    opened = await api("POST", "/cases", json=NEW_CASE | {"phone": phone()})
    case_id = opened.json()["case_id"]
    zero = await api("POST", f"/cases/{case_id}/satisfaction", json={"score": 0})
    assert "score: " in refusal(zero, 422)
    blank = await api("POST", f"/cases/{case_id}/apology", json={"what": "  "})
    assert refusal(blank, 422) == "what: must not be empty"
    text = await api("POST", f"/cases/{case_id}/apology", json={"what": "\u00e8\u009c"})
    assert "control character U+009C" in refusal(text, 422)
    spec = (await api("GET", "/openapi.json", as_=None)).json()
    assert "format" not in json.dumps(spec["components"]["schemas"]["OpeningHours"])


def test_the_schema_states_the_constraints() -> None:
    spec = create_app().openapi()
    schemas, paths = spec["components"]["schemas"], spec["paths"]
    assert '"format": "time"' not in json.dumps(spec), "times of day have no offset"
    assert schemas["RemedyKind"]["enum"][:2] == ["free_redo", "partial_refund"]
    kind = schemas["OfferedRemedy"]["properties"]["kind"]
    assert kind == {"$ref": "#/components/schemas/RemedyKind", "examples": ["free_redo"]}
    score = schemas["Satisfaction"]["properties"]["score"]
    assert (score["type"], score["minimum"], score["maximum"]) == ("integer", 1, 5)
    what = schemas["Apology"]["properties"]["what"]
    assert (what["minLength"], what["maxLength"]) == (1, 4000) and what["pattern"]
    step = next(p for p in paths["/cases"]["get"]["parameters"] if p["name"] == "step")
    assert "analyze_cause" in step["schema"]["enum"]
    for path, methods in paths.items():
        for method, operation in methods.items():
            documented = set(operation["responses"])
            if method == "post":
                assert {"400", "413", "422", "503"} <= documented, (method, path)
            if path != "/health":
                assert "503" in documented, (method, path)
                retry = operation["responses"]["503"]["headers"]["Retry-After"]
                assert retry["required"], (method, path)
    links = paths["/cases"]["post"]["responses"]["201"]["links"]
    assert links["apologize"]["parameters"] == {"case_id": "$response.body#/case_id"}
    assert "64 KiB" in spec["info"]["description"]


async def test_an_action_no_worker_answers_is_503_not_a_hang(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    staff_tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routes, "ACTION_DEADLINE", 1.0)
    app = create_app(Context(settings, client=dev_env.client, pool=pool))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        api = Api(client, dict(staff_tokens))
        async with build_worker(dev_env.client, pool, settings):
            opened = await api("POST", "/cases", json=NEW_CASE | {"phone": phone()})
        case_id = opened.json()["case_id"]  # and now no worker polls its task queue
        started = time.monotonic()
        detail = unavailable(await api("POST", f"/cases/{case_id}/apology", json=WALK[0][1]))
        assert detail.startswith("no worker answered within 1 s")
        assert time.monotonic() - started < 30, "answered at the deadline, not hung"

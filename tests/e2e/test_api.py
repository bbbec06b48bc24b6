"""The HTTP API end to end on the dev server: a full walk, roles, and the same refusals in
the same words as the CLI."""

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from app.context import Context
from infra import postgres
from infra.settings import Settings
from tests.e2e.test_cli import Cli
from tests.helpers import INTAKE, MANAGER, OWNER, STAFF, event_types
from worker import build_worker

pytestmark = pytest.mark.db
PROBLEM = "application/problem+json"


def phone() -> str:
    return f"010-7{uuid.uuid4().int % 1000:03d}-{uuid.uuid4().int % 10000:04d}"


NEW_CASE = {
    "name": "Park Jiho",
    "channel": "kakaotalk",
    "motive": "compensation",
    "what": "Aircon still leaks after the repair",
}
WALK: list[tuple[str, dict[str, Any]]] = [
    ("apology", {"what": "Sorry, the leak came back after our repair"}),
    ("empathy", {"customer_words": "She said the floor got wet twice"}),
    ("cause", {"cause": "The drain hose was kinked", "fault": "ours"}),
    (
        "offers",
        {
            "plan": "Free revisit tomorrow 3-5 pm, or half the price back",
            "options": [
                {"kind": "free_redo", "terms": "revisit tomorrow 3-5 pm and a floor clean"},
                {"kind": "partial_refund"},
            ],
        },
    ),
    ("customer-response", {"choice": "free_redo"}),
    ("prevention", {"measure": "Hose routing is now on our checklist"}),
    ("satisfaction", {"score": 5, "comment": "Dry floor at last"}),
]


class Api:
    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    async def __call__(
        self, method: str, path: str, as_: str | None = STAFF, **kwargs: Any
    ) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.tokens[as_]}"
        return await self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture
async def api(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    staff_tokens: dict[str, str],
) -> AsyncIterator[Api]:
    # The app and the worker on the service's own pool (it acts for no shop unasked), as in
    # production; the test's `pool` (the first shop's) reads and writes rows directly.
    service = await postgres.connect(settings.database_url or "", max_size=8)
    ctx = Context(settings, client=dev_env.client, pool=service)
    transport = httpx.ASGITransport(app=create_app(ctx))
    try:
        async with (
            build_worker(dev_env.client, service, settings),
            httpx.AsyncClient(transport=transport, base_url="http://api") as client,
        ):
            yield Api(client, staff_tokens)
    finally:
        await service.close()


def refusal(response: httpx.Response, status: int) -> str:
    """The problem's detail, after checking it is problem+json with that status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == status and problem["type"] and problem["title"]
    return str(problem["detail"])


async def events(pool: asyncpg.Pool, case_id: str) -> list[tuple[str, str | None, str]]:
    """Each event's type, actor and data without times and ids: what a walk recorded."""
    rows = await pool.fetch(
        "SELECT type, data FROM complaint_events WHERE case_id = $1 ORDER BY seq", case_id
    )
    out = []
    for r in rows:
        data = json.loads(r["data"])
        for key in ("at", "case_id", "customer_id", "due_at", "targets", "care", "profile"):
            data.pop(key, None)
        out.append((r["type"], data.pop("by", None), json.dumps(data, sort_keys=True)))
    return out


async def test_a_full_walk_over_http_records_what_the_cli_walk_records(
    api: Api, dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    opened = await api("POST", "/cases", json=NEW_CASE | {"phone": phone()})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    assert opened.headers["location"] == f"/cases/{case_id}"
    assert opened.json()["due_at"].endswith("+09:00"), "times in the shop's offset"
    for path, body in WALK:
        answered = await api("POST", f"/cases/{case_id}/{path}", json=body)
        assert answered.status_code == 200, (path, answered.text)
        assert answered.json()["case_id"] == case_id
    assert answered.json()["status"] == "closed"
    shown = (await api("GET", f"/cases/{case_id}")).json()
    assert (shown["status"], shown["rating"], shown["version"]) == ("closed", 5, 9)
    assert shown["opened_at"].endswith("+09:00")

    cli = Cli(dev_env, settings)
    cli.env["COMPLAINTS_STAFF"] = STAFF
    out = await cli(
        "open", *(a for k, v in NEW_CASE.items() for a in (f"--{k}", v)), "--phone", phone()
    )
    cli_case = re.search(r"opened case ([\w-]+)", out).group(1)
    await cli("apologize", cli_case, WALK[0][1]["what"])
    await cli("empathize", cli_case, WALK[1][1]["customer_words"])
    await cli("analyze", cli_case, WALK[2][1]["cause"], "--fault", "ours")
    await cli(
        "offer",
        cli_case,
        WALK[3][1]["plan"],
        "--option",
        "free_redo=revisit tomorrow 3-5 pm and a floor clean",
        "--option",
        "partial_refund",
    )
    await cli("answer", cli_case, "--choose", "free_redo")
    await cli("prevent", cli_case, WALK[5][1]["measure"])
    await cli("rate", cli_case, "5", "--comment", "Dry floor at last")

    over_http, from_cli = await events(pool, case_id), await events(pool, cli_case)
    assert over_http == from_cli
    assert {by for _, by, _ in over_http} == {STAFF}, "the token's staff member on every event"
    assert len(await event_types(pool, case_id)) == 9

    listed = await api("GET", "/cases", params={"status": "closed", "limit": 200})
    assert case_id in [c["case_id"] for c in listed.json()["cases"]]
    assert (await api("GET", "/reports", as_=STAFF)).status_code == 403
    assert (await api("GET", "/reports", as_=MANAGER)).json()["closed"] >= 2
    csv = await api("GET", "/exports/cases.csv", as_=MANAGER, params={"status": "closed"})
    assert csv.headers["content-type"].startswith("text/csv") and case_id in csv.text


async def test_roles_are_enforced_and_a_refused_action_stores_nothing(
    api: Api, pool: asyncpg.Pool
) -> None:
    opened = await api("POST", "/cases", as_=INTAKE, json=NEW_CASE | {"phone": phone()})
    assert opened.status_code == 201, "an intake system may open cases"
    case_id = opened.json()["case_id"]
    assert (
        refusal(await api("POST", f"/cases/{case_id}/apology", as_=INTAKE, json=WALK[0][1]), 403)
    ) == "Test Intake is intake: only staff, managers and the owner may act on a case"
    assert refusal(await api("GET", f"/cases/{case_id}", as_=INTAKE), 403)
    for path, body in WALK[:3]:
        assert (await api("POST", f"/cases/{case_id}/{path}", json=body)).status_code == 200
    before = await event_types(pool, case_id)
    override = {
        "plan": "The owner apologizes in person",
        "options": [{"kind": "formal_apology"}],  # outside a compensation case's policy
        "override_reason": "Regular customer",
    }
    detail = refusal(await api("POST", f"/cases/{case_id}/offers", json=override), 403)
    assert detail == "Test Staff is staff: only the owner may offer outside the policy (override)"
    withdrawn = await api("POST", f"/cases/{case_id}/withdrawal", json={"reason": "settled"})
    assert "only managers and the owner may withdraw a case" in refusal(withdrawn, 403)
    assert await event_types(pool, case_id) == before, "nothing stored"
    assert "needs a staff token" in refusal(await api("GET", "/cases", as_=None), 401)
    bad = await api("GET", "/cases", as_=None, headers={"Authorization": "Bearer cmp_nope"})
    assert "unknown or revoked" in refusal(bad, 401) and bad.headers["www-authenticate"]
    assert (await api("POST", f"/cases/{case_id}/offers", as_=OWNER, json=override)).is_success
    types = await event_types(pool, case_id)
    assert types[-2:] == ["policy_overridden", "resolution_offered"]
    rows = await pool.fetch(
        "SELECT data->>'by' AS by FROM complaint_events WHERE case_id = $1 ORDER BY seq", case_id
    )
    assert [r["by"] for r in rows][-2:] == [OWNER, OWNER]
    assert (
        await api("POST", f"/cases/{case_id}/withdrawal", as_=MANAGER, json={"reason": "x"})
    ).is_success


async def test_the_cli_and_the_api_refuse_the_same_things_in_the_same_words(
    api: Api, dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    cli.env["COMPLAINTS_STAFF"] = STAFF
    opened = await api("POST", "/cases", json=NEW_CASE | {"phone": phone()})
    case_id = opened.json()["case_id"]

    async def both(status: int, http: tuple[str, dict[str, Any]], *argv: str) -> str:
        path, body = http
        over_http = refusal(await api("POST", f"/cases/{case_id}/{path}", json=body), status)
        line = await cli(*argv, ok=False)
        assert line == f"complaints: error: {over_http}"
        return over_http

    assert "waiting for apologize, not analyze cause" in await both(
        409, ("cause", {"cause": "x", "fault": "ours"}), "analyze", case_id, "x", "--fault", "ours"
    )
    # argv cannot carry a NUL, so the API's own check of free text stands alone here
    nul = refusal(await api("POST", f"/cases/{case_id}/apology", json={"what": "a\u0000"}), 422)
    assert nul.startswith("what: contains the control character U+0000")
    assert "only the owner may offer outside the policy" in await both(
        403,
        ("offers", {"plan": "p", "options": [{"kind": "full_refund"}], "override_reason": "r"}),
        "offer",
        case_id,
        "p",
        "--option",
        "full_refund",
        "--override",
        "r",
    )
    # the API names the field; the words after it are the CLI's
    cash = {"plan": "p", "options": [{"kind": "cash"}]}
    unknown_kind = refusal(await api("POST", f"/cases/{case_id}/offers", json=cash), 422)
    line = await cli("offer", case_id, "p", "--option", "cash", ok=False)
    assert unknown_kind.startswith("options.0.kind: unknown remedy 'cash'; known: free_redo")
    assert line == "complaints: error: " + unknown_kind.removeprefix("options.0.kind: ")
    unknown = refusal(await api("POST", "/cases/nosuch1/apology", json={"what": "Sorry"}), 404)
    assert unknown == "no case 'nosuch1': check the id with `complaints list`"
    assert await cli("apologize", "nosuch1", "Sorry", ok=False) == f"complaints: error: {unknown}"
    assert refusal(await api("GET", "/cases/nosuch1"), 404) == unknown
    missing = refusal(await api("POST", f"/cases/{case_id}/apology", json={}), 422)
    assert missing == "what: Field required"
    stray = await api("POST", f"/cases/{case_id}/apology", json={"what": "x", "by": "boss"})
    assert "by: Extra inputs are not permitted" in refusal(stray, 422)
    await api("POST", f"/cases/{case_id}/withdrawal", as_=MANAGER, json={"reason": "over"})
    ended = refusal(await api("POST", f"/cases/{case_id}/apology", json={"what": "x"}), 409)
    assert ended.startswith(f"case {case_id} is withdrawn on ") and "KST" in ended


async def test_an_idempotency_key_names_one_case(api: Api) -> None:
    key = {"Idempotency-Key": f"order-{uuid.uuid4().hex[:8]}"}
    body = NEW_CASE | {"phone": phone()}
    first = await api("POST", "/cases", json=body, headers=dict(key))
    again = await api("POST", "/cases", json=body, headers=dict(key))
    assert first.json()["case_id"] == again.json()["case_id"]
    other = await api("POST", "/cases", json=body | {"what": "Another"}, headers=dict(key))
    assert "already opened case" in refusal(other, 409)


async def test_staff_are_added_listed_and_revoked_from_the_cli(
    api: Api, dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    cli.env.pop("COMPLAINTS_STAFF")  # the database connection is all `staff` needs
    name = f"Kim Minji {uuid.uuid4().hex[:4]}"
    out = await cli("staff", "add", name, "--role", "staff")
    token = out.strip().splitlines()[-1]
    assert re.fullmatch(r"cmp_[\w-]{40,}", token), out
    api.tokens[name] = token
    assert (await api("GET", "/cases", as_=name)).status_code == 200
    assert name in await cli("staff", "list")
    assert "exists already" in await cli("staff", "add", name, "--role", "owner", ok=False)
    await cli("staff", "revoke", name)
    assert "unknown or revoked" in refusal(await api("GET", "/cases", as_=name), 401)
    cli.env["COMPLAINTS_STAFF"] = name
    assert "was revoked on" in await cli("list", ok=False)
    cli.env["COMPLAINTS_STAFF"] = "Nobody Here"
    assert "names no staff member 'Nobody Here'" in await cli("list", ok=False)


async def test_a_delay_told_over_http_or_from_the_cli_moves_the_due_time(
    api: Api, dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    cli.env["COMPLAINTS_STAFF"] = STAFF
    opened = await api("POST", "/cases", json=NEW_CASE | {"phone": phone()})
    case_id = opened.json()["case_id"]
    due = datetime.fromisoformat(opened.json()["due_at"])
    until = due + timedelta(hours=3)
    body = {"until": until.isoformat(), "reason": "The technician is ill today"}
    moved = await api("POST", f"/cases/{case_id}/delay", json=body)
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["due_at"]) == until
    assert moved.json()["recorded"] == ["delay_recorded"]
    naive = refusal(
        await api("POST", f"/cases/{case_id}/delay", json=body | {"until": "2030-01-01T10:00"}), 422
    )
    assert naive.startswith("until: ")
    # A time no later than the due one: the same words from both doors, nothing stored.
    earlier = (until - timedelta(hours=1)).astimezone(settings.zone)
    over_http = refusal(
        await api("POST", f"/cases/{case_id}/delay", json=body | {"until": earlier.isoformat()}),
        409,
    )
    assert "give a later time" in over_http
    line = await cli("delay", case_id, "x", "--until", f"{earlier:%Y-%m-%d %H:%M}", ok=False)
    assert line == f"complaints: error: {over_http}"
    bad = await cli("delay", case_id, "x", "--until", "tomorrow", ok=False)
    assert (
        bad == "complaints: error: --until: 'tomorrow' is not a time; write e.g. 2026-12-08 15:00"
    )
    later = (until + timedelta(hours=2)).astimezone(settings.zone)
    out = await cli("delay", case_id, "Still ill", "--until", f"{later:%Y-%m-%d %H:%M}")
    assert "delay recorded" in out and "tell the customer yourself" in out, out
    shown = (await api("GET", f"/cases/{case_id}")).json()
    assert (shown["delays"], shown["delay_compensation"]["kind"]) == (2, "delay_discount")
    assert (await event_types(pool, case_id)).count("delay_recorded") == 2

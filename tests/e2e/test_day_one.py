"""What a shop meets on its first day, through both doors on the real servers: staff see
whom to call, a refused open stores nothing, a known customer keeps their name, a Korean
idempotency key names one case from either door, and refusals name fields as typed."""

import asyncio
import json
import re
import uuid

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from infra.settings import Settings
from tests.e2e import test_api as over_http
from tests.e2e.test_api import NEW_CASE, Api, refusal
from tests.e2e.test_cli import Cli
from tests.helpers import INTAKE, STAFF
from worker import build_worker

pytestmark = pytest.mark.db
api = over_http.api  # the API over the dev server, with a worker


def a_phone() -> tuple[str, str]:
    """A fresh mobile number as staff type it, and as it is stored (E.164)."""
    # 010-7xxx: every such number exists (010-597x to 010-599x do not)
    middle, last = 7000 + uuid.uuid4().int % 1000, uuid.uuid4().int % 10000
    return f"010-{middle:04d}-{last:04d}", f"+8210{middle:04d}{last:04d}"


def opening(name: str, phone: str, what: str = "The cake arrived crushed") -> list[str]:
    return [
        "open",
        *("--name", name, "--phone", phone, "--channel", "phone"),
        *("--motive", "compensation", "--what", what),
    ]


async def customers(pool: asyncpg.Pool, stored: str) -> list[tuple[str, str | None]]:
    rows = await pool.fetch("SELECT id, name FROM customers WHERE phone = $1", stored)
    return [(r["id"], r["name"]) for r in rows]


async def test_staff_see_whom_to_call_in_show_and_the_api_and_intake_does_not(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, api: Api
) -> None:
    typed, stored = a_phone()
    cli = Cli(dev_env, settings)
    cli.env["COMPLAINTS_STAFF"] = STAFF
    opened = await cli(*opening("Kim Minji", typed))
    case_id = re.search(r"opened case ([\w-]+)", opened).group(1)

    shown = await cli("show", case_id)
    assert f"customer  Kim Minji   {typed}" in shown
    as_data = json.loads(await cli("show", case_id, "--json"))
    assert as_data["customer"] == {"name": "Kim Minji", "phone": stored}
    assert as_data["customer_id"].startswith("cus-")

    over_http = await api("GET", f"/cases/{case_id}")
    assert over_http.status_code == 200, over_http.text
    assert over_http.json()["customer"] == {"name": "Kim Minji", "phone": stored}
    assert "Kim Minji" not in (await api("GET", f"/cases/{case_id}", as_=INTAKE)).text
    refusal(await api("GET", f"/cases/{case_id}", as_=INTAKE), 403)


async def test_a_refused_open_stores_nothing_and_a_known_phone_keeps_its_name(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    typed, stored = a_phone()
    other_typed, other_stored = a_phone()
    key = f"order-{uuid.uuid4().hex[:8]}"
    cli = Cli(dev_env, settings)
    async with build_worker(dev_env.client, pool, settings):
        await cli(*opening("Kim Minji", typed), "--key", key)
        [(customer_id, _)] = await customers(pool, stored)

        # The same key with another customer is refused: neither number is written.
        refused = await cli(*opening("Someone Else", other_typed), "--key", key, ok=False)
        assert "already opened case" in refused and "with other details" in refused
        assert await customers(pool, other_stored) == []
        # ... nor is the known customer renamed by a refused request.
        await cli(*opening("Kim Renamed", typed, "Another thing"), "--key", key, ok=False)
        assert await customers(pool, stored) == [(customer_id, "Kim Minji")]

        # An accepted open under another name keeps the name on file and says so.
        out = await cli(*opening("Minji K.", typed, "The candles were missing"))
        assert "on file under another name, which was kept" in out
        assert await customers(pool, stored) == [(customer_id, "Kim Minji")]
        out = await cli(*opening("Kim Min-ji", typed, "The box was wet"), "--rename")
        assert "kept" not in out
        assert await customers(pool, stored) == [(customer_id, "Kim Min-ji")]


async def test_two_opens_racing_with_one_key_store_only_the_winners_customer(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, api: Api
) -> None:
    """The same new key sent twice at once with other details: one case, one 409, and the
    refused request's customer is not on file (the key's openings go one at a time)."""
    key = f"race-{uuid.uuid4().hex[:8]}"
    phones = [a_phone() for _ in range(2)]
    bodies = [
        NEW_CASE | {"name": f"Racer {i}", "phone": typed, "channel": "phone", "what": f"Try {i}"}
        for i, (typed, _) in enumerate(phones)
    ]
    answers = await asyncio.gather(
        *(api("POST", "/cases", json=b, headers={"Idempotency-Key": key}) for b in bodies)
    )
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    won = next(i for i, a in enumerate(answers) if a.status_code == 201)
    assert [len(await customers(pool, stored)) for _, stored in phones] == [
        1 if i == won else 0 for i in range(2)
    ]


async def test_a_korean_key_names_one_case_through_both_doors(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, api: Api
) -> None:
    typed, _ = a_phone()
    key = f"주문-{uuid.uuid4().hex[:6]}"
    decomposed = key.replace("주", "\u110c\u116e")  # the same key as a Mac may type it
    cli = Cli(dev_env, settings)
    out = await cli(*opening("Park Jiho", typed), "--key", decomposed)
    case_id = re.search(r"opened case ([\w-]+)", out).group(1)
    body = NEW_CASE | {"name": "Park Jiho", "phone": typed, "channel": "phone"}
    body |= {"what": "The cake arrived crushed"}
    answered = await api("POST", "/cases", json=body, headers={"Idempotency-Key": key.encode()})
    assert answered.status_code == 201, answered.text
    assert answered.json()["case_id"] == case_id
    assert answered.json()["already_open"] is True
    rows = await pool.fetchval(
        "SELECT count(*) FROM complaint_cases WHERE customer_id ="
        " (SELECT customer_id FROM complaint_cases WHERE case_id = $1)",
        case_id,
    )
    assert rows == 1


async def test_refusals_name_the_field_as_the_user_typed_it(
    dev_env: WorkflowEnvironment, settings: Settings, api: Api
) -> None:
    typed, _ = a_phone()
    cli = Cli(dev_env, settings)
    assert await cli(*opening("Kim", typed, "   "), ok=False) == (
        "complaints: error: --what: must not be empty"
    )
    disguised = await cli(*opening("Kim \u202eijniM", typed), ok=False)
    assert disguised.startswith("complaints: error: --name: contains the bidi control U+202E")
    assert await cli(*opening("Kim", typed), "--key", "  ", ok=False) == (
        "complaints: error: --key: the idempotency key must not be empty"
    )
    body = NEW_CASE | {"phone": typed, "what": ""}
    assert refusal(await api("POST", "/cases", json=body), 422).startswith("what:")

"""Two shops on one deployment, each sealed from the other: every API route, CLI command and
staff page given shop B's credentials and shop A's case (or customer, staff, report, export,
rulebook, calendar) answers "no such" exactly as for an id nobody has, and changes nothing.
The cases are generated from the route tables, so a new route cannot be forgotten. Under
the application's filters, the database's row-level security holds on its own.

Shop A is the first shop (the one the session's staff belong to); shop B is added here by an
operator, with its own owner and staff (one of whom has the same name as a member of A)."""

import asyncio
import inspect
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from fastapi.routing import APIRoute
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from app import cases, sessions
from app import shops as app_shops
from app.context import Context
from app.identity import Actor, Role
from app.refusals import TooMany
from cli.parser import Commands, parser
from domain.phone import normalize_phone
from infra import postgres
from infra.case_ids import new_case_id
from infra.links import OPT_OUT, link_signer
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP, is_shop_id
from pages import routes as page_routes
from store import scope
from tests.api_server import served
from tests.conftest import free_port
from tests.e2e.test_api import NEW_CASE, WALK
from tests.e2e.test_cli import Cli
from tests.helpers import MANAGER, OWNER, STAFF, add_staff
from worker import build_worker

pytestmark = pytest.mark.db

B_OWNER, B_MANAGER = "Choi Yuna", "Han Jisoo"
# B's staff member of the same name as a member of shop A (two people, one in each shop),
# by the key their token has in Shops.tokens.
B_STAFF = f"{STAFF} of B"
OPERATOR = Actor("Operator Lim", Role.OPERATOR)

# Every API route that names a case, with a body it would accept: the test fails when a
# route is added that is not here.
CASE_ROUTES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("get", "/cases/{case_id}"): None,
    **{("post", f"/cases/{{case_id}}/{path}"): body for path, body in WALK},
    ("post", "/cases/{case_id}/delay"): {
        "until": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "reason": "The part arrives on Thursday",
    },
    ("post", "/cases/{case_id}/withdrawal"): {"reason": "Settled in the shop"},
}


def a_phone() -> str:
    # 010-2000 to 010-4999: every such number exists
    return f"010-{2000 + uuid.uuid4().int % 3000:04d}-{uuid.uuid4().int % 10000:04d}"


@dataclass
class Shops:
    url: str
    b: str  # shop B's id
    tokens: dict[str, str]  # shop A's members and shop B's, by name (B_STAFF: B's STAFF)
    a_case: str  # shop A's case, apologized for
    a_phone: str  # its customer's
    pool: asyncpg.Pool  # the service's own: no shop unless a task acts for one
    ctx: Context
    cli: Cli

    async def call(
        self, who: str, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            return await client.request(
                method,
                path,
                json=body,
                headers={"Authorization": f"Bearer {self.tokens[who]}"},
            )


@pytest.fixture(scope="module")
async def shops(
    dev_env: WorkflowEnvironment, database_url: str, staff_tokens: dict[str, str]
) -> AsyncIterator[Shops]:
    service = await postgres.connect(database_url, max_size=8)  # fails closed without a shop
    port = free_port()
    settings = Settings(
        task_queue=f"complaints-{uuid.uuid4().hex[:8]}",
        database_url=database_url,
        language="en",
        api_port=port,
        public_url=f"http://127.0.0.1:{port}",
    )
    ctx = Context(settings, client=dev_env.client, pool=service)
    b = (await app_shops.add(ctx, OPERATOR, "Shop B")).shop_id
    tokens = dict(staff_tokens)
    with scope.shop(b):
        tokens |= {
            B_OWNER: await add_staff(service, B_OWNER, "owner"),
            B_MANAGER: await add_staff(service, B_MANAGER, "manager"),
            B_STAFF: await add_staff(service, STAFF, "staff"),
        }
    a_staff = staff_tokens[STAFF]
    try:
        async with served(ctx), build_worker(dev_env.client, service, settings):
            phone = a_phone()
            async with httpx.AsyncClient(base_url=settings.public_url, timeout=30) as client:
                auth = {"Authorization": f"Bearer {a_staff}"}
                opened = await client.post("/cases", json=NEW_CASE | {"phone": phone}, headers=auth)
                assert opened.status_code == 201, opened.text
                a_case = opened.json()["case_id"]
                path, body = WALK[0]
                done = await client.post(f"/cases/{a_case}/{path}", json=body, headers=auth)
                assert done.status_code == 200, done.text
            cli = Cli(dev_env, settings)
            yield Shops(settings.public_url, b, tokens, a_case, phone, service, ctx, cli)
    finally:
        await service.close()


def _same(answer: httpx.Response, *ids: str) -> tuple[int, str]:
    text = answer.text
    for case_id in ids:
        text = text.replace(case_id, "<id>")
    return answer.status_code, re.sub(r'"instance":"[^"]*"', "", text)


async def _a_case_as_it_is(shops: Shops) -> dict[str, Any]:
    seen = await shops.call(STAFF, "GET", f"/cases/{shops.a_case}")
    assert seen.status_code == 200, seen.text
    found: dict[str, Any] = seen.json()
    return found


async def test_every_case_route_answers_another_shops_case_as_an_unknown_one(
    shops: Shops,
) -> None:
    app = create_app(shops.ctx)
    named = {
        (method, path)
        for path, ops in app.openapi()["paths"].items()
        if "{case_id}" in path
        for method in ops
    }
    assert named == set(CASE_ROUTES), "a route naming a case is missing from CASE_ROUTES"
    before = await _a_case_as_it_is(shops)
    for (method, path), body in CASE_ROUTES.items():
        for who in (B_OWNER, B_STAFF):  # B's staff member of the same name as A's too
            theirs = await shops.call(who, method, path.format(case_id=shops.a_case), body)
            nobodys_id = new_case_id()
            nobodys = await shops.call(who, method, path.format(case_id=nobodys_id), body)
            if who == B_OWNER:  # a staff member's role refusal comes first, for any id
                assert theirs.status_code == 404, (method, path, theirs.text)
            assert _same(theirs, shops.a_case) == _same(nobodys, nobodys_id), (method, path)
    assert await _a_case_as_it_is(shops) == before  # nothing changed in shop A


async def test_every_other_route_shows_and_changes_only_the_callers_shop(shops: Shops) -> None:
    app = create_app(shops.ctx)
    others = {
        (method, path)
        for path, ops in app.openapi()["paths"].items()
        if "{case_id}" not in path
        for method in ops
    }
    checked: set[tuple[str, str]] = {("get", "/health"), ("get", "/ready")}  # no shop's data

    async def b(method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        checked.add((method, path.split("?")[0]))
        return await shops.call(B_OWNER, method.upper(), path, body)

    # What B reads holds none of A's.
    for path in ("/cases", "/reports", "/exports/cases.csv", "/rules", "/rules/changes"):
        answer = await b("get", path)
        assert answer.status_code == 200, (path, answer.text)
        assert shops.a_case not in answer.text and shops.a_phone not in answer.text, path
    assert (await b("get", "/reports")).json()["opened"] == 0
    # What B writes lands in B: A's rulebook, calendar and customer stay as they were.
    a_rules = await shops.call(OWNER, "GET", "/rules")
    changes = [
        ("patch", "/rules", {"rules": {"language": "ko"}}),
        ("post", "/calendar/hours", {"days": "mon-fri", "periods": "11:00-15:00,17:00-22:00"}),
        ("post", "/calendar/closed-every", {"days": "2nd,4th mon"}),
        ("post", "/calendar/closures", {"day": "2031-05-02", "reason": "B's own day off"}),
        (
            "post",
            "/calendar/openings",
            {"day": "2031-05-05", "hours": "10:00-14:00", "reason": "x"},
        ),
    ]
    for method, path, body in changes:
        answer = await b(method, path, body)
        assert answer.status_code in (200, 201), (path, answer.text)
    assert (await shops.call(OWNER, "GET", "/rules")).json() == a_rules.json()
    # A's customer's phone in B: B's own customer, A's consents untouched.
    with scope.shop(FIRST_SHOP):
        a_consents = await shops.pool.fetchval("SELECT count(*) FROM customer_consents")
    answer = await b("post", "/consents", {"phone": shops.a_phone, "given": True})
    assert answer.status_code in (200, 201), answer.text
    answer = await b("post", "/visits", {"phone": shops.a_phone, "name": "Someone in B"})
    assert answer.status_code in (200, 201), answer.text
    with scope.every_shop():
        rows = await shops.pool.fetch(
            "SELECT shop_id, name FROM customers WHERE id IN "
            "(SELECT customer_id FROM complaint_cases WHERE case_id = $1) "
            "OR shop_id = $2",
            shops.a_case,
            shops.b,
        )
    assert {r["shop_id"] for r in rows} == {FIRST_SHOP, shops.b}
    with scope.shop(FIRST_SHOP):
        assert await shops.pool.fetchval("SELECT count(*) FROM customer_consents") == a_consents
    # A's staff are nobody in B; B's new case opens in B.
    answer = await b("post", "/sign-in-links", {"name": MANAGER})
    assert answer.status_code == 404, answer.text
    answer = await b("post", "/cases", NEW_CASE | {"phone": shops.a_phone})
    assert answer.status_code == 201, answer.text
    b_case = answer.json()["case_id"]
    assert (await shops.call(STAFF, "GET", f"/cases/{b_case}")).status_code == 404
    assert checked | {("post", "/visits"), ("post", "/consents")} >= others, (
        f"routes not checked across shops: {sorted(others - checked)}"
    )


async def test_the_database_keeps_shops_apart_when_a_query_forgets_its_filter(
    shops: Shops,
) -> None:
    tables = [
        r["relname"]
        for r in await shops.pool.fetch(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r'"
        )
    ]
    assert {"complaint_cases", "complaint_events", "customers", "staff", "rulebook"} <= set(tables)
    for table in tables:
        # The service's role with no shop: nothing at all.
        assert await shops.pool.fetchval(f'SELECT count(*) FROM "{table}"') == 0, table
        with scope.shop(shops.b):  # B, with no WHERE: B's rows only
            foreign = await shops.pool.fetchval(
                f'SELECT count(*) FROM "{table}" WHERE shop_id IS DISTINCT FROM $1', shops.b
            )
        assert foreign == 0, table
    with scope.shop(shops.b), pytest.raises(asyncpg.InsufficientPrivilegeError):
        await shops.pool.execute(  # a row written for another shop is refused
            "INSERT INTO calendar_closures (day, reason, shop_id) VALUES ('2031-01-01', 'x', $1)",
            FIRST_SHOP,
        )
    with scope.shop(shops.b):
        moved = await shops.pool.execute(
            "UPDATE complaint_cases SET status = 'closed' WHERE case_id = $1", shops.a_case
        )
    assert moved == "UPDATE 0"


async def test_the_cli_acts_for_one_shop_and_knows_no_other_shops_case(shops: Shops) -> None:
    cli = shops.cli
    cli.env |= {"COMPLAINTS_STAFF": B_OWNER, "COMPLAINTS_SHOP": ""}
    p = parser()
    commands = next(a for a in p._actions if isinstance(a, Commands))
    naming_a_case = []
    for name, arguments in list(commands._arguments.items()):
        sub = commands._name_parser_map[name]
        arguments(sub)
        if any(a.dest == "case_id" for a in sub._actions):
            naming_a_case.append(name)
    extra = {
        "apologize": ["sorry"],
        "empathize": ["she was upset"],
        "analyze": ["a loose part", "--fault", "ours"],
        "offer": ["a plan", "--option", "full_refund"],
        "answer": ["--choose", "full_refund"],
        "prevent": ["a checklist"],
        "rate": ["5"],
        "delay": ["--until", "2031-01-01T10:00:00+09:00", "part on its way"],
        "withdraw": ["settled"],
        "show": [],
    }
    assert set(naming_a_case) == set(extra), "a command naming a case is missing here"
    before = await _a_case_as_it_is(shops)
    for name in naming_a_case:
        theirs = await cli(name, shops.a_case, *extra[name], ok=False)
        nobodys_id = new_case_id()
        nobodys = await cli(name, nobodys_id, *extra[name], ok=False)
        assert "no" in theirs and "case" in theirs, theirs
        assert theirs.replace(shops.a_case, "<id>") == nobodys.replace(nobodys_id, "<id>"), name
    assert await _a_case_as_it_is(shops) == before
    listed = await cli("list")
    assert shops.a_case not in listed
    staff = await cli("staff", "list")
    assert B_OWNER in staff and OWNER not in staff and MANAGER not in staff
    # A name in both shops: the CLI asks which.
    cli.env["COMPLAINTS_STAFF"] = STAFF
    refused = await cli("list", ok=False)
    assert "COMPLAINTS_SHOP" in refused and shops.b in refused, refused
    cli.env["COMPLAINTS_SHOP"] = shops.b
    assert shops.a_case not in await cli("list")
    cli.env["COMPLAINTS_SHOP"] = FIRST_SHOP
    assert shops.a_case in await cli("list")


async def test_forgetting_a_phone_in_one_shop_leaves_the_other_shops_customer(
    shops: Shops,
) -> None:
    phone = a_phone()
    opened = {}
    for who in (STAFF, B_OWNER):
        answer = await shops.call(who, "POST", "/cases", NEW_CASE | {"phone": phone})
        assert answer.status_code == 201, answer.text
        opened[who] = answer.json()["case_id"]
    cli = shops.cli
    cli.env |= {"COMPLAINTS_STAFF": MANAGER, "COMPLAINTS_SHOP": FIRST_SHOP}
    await cli("forget", phone)
    a_seen = (await shops.call(STAFF, "GET", f"/cases/{opened[STAFF]}")).json()
    b_seen = (await shops.call(B_OWNER, "GET", f"/cases/{opened[B_OWNER]}")).json()
    assert a_seen["customer"] is None
    assert b_seen["customer"]["name"] == NEW_CASE["name"], b_seen


@asynccontextmanager
async def _signed_in(shops: Shops, name: str, shop: str) -> AsyncIterator[httpx.AsyncClient]:
    """A staff member's browser, signed in through a link of their shop."""
    with scope.shop(shop):
        link = await sessions.sign_in_link(shops.ctx, name)
    async with httpx.AsyncClient(base_url=shops.url, timeout=30) as client:
        answer = await client.post(urlsplit(link).path, headers={"Origin": shops.url})
        assert answer.status_code == 303, answer.text
        yield client


async def test_every_staff_page_of_a_case_answers_another_shops_case_as_an_unknown_one(
    shops: Shops,
) -> None:
    named = {
        (method.lower(), route.path)
        for route in page_routes.router.routes
        if isinstance(route, APIRoute) and "{case_id}" in route.path
        for method in route.methods
    }
    assert named == {
        ("get", "/staff/cases/{case_id}"),
        ("get", "/staff/cases/{case_id}/photos/{photo_id}"),
        ("post", "/staff/cases/{case_id}/{action}"),
    }, "a page naming a case is not checked here"
    actions = [*re.findall(r'case "(\w+)":', inspect.getsource(page_routes._act)), "consent"]
    assert len(actions) >= 10
    before = await _a_case_as_it_is(shops)
    async with _signed_in(shops, STAFF, shops.b) as b:  # B's member named as A's
        csrf = sessions.csrf_token(b.cookies[page_routes.COOKIE])
        inbox = await b.get("/staff/")
        assert inbox.status_code == 200 and shops.a_case not in inbox.text
        nobodys_id = new_case_id()
        asked = [("get", "/staff/cases/{case_id}", None)]
        asked.append(("get", f"/staff/cases/{{case_id}}/photos/{uuid.uuid4()}", None))
        for action in actions:
            form = {"csrf": csrf, "what": "sorry", "consent": "yes", "score": "5"}
            asked.append(("post", f"/staff/cases/{{case_id}}/{action}", form))
        for method, path, form in asked:
            theirs = await b.request(method, path.format(case_id=shops.a_case), data=form)
            nobodys = await b.request(method, path.format(case_id=nobodys_id), data=form)
            assert theirs.status_code == 404, (path, theirs.status_code)
            assert _same(theirs, shops.a_case) == _same(nobodys, nobodys_id), path
    async with _signed_in(shops, B_MANAGER, shops.b) as b:
        for path in ("/staff/reports", "/staff/exports/cases.csv", "/staff/notifications"):
            seen = await b.get(path)
            assert seen.status_code == 200 and shops.a_case not in seen.text, path
    assert await _a_case_as_it_is(shops) == before


async def test_a_shops_public_form_opens_its_case_in_that_shop_alone(shops: Shops) -> None:
    async def listed(who: str) -> set[str]:
        answer = await shops.call(who, "GET", "/cases?limit=200")
        assert answer.status_code == 200, answer.text
        return {c["case_id"] for c in answer.json()["cases"]}

    before_a, before_b = await listed(STAFF), await listed(B_OWNER)
    async with httpx.AsyncClient(base_url=shops.url, timeout=30) as browser:
        shown = await browser.get(f"/c/new/{shops.b}")
        assert shown.status_code == 200
        # Reached through a QR code: the form says whose it is; the first shop's does not.
        assert '<p class="shop-name">Shop B</p>' in shown.text
        assert "shop-name" not in (await browser.get("/c/new")).text
        assert (await browser.get("/c/new/zzzz-zzzz")).status_code == 404  # no such shop
        form = {
            "name": "Seo Dahye",
            "phone": a_phone(),
            "what": "The cream had turned",
            "motive": "compensation",
            "key": uuid.uuid4().hex,
        }
        refused = await browser.post(f"/c/new/{shops.b}", data=form | {"phone": "12"})
        assert refused.status_code == 422 and "Shop B" in refused.text  # the form again, named
        sent = await browser.post(f"/c/new/{shops.b}", data=form)
        assert sent.status_code == 303, sent.text
        status = await browser.get(sent.headers["location"])  # the customer's own page
        assert status.status_code == 200, status.text
    opened = await listed(B_OWNER) - before_b
    assert len(opened) == 1
    assert await listed(STAFF) == before_a  # nothing new in shop A
    with scope.every_shop():
        shop = await shops.pool.fetchval(
            "SELECT shop_id FROM complaint_cases WHERE case_id = $1", opened.pop()
        )
    assert shop == shops.b


async def test_an_operator_adds_shops_and_no_one_else_may(shops: Shops) -> None:
    cli = shops.cli
    name = f"Operator {uuid.uuid4().hex[:4]}"
    cli.env |= {"COMPLAINTS_SHOP": ""}
    await cli("staff", "add", name, "--role", "operator")  # the trust line: the database
    cli.env["COMPLAINTS_STAFF"] = name
    added = (await cli("shop", "add", "Mapo branch")).strip().splitlines()
    shop = added[-1]
    assert is_shop_id(shop) and "--shop " + shop in added[0], added
    assert "Mapo branch" in await cli("shop", "list")
    # Its owner, added for that shop, sees an empty shop of their own.
    await cli("staff", "add", "Bae Owner", "--role", "owner", "--shop", shop)
    cli.env |= {"COMPLAINTS_STAFF": "Bae Owner"}
    assert shops.a_case not in await cli("list")
    refused = await cli("shop", "add", "Another", ok=False)
    assert "only operators may administer the shops" in refused, refused
    # The operator sees no shop's cases.
    cli.env["COMPLAINTS_STAFF"] = name
    refused = await cli("list", ok=False)
    assert "operator" in refused, refused


async def test_an_opt_out_link_withdraws_consent_in_its_customers_shop(shops: Shops) -> None:
    phone = a_phone()
    given = await shops.call(B_OWNER, "POST", "/consents", {"phone": phone, "given": True})
    assert given.status_code in (200, 201), given.text
    with scope.shop(shops.b):
        customer = await shops.pool.fetchval(
            "SELECT id FROM customers WHERE phone = $1", normalize_phone(phone, "KR")
        )
    token = link_signer(shops.ctx.settings).issue(
        customer, OPT_OUT, timedelta(days=30), datetime.now(UTC)
    )
    async with httpx.AsyncClient(base_url=shops.url, timeout=30) as browser:
        page = await browser.get(f"/c/{token}/stop")
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None, page.text
        done = await browser.post(f"/c/{token}/stop", data={"csrf": csrf.group(1)})
        assert done.status_code == 303 and done.headers["location"].endswith("done=done")
    with scope.shop(shops.b):
        opted_out = await shops.pool.fetchval(
            "SELECT opted_out_at IS NOT NULL FROM customers WHERE id = $1", customer
        )
    assert opted_out, "the customer of shop B opted out through their link"


async def test_a_shop_past_its_openings_a_minute_is_refused_and_the_others_are_not(
    shops: Shops,
) -> None:
    limited = Context(
        shops.ctx.settings.model_copy(update={"shop_openings_per_minute": 2}),
        client=await shops.ctx.client(),
        pool=shops.pool,
    )
    noisy = (await app_shops.add(limited, OPERATOR, "A busy shop")).shop_id
    quiet = (await app_shops.add(limited, OPERATOR, "A quiet shop")).shop_id
    while datetime.now(UTC).second % 10 > 6:  # counted per ten seconds: all in one
        await asyncio.sleep(0.5)

    async def open_for(shop: str) -> str:
        actor = Actor("Intake robot", Role.INTAKE, shop=shop)
        opened = await cases.open_case(
            limited, actor, name="Jeon Minho", phone=a_phone(), channel="web",
            motive="compensation", what="Burnt bread",
        )  # fmt: skip
        return opened.case_id

    await open_for(noisy)  # 2 a minute: one in ten seconds
    for _ in range(3):
        with pytest.raises(TooMany, match=r"more than 2 cases a minute"):
            await open_for(noisy)
    assert await open_for(quiet)  # another shop opens on
    with scope.shop(noisy):
        assert await shops.pool.fetchval("SELECT count(*) FROM complaint_cases") == 1
        # The first refusal counted; the rest read the window and wrote nothing.
        assert await shops.pool.fetchval("SELECT max(hits) FROM intake_limits") == 2


async def test_each_shops_case_runs_by_its_own_shops_rulebook(shops: Shops) -> None:
    changed = await shops.call(
        B_OWNER, "PATCH", "/rules", {"rules": {"response_target": "48h", "target_mode": "wall"}}
    )
    assert changed.status_code == 200, changed.text
    due = {}
    for who in (STAFF, B_OWNER):
        opened = await shops.call(who, "POST", "/cases", NEW_CASE | {"phone": a_phone()})
        assert opened.status_code == 201, opened.text
        due[who] = datetime.fromisoformat(opened.json()["due_at"]) - datetime.now(UTC)
    hours = {who: left / timedelta(hours=1) for who, left in due.items()}
    assert 47.9 < hours[B_OWNER] <= 48, hours  # B's rulebook, read by the worker for B's case
    assert hours[STAFF] < 47, hours  # A's is A's own

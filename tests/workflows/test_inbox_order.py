"""The inbox reorders when a case escalates, through the real worker on the time-skipping
server and PostgreSQL's read model, as the staff page shows it: a breach keeps the case on
top (its fresh response window would sink it if the list went by due time alone), and a
second decline moves a case waiting at the bottom to the top, to the owner."""

import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import httpx
import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from app import cases, sessions
from app.cases import start_case
from app.context import Context
from app.identity import Actor, Role
from app.inbox import inbox, inbox_filter
from domain.model import Motive
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from pages.routes import COOKIE
from tests.helpers import OWNER, eventually, open_command, skip_time, workflow_id
from worker import build_worker

pytestmark = pytest.mark.db
ME = Actor(OWNER, Role.OWNER, shop=FIRST_SHOP)


@pytest.fixture
def tag() -> str:
    return f"io{uuid.uuid4().hex[:6]}"


@pytest.fixture
async def ended(ts_env: WorkflowEnvironment, tag: str) -> AsyncIterator[list[str]]:
    """The test's cases, ended after it (a case left running holds the server's clock)."""
    opened: list[str] = []
    yield opened
    for case_id in opened:
        with contextlib.suppress(RPCError):
            await ts_env.client.get_workflow_handle(workflow_id(case_id)).terminate("test over")


async def test_an_escalated_case_moves_up_the_inbox(
    ts_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    tag: str,
    ended: list[str],
) -> None:
    # The worker's rulebook: an angry customer is answered within 10 hours, others within 12.
    settings = settings.model_copy(
        update={
            "response_target": timedelta(hours=12),
            "response_targets": {Motive.ANGER: timedelta(hours=10)},
            "first_response_targets": {},
        }
    )
    ctx = Context(settings, client=ts_env.client, pool=pool)
    first, second, declined = f"{tag}a", f"{tag}b", f"{tag}c"
    link = await sessions.sign_in_link(ctx, OWNER)
    session = await sessions.sign_in(ctx, link.rsplit("/", 1)[-1], "test")
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with (
        build_worker(ts_env.client, pool, settings),
        httpx.AsyncClient(
            transport=transport, base_url="http://pages", cookies={COOKIE: session.token}
        ) as page,
    ):

        async def shown() -> list[str]:
            """The case ids in the inbox page's order (only this test's cases)."""
            answer = await page.get("/staff/", params={"case_id": tag})
            assert answer.status_code == 200
            return re.findall(r'class="cid" href="/staff/cases/([0-9a-z]+)"', answer.text)

        async def now_shows(expected: list[str]) -> None:
            assert await shown() == expected

        async def levels() -> dict[str, tuple[int, datetime | None]]:
            found = await inbox(ctx, ME, inbox_filter(case_id=tag))
            return {r.case_id: (r.escalation_level, r.response_due_at) for r in found.rows}

        # The first due in 10 hours, the second in 12; the third walked to an offer, so
        # the customer decides and nothing is due from staff: it waits at the bottom.
        for case_id, motive in ((first, Motive.ANGER), (second, None), (declined, None)):
            command = open_command(case_id, motive or Motive.COMPENSATION)
            await start_case(ts_env.client, settings, command)
            ended.append(case_id)
        await cases.apologize(ctx, ME, declined, "Sorry the cake arrived crushed")
        await cases.empathize(ctx, ME, declined, "She said it was for her mother's birthday")
        await cases.analyze_cause(ctx, ME, declined, "The box was not strapped in", "ours")
        offer = [cases.remedy("free_redo", "a new cake by noon")]
        await cases.offer_resolution(ctx, ME, declined, "A new cake tomorrow", offer, None)
        await eventually(lambda: now_shows([first, second, declined]))

        # 10 h 30 min: the first breaches. Its fresh window ends after the second's due
        # time, and it stays on top, marked for the manager.
        await skip_time(ts_env, timedelta(hours=10, minutes=30))

        async def first_escalated() -> dict[str, tuple[int, datetime | None]]:
            rows = await levels()
            assert rows[first][0] == 1 and rows[second][0] == 0
            return rows

        rows = await eventually(first_escalated)
        assert await shown() == [first, second, declined]
        first_due, second_due = rows[first][1], rows[second][1]
        assert first_due is not None and second_due is not None and first_due > second_due

        # The customer declines twice: the third goes to the owner and to the top.
        await cases.record_customer_response(
            ctx, ME, declined, decline_reason="A new cake is not enough"
        )
        await cases.offer_resolution(ctx, ME, declined, "A new cake today", offer, None)
        await eventually(lambda: now_shows([first, second, declined]))
        await cases.record_customer_response(ctx, ME, declined, decline_reason="Still no")
        await eventually(lambda: now_shows([declined, first, second]))
        assert (await levels())[declined][0] == 2

        # The owner's view lists it; answered, a case leaves the top again.
        owner = await page.get("/staff/owner")
        assert declined in owner.text and first not in owner.text
        await cases.apologize(ctx, ME, first, "Sorry we kept you waiting")
        await eventually(lambda: now_shows([declined, second, first]))

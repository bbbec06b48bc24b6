"""A customer can be forgotten: after `complaints forget`, no table holds their name or
phone, the cases stay (anonymous) and reports still count them."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from app import customer_answers
from app.context import Context
from domain.model import Customer
from domain.redaction import REDACTED
from infra.links import link_signer
from infra.settings import Settings
from store.events import EventStore
from tests.e2e.test_cli import Cli
from tests.helpers import open_command, recorded
from worker import build_worker

pytestmark = pytest.mark.db

NAME, PHONE = "Forgettable Jang", "010-5555-6666"
# The name; the phone as stored (E.164); what the customer said and why the case ended.
TRACES = ["Forgettable", "1055556666", "hides the allergens", "Talked it through"]


async def everything(pool: asyncpg.Pool) -> str:
    """Every row of every table of the database, as text."""
    tables = await pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    dump = []
    for t in tables:
        rows = await pool.fetch(f'SELECT t::text AS row FROM "{t["tablename"]}" t')
        dump += [r["row"] for r in rows]
    return "\n".join(dump)


async def test_forget_leaves_no_trace_of_the_customer_and_reports_still_count_the_cases(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    await cli("visit", PHONE, "--name", NAME)
    async with build_worker(dev_env.client, pool, settings):
        opened = await cli(
            "open", "--name", NAME, "--phone", PHONE, "--channel", "phone",
            "--motive", "improvement", "--what", "The menu hides the allergens",
        )  # fmt: skip
        case_id = re.search(r"opened case ([\w-]+)", opened).group(1)
        await cli("withdraw", case_id, "Talked it through at the counter")
    # A case from before customer references: the name and phone inside its events.
    legacy_id = uuid.uuid4().hex[:8]
    legacy = open_command(legacy_id).model_copy(
        update={"customer_id": None, "customer": Customer(name=NAME, phone=PHONE)}
    )
    await EventStore(pool).append(legacy_id, recorded(legacy_id, [(legacy, datetime.now(UTC))]))
    before = json.loads(await cli("report", "--json"))
    stored = await everything(pool)
    assert all(trace in stored for trace in TRACES)

    said = await cli("forget", PHONE)
    assert "2 cases, 3 events and" in said, said  # the opening, the withdrawal, the legacy
    # The workflow's history still holds the texts (sealed); the customer's page shows the
    # case as forget left it.
    linked = settings.model_copy(update={"link_secret": SecretStr("forget-test")})
    ctx = Context(linked, client=dev_env.client, pool=pool)
    token = link_signer(linked).issue(case_id, "status", timedelta(days=1), datetime.now(UTC))
    async with build_worker(dev_env.client, pool, settings):
        page = await customer_answers.visit(ctx, token)
    assert page.state.summary == REDACTED and page.state.withdrawn_reason == REDACTED

    dump = await everything(pool)
    for trace in TRACES:
        assert trace not in dump, f"{trace!r} is still stored"
    after = json.loads(await cli("report", "--json"))
    assert after == before  # the anonymous facts stay
    statuses = await pool.fetch(
        "SELECT status FROM complaint_cases WHERE case_id = ANY($1)", [case_id, legacy_id]
    )
    assert sorted(r["status"] for r in statuses) == ["open", "withdrawn"]
    assert "rebuilt complaint_cases" in await cli("rebuild")  # redacted events still fold
    assert "nothing to forget" in await cli("forget", "010-9999-0000")
    mine = "SELECT c::text FROM complaint_cases c WHERE case_id = ANY($1) ORDER BY case_id"
    cases = await pool.fetch(mine, [case_id, legacy_id])
    assert "nothing to forget" in await cli("forget", PHONE)  # a retry changes nothing more
    assert await pool.fetch(mine, [case_id, legacy_id]) == cases

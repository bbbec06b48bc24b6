"""Retention: customers whose cases all closed before the period lose their name and phone
(dry run: listed, nothing changed); a recent case, an open one or a recent visit keeps them;
the daily schedule's workflow does the same through its activity."""

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.retention import RetentionActivities
from app.context import Context
from app.identity import actor_named
from app.retention import run
from domain.commands import Command, Withdraw
from infra import postgres
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from store import records
from store.events import EventStore
from store.retention import Retention, parse_retention
from tests.helpers import OWNER, add_staff, open_command, recorded
from tests.integration.fresh import fresh_database
from workflows import retention as sweep

pytestmark = pytest.mark.db

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_periods() -> None:
    assert parse_retention("3y") == Retention(years=3)
    assert parse_retention(" 400D ") == Retention(days=400)
    assert parse_retention("off") is None
    for bad in ("3", "0y", "3 years", "-1d"):
        with pytest.raises(ValueError):
            parse_retention(bad)
    assert Retention(years=3).cutoff(NOW) == datetime(2023, 12, 6, 12, 0, tzinfo=UTC)
    leap = datetime(2028, 2, 29, tzinfo=UTC)
    assert Retention(years=1).cutoff(leap) == datetime(2027, 2, 28, tzinfo=UTC)
    assert Retention(days=10).cutoff(NOW) == NOW - timedelta(days=10)


async def customer_with_case(
    pool: asyncpg.Pool, phone: str, closed: datetime | None, visited: datetime | None = None
) -> str:
    """A customer with one case opened a week before `closed` (still open when None); the
    case ends by its events, as forget folds them again."""
    customer_id = f"cus-{uuid.uuid4().hex[:12]}"
    await pool.execute(
        "INSERT INTO customers (id, phone, name, visits, last_visit_at) VALUES ($1, $2, $3, 1, $4)",
        customer_id, phone, f"Name {phone}", visited,
    )  # fmt: skip
    case_id = uuid.uuid4().hex[:8]
    opened = (closed or NOW) - timedelta(days=7)
    command = open_command(case_id).model_copy(update={"customer_id": customer_id})
    walk: list[tuple[Command, datetime]] = [(command, opened)]
    if closed:
        walk.append((Withdraw(reason="sorted at the counter"), closed))
    await EventStore(pool).append(case_id, recorded(case_id, walk))
    return customer_id


async def names_and_phones(pool: asyncpg.Pool) -> set[str]:
    rows = await pool.fetch("SELECT phone FROM customers WHERE forgotten_at IS NULL")
    return {r["phone"] for r in rows}


async def test_dry_run_then_real_run_on_a_case_older_than_the_period(
    server_url: str, settings: Settings
) -> None:
    async with fresh_database(server_url) as url:
        pool = await postgres.connect(url, max_size=4, scope=FIRST_SHOP)
        try:
            await add_staff(pool, OWNER, "owner")
            old = await customer_with_case(pool, "+821011110001", NOW - timedelta(days=4 * 365))
            await customer_with_case(pool, "+821011110002", NOW - timedelta(days=365))
            await customer_with_case(pool, "+821011110003", None)  # open for years? still open
            await customer_with_case(  # closed long ago, but came back last month
                pool, "+821011110004", NOW - timedelta(days=4 * 365), NOW - timedelta(days=30)
            )
            everyone = await names_and_phones(pool)
            ctx = Context(settings.model_copy(update={"database_url": url}), pool=pool)
            owner = await actor_named(ctx, OWNER)

            period, due = await run(ctx, owner, dry_run=True, now=NOW)
            assert period == "3y" and due is not None
            assert due.customers == [old] and due.cases == 1
            assert await names_and_phones(pool) == everyone  # a dry run changes nothing

            period, due = await run(ctx, owner, dry_run=False, now=NOW)
            assert due is not None and due.customers == [old]
            assert await names_and_phones(pool) == everyone - {"+821011110001"}
            assert await pool.fetchval("SELECT name FROM customers WHERE id = $1", old) is None
            assert await pool.fetchval("SELECT count(*) FROM complaint_cases") == 4  # cases stay

            _, again = await run(ctx, owner, dry_run=False, now=NOW)
            assert again is not None and again.customers == []  # done once

            off = Context(ctx.settings.model_copy(update={"retention": "off"}), pool=pool)
            assert await run(off, owner, dry_run=False, now=NOW) == ("off", None)
        finally:
            await pool.close()


async def test_the_schedule_runs_the_sweep_through_its_activity(
    dev_env: WorkflowEnvironment, server_url: str, settings: Settings
) -> None:
    async with fresh_database(server_url) as url:
        pool = await postgres.connect(url, max_size=4, scope=FIRST_SHOP)
        try:
            await customer_with_case(pool, "+821011110009", datetime.now(UTC) - timedelta(days=20))
            activities = RetentionActivities(pool, "10d")
            queue = settings.task_queue
            async with Worker(
                dev_env.client,
                task_queue=queue,
                workflows=[sweep.RetentionWorkflow],
                activities=[activities.apply_retention],
            ):
                dry = await dev_env.client.execute_workflow(
                    sweep.RetentionWorkflow.run, True, id=f"retention-{queue}-dry", task_queue=queue
                )
                assert dry["customers"] == 1 and dry["dry_run"] is True
                assert await names_and_phones(pool) == {"+821011110009"}
                done = await dev_env.client.execute_workflow(
                    sweep.RetentionWorkflow.run, False, id=f"retention-{queue}", task_queue=queue
                )
                assert done["customers"] == 1 and done["retention"] == "10d"
                assert await names_and_phones(pool) == set()
            schedule_id = f"complaints-retention-{queue}"
            assert await sweep.ensure_schedule(dev_env.client, queue, schedule_id)
            assert not await sweep.ensure_schedule(dev_env.client, queue, schedule_id)
            described = await dev_env.client.get_schedule_handle(schedule_id).describe()
            assert described.schedule.spec.intervals[0].every == timedelta(days=1)
            await dev_env.client.get_schedule_handle(schedule_id).delete()
        finally:
            await pool.close()


async def test_retention_keeps_the_minimal_record_under_the_legal_hold(
    server_url: str, settings: Settings
) -> None:
    """A retention period shorter than the 3-year records duty: the name and phone go, the
    minimal record of the case stays until 3 years after its closing, then goes. A shop not
    subject to the hold keeps no record."""
    async with fresh_database(server_url) as url:
        pool = await postgres.connect(url, max_size=4, scope=FIRST_SHOP)
        try:
            await add_staff(pool, OWNER, "owner")
            closed = NOW - timedelta(days=20)
            held = await customer_with_case(pool, "+821011110021", closed)
            (case_id,) = await case_ids_of(pool, held)
            holding = settings.model_copy(
                update={"database_url": url, "retention": "10d", "complaint_records_hold": True}
            )
            ctx = Context(holding, pool=pool)
            owner = await actor_named(ctx, OWNER)

            _, due = await run(ctx, owner, dry_run=False, now=NOW)
            assert due is not None and due.customers == [held] and due.records == 1
            assert await names_and_phones(pool) == set()
            texts = (  # the case's free texts went with the name and phone
                "SELECT count(*) FROM complaint_events e JOIN complaint_cases c USING (case_id)"
                " WHERE strpos(e.data::text || c.state::text, 'cake') > 0"
                " OR strpos(e.data::text || c.state::text, 'counter') > 0"
            )
            assert await pool.fetchval(texts) == 0
            kept = await records.held(pool, case_id)
            assert kept is not None and kept["closed_at"] == closed
            assert kept["hold_until"] == closed.replace(year=closed.year + 3)
            assert await records.destroy_expired(pool, NOW) == 0  # not before the hold ends
            assert await records.destroy_expired(pool, closed.replace(year=closed.year + 3)) == 1

            # The worker's activity passes the hold the same way
            other = await customer_with_case(pool, "+821011110022", closed)
            (other_case,) = await case_ids_of(pool, other)
            done = await RetentionActivities(pool, "10d", 3).apply_retention(False)
            assert done["customers"] == 1 and done["records_kept"] == 1
            assert await records.held(pool, other_case) is not None

            # Not subject to the hold: nothing kept
            loose = await customer_with_case(pool, "+821011110023", closed)
            (loose_case,) = await case_ids_of(pool, loose)
            free = Context(holding.model_copy(update={"complaint_records_hold": False}), pool=pool)
            _, due = await run(free, owner, dry_run=False, now=NOW)
            assert due is not None and due.customers == [loose] and due.records == 0
            assert await records.held(pool, loose_case) is None
        finally:
            await pool.close()


async def case_ids_of(pool: asyncpg.Pool, customer_id: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT case_id FROM complaint_cases WHERE customer_id = $1", customer_id
    )
    return [r["case_id"] for r in rows]

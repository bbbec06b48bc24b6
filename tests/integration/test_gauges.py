"""The operator's gauges: read from PostgreSQL, served on the worker's metrics endpoint from
the start (zeros included), and a lost database shows as `complaints_database_up 0`."""

import asyncio
import re
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from domain.commands import Apologize
from infra import postgres, telemetry
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP, new_shop_id
from store import health, scope, shops
from store.events import EventStore
from tests.conftest import free_port
from tests.helpers import open_command, recorded
from tests.integration.fresh import fresh_database
from worker import watch_gauges

pytestmark = pytest.mark.db


def scrape(port: int) -> dict[str, float]:
    """`name{labels}` -> value of every complaints_ sample on the endpoint."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as got:
        text = got.read().decode()
    found = {}
    for line in text.splitlines():
        match = re.match(r"^(complaints_\w+(?:\{[^}]*\})?) (\S+)$", line)
        if match:
            found[match[1]] = float(match[2])
    return found


def value(samples: dict[str, float], name: str, **labels: str) -> float:
    """The sample of `name` whose labels include `labels` (service labels only)."""
    for key, v in samples.items():
        metric, _, rest = key.partition("{")
        pairs = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if metric == name and all(pairs.get(k) == w for k, w in labels.items()):
            return v
    raise AssertionError(f"{name} {labels} not served: {sorted(samples)}")


async def open_case(pool: asyncpg.Pool, opened: datetime, apologized: bool = False) -> str:
    case_id = uuid.uuid4().hex[:8]
    walk = [(open_command(case_id), opened)]
    if apologized:
        walk.append((Apologize(what="Sorry"), opened + timedelta(minutes=30)))
    await EventStore(pool).append(case_id, recorded(case_id, walk))
    return case_id


async def test_gauges_count_overdue_cases_and_unsent_notices(server_url: str) -> None:
    port = free_port()
    runtime = telemetry.worker_runtime(Settings(metrics_port=port))
    gauges = telemetry.ServiceGauges(runtime.metric_meter)
    served = scrape(port)  # before any reading: present, the database not yet seen
    assert value(served, "complaints_database_up") == 0
    assert value(served, "complaints_worker_ready") == 0

    async with fresh_database(server_url) as url:
        pool = await postgres.connect(url, max_size=2, scope=FIRST_SHOP)
        try:
            gauges.show(await health.read(pool))  # an empty database: zeros, all present
            served = scrape(port)
            for name in ("complaints_cases_overdue", "complaints_notices_unsent"):
                assert value(served, name, shop=FIRST_SHOP) == 0, name
            assert value(served, "complaints_database_up") == 1

            now = datetime.now(UTC)
            late = await open_case(pool, now - timedelta(hours=3), apologized=True)
            await open_case(pool, now)  # due tomorrow
            await pool.execute(
                "UPDATE complaint_cases SET response_due_at = $2 WHERE case_id = $1",
                late,
                now - timedelta(hours=2),
            )
            first_event = await pool.fetchval(
                "SELECT event_id FROM complaint_events WHERE case_id = $1 AND seq = 1", late
            )
            for minutes, not_before, error in ((40, None, "HTTP 500"), (5, None, None),
                                               (1, now + timedelta(hours=8), None)):  # fmt: skip
                await pool.execute(
                    "INSERT INTO notifications (id, case_id, event_id, kind, recipient, message,"
                    " data, created_at, not_before, last_error)"
                    " VALUES ($1, $2, $3, 'escalated', 'staff', 'm', '{}', $4, $5, $6)",
                    uuid.uuid4(), late, first_event, now - timedelta(minutes=minutes),
                    not_before, error,
                )  # fmt: skip
            gauges.show(await health.read(pool))
            served = scrape(port)
            assert value(served, "complaints_cases_overdue", shop=FIRST_SHOP) == 1
            assert (
                7000
                < value(served, "complaints_cases_overdue_oldest_seconds", shop=FIRST_SHOP)
                < 7400
            )
            assert (
                value(served, "complaints_notices_unsent", shop=FIRST_SHOP) == 2
            )  # the held one waits
            assert value(served, "complaints_notices_held", shop=FIRST_SHOP) == 1
            assert value(served, "complaints_notices_failing", shop=FIRST_SHOP) == 1
            assert (
                2350
                < value(served, "complaints_notices_unsent_oldest_seconds", shop=FIRST_SHOP)
                < 2500
            )
            assert value(served, "complaints_first_response_p50_seconds") == 1800
            open_ = value(served, "complaints_cases_open", status="open", step="empathize")
            assert open_ == 1

            # The case moves on: its old (status, step) goes to 0, not stale at 1.
            await pool.execute(
                "UPDATE complaint_cases SET status = 'closed', response_due_at = NULL"
                " WHERE case_id = $1",
                late,
            )
            await pool.execute("UPDATE notifications SET sent_at = now()")
            gauges.show(await health.read(pool))
            served = scrape(port)
            assert value(served, "complaints_cases_open", status="open", step="empathize") == 0
            assert value(served, "complaints_cases_overdue", shop=FIRST_SHOP) == 0
            assert value(served, "complaints_notices_unsent", shop=FIRST_SHOP) == 0
            assert value(served, "complaints_notices_unsent_oldest_seconds", shop=FIRST_SHOP) == 0

            # Another shop's overdue case counts too, read as the worker reads: its pool
            # acts for no shop, the gauges for every shop.
            other = new_shop_id()
            await shops.add(pool, other, "another shop")
            with scope.shop(other):
                theirs = await open_case(pool, now - timedelta(hours=3), apologized=True)
                await pool.execute(
                    "UPDATE complaint_cases SET response_due_at = $2 WHERE case_id = $1",
                    theirs,
                    now - timedelta(hours=2),
                )
            workers = await postgres.connect(url, max_size=1)
            try:
                gauges.show(await health.read(workers))
            finally:
                await workers.close()
            served = scrape(port)
            assert value(served, "complaints_cases_overdue", shop=other) == 1  # named by shop
            assert value(served, "complaints_cases_overdue", shop=FIRST_SHOP) == 0
        finally:
            await pool.close()

    # The database gone (dropped above): the loop says so and goes on.
    pool = await postgres.connect(server_url, max_size=1, scope=FIRST_SHOP)
    watching = asyncio.create_task(watch_gauges(pool, gauges, every=0.05))
    try:
        await pool.close()  # every reading now fails
        for _ in range(100):
            if value(scrape(port), "complaints_database_up") == 0:
                break
            await asyncio.sleep(0.05)
        assert value(scrape(port), "complaints_database_up") == 0
        assert not watching.done()
    finally:
        watching.cancel()

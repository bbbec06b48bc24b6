"""answered_steps (migration 0022): one row per step staff answered, written by the append,
by a rebuild and by the migration's backfill, and counted by the period report. Each way
must give what the cases' states hold, which the report parsed from JSON before.

A database of its own: a rebuild here replaces every case of the shop.
"""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain.commands import Apologize, CheckClock, Command, Empathize
from domain.events import RecordedEvent
from domain.model import Fault, RemedyKind
from infra import postgres
from infra.shop_ids import FIRST_SHOP, new_shop_id
from store import migrations, scope, shops
from store.events import EventStore
from store.read_model import rebuild_read_model
from store.report import period_report
from tests.helpers import appending_as_before_0022, open_command, recorded
from tests.integration.fresh import fresh_database
from tests.integration.test_reports import walk

pytestmark = pytest.mark.db
MAY = datetime(2036, 5, 1, tzinfo=UTC)
JUNE = datetime(2036, 6, 1, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)

# The report's step figures as it computed them before 0022: from each case's JSON state.
FROM_STATES = """
SELECT d->>'step' AS step, count(*) AS answered,
       count(*) FILTER (WHERE (d->>'at')::timestamptz <= (d->>'due_at')::timestamptz)
         AS within_target
FROM complaint_cases c, json_array_elements(c.state->'done') d
WHERE (d->>'at')::timestamptz >= $1 AND (d->>'at')::timestamptz < $2
GROUP BY 1
"""
ROWS_FROM_STATES = """
SELECT c.case_id, d->>'step' AS step, (d->>'at')::timestamptz AS answered_at,
       (d->>'due_at')::timestamptz AS due_at, c.shop_id
FROM complaint_cases c, json_array_elements(c.state->'done') d ORDER BY 1, 2
"""
ROWS = "SELECT case_id, step, answered_at, due_at, shop_id FROM answered_steps ORDER BY 1, 2"


@pytest.fixture(scope="module")
async def own_url(server_url: str) -> AsyncIterator[str]:
    async with fresh_database(server_url, migrated=False) as url:
        yield url


@pytest.fixture
async def fresh_url(server_url: str) -> AsyncIterator[str]:
    async with fresh_database(server_url, migrated=False) as url:
        yield url


@pytest.fixture(scope="module")
async def db(own_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await postgres.connect(own_url, max_size=4, scope=FIRST_SHOP)
    await migrations.migrate(pool)
    yield pool
    await pool.close()


def a_case(start: datetime, script: list[tuple[timedelta, Command]]) -> list[RecordedEvent]:
    case_id = uuid.uuid4().hex[:8]
    opening: list[tuple[timedelta, Command]] = [(timedelta(0), open_command(case_id)), *script]
    return recorded(case_id, [(command, start + offset) for offset, command in opening])


def on_time(start: datetime) -> list[RecordedEvent]:
    """Opened, then the five steps each within its target (and the customer's choice)."""
    return a_case(start, walk("Late delivery", Fault.OURS, RemedyKind.FREE_REDO, 30 * M))


def late(start: datetime) -> list[RecordedEvent]:
    """The apology after its 24 hours (escalated first), the empathy within its own."""
    return a_case(
        start,
        [
            (25 * H, CheckClock()),
            (26 * H, Apologize(what="Sorry we kept you waiting")),
            (27 * H, Empathize(customer_words="We waited a whole day")),
        ],
    )


async def figures(pool: asyncpg.Pool, start: datetime, end: datetime) -> dict[str, Any]:
    report = await period_report(pool, start, end)
    return {s.step: (s.answered, s.within_target) for s in report.per_step if s.answered}


async def from_states(pool: asyncpg.Pool, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        r["step"]: (r["answered"], r["within_target"])
        for r in await pool.fetch(FROM_STATES, start, end)
    }


async def same_as_states(pool: asyncpg.Pool) -> list[tuple[Any, ...]]:
    """The table's rows, checked against the states' (and the report against the JSON)."""
    rows = [tuple(r) for r in await pool.fetch(ROWS)]
    assert rows == [tuple(r) for r in await pool.fetch(ROWS_FROM_STATES)]
    assert await figures(pool, MAY, JUNE) == await from_states(pool, MAY, JUNE)
    return rows


@pytest.fixture(scope="module")
async def appended(db: asyncpg.Pool) -> list[list[RecordedEvent]]:
    """Cases appended every way an append runs: one event at a time from the copy this
    process kept, one at a time read from the row each time, and a whole walk at once."""
    kept, each_read, at_once = on_time(MAY + 2 * H), late(MAY + 50 * H), on_time(MAY + 9 * H)
    # Opened in April, apologized in May: that step is May's.
    crossing = a_case(JUNE - 31 * 24 * H - 2 * H, [(3 * H, Apologize(what="Sorry"))])
    # Answered after the period: not May's.
    after = a_case(JUNE - 3 * H, [(4 * H, Apologize(what="Sorry"))])
    store = EventStore(db)
    for event in kept:
        await store.append(event.case_id, [event])
    for event in each_read:
        await EventStore(db).append(event.case_id, [event])
    for case in (at_once, crossing, after):
        await store.append(case[0].case_id, case)
    return [kept, each_read, at_once, crossing, after]


async def test_appends_store_each_answered_step_once_as_the_states_hold_it(
    db: asyncpg.Pool, appended: list[list[RecordedEvent]]
) -> None:
    rows = await same_as_states(db)
    assert len(rows) == 5 + 2 + 5 + 1 + 1
    may = await figures(db, MAY, JUNE)
    assert may["apologize"] == (4, 3)  # the late one outside its target
    assert may["empathize"] == (3, 3)
    assert may["show_prevention"] == (2, 2)


async def test_a_retried_append_writes_no_step_twice(
    db: asyncpg.Pool, appended: list[list[RecordedEvent]]
) -> None:
    before = await same_as_states(db)
    kept = appended[0]
    case_id = kept[0].case_id
    # The same batch again, from a fresh process (the row is read: all stored, nothing new),
    # and a batch overlapping what is stored, from a process whose copy the row moved past
    # (the write finds the row moved on and writes nothing; the read finds the events).
    assert await EventStore(db).append(case_id, kept) == 0
    stale = EventStore(db)
    behind = on_time(MAY + 70 * H)
    other = behind[0].case_id
    await stale.append(other, behind[:2])  # opened, apologized: a copy at version 2
    await EventStore(db).append(other, behind[2:4])  # another worker moves the row on
    assert await stale.append(other, behind[2:4]) == 0  # a retry from the stale copy
    assert await stale.append(other, behind[4:]) == len(behind) - 4
    rows = await same_as_states(db)
    assert len(rows) == len(before) + 5
    # The key holds it too, whatever a writer tries.
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.execute(
            "INSERT INTO answered_steps (case_id, step, answered_at, due_at)"
            " SELECT case_id, step, answered_at, due_at FROM answered_steps WHERE case_id = $1",
            case_id,
        )


async def test_a_rebuild_writes_the_steps_the_appends_wrote(
    db: asyncpg.Pool, appended: list[list[RecordedEvent]]
) -> None:
    before = await same_as_states(db)
    may = await figures(db, MAY, JUNE)
    await db.execute("DELETE FROM answered_steps WHERE step = 'apologize'")
    await db.execute("UPDATE answered_steps SET due_at = answered_at - interval '1 day'")
    assert await figures(db, MAY, JUNE) != may
    await rebuild_read_model(db, chunk=2, workers=2)  # folder processes, chunks of whole cases
    assert await same_as_states(db) == before
    await rebuild_read_model(db)  # all in one chunk, folded in this process
    assert await same_as_states(db) == before
    assert await figures(db, MAY, JUNE) == may


async def test_a_second_shops_steps_stay_in_its_own_report(
    db: asyncpg.Pool, appended: list[list[RecordedEvent]]
) -> None:
    first = await figures(db, MAY, JUNE)
    b = (await shops.add(db, new_shop_id(), "Shop B")).shop_id
    with scope.shop(b):
        case = on_time(MAY + 100 * H)
        await EventStore(db).append(case[0].case_id, case)
        assert await figures(db, MAY, JUNE) == {
            s: (1, 1)
            for s in (
                "apologize",
                "empathize",
                "analyze_cause",
                "offer_resolution",
                "show_prevention",
            )
        }
        assert {r["shop_id"] for r in await db.fetch(ROWS)} == {b}
    assert await figures(db, MAY, JUNE) == first
    assert b not in {r["shop_id"] for r in await db.fetch(ROWS)}
    await rebuild_read_model(db)  # the first shop's: the second's steps stay
    with scope.shop(b):
        assert len(await db.fetch(ROWS)) == 5
    with scope.every_shop():
        counted = await db.fetch("SELECT shop_id, count(*) AS n FROM answered_steps GROUP BY 1")
    assert {r["shop_id"] for r in counted} == {FIRST_SHOP, b}


async def test_a_rebuild_drops_the_steps_of_a_case_without_events(
    db: asyncpg.Pool, appended: list[list[RecordedEvent]]
) -> None:
    case = on_time(MAY + 120 * H)
    case_id = case[0].case_id
    await EventStore(db).append(case_id, case)
    count = "SELECT count(*) FROM answered_steps WHERE case_id = $1"
    assert await db.fetchval(count, case_id) == 5
    await db.execute("DELETE FROM complaint_events WHERE case_id = $1", case_id)
    await rebuild_read_model(db)  # the read model is what the events say: no such case
    assert await db.fetchval(count, case_id) == 0


async def test_the_migration_fills_the_steps_of_cases_stored_before_it(fresh_url: str) -> None:
    """Cases appended by the release before 0022; then 0022's backfill; then appends of
    both releases (a rolling upgrade: the older one through its own 34 arguments)."""
    pool = await postgres.connect(fresh_url, max_size=4, scope=scope.OWNER)
    try:
        await migrations.migrate(pool, up_to=21)
        one, two, three = on_time(MAY + 3 * H), late(MAY + 30 * H), on_time(MAY + 60 * H)
        with scope.shop(FIRST_SHOP):
            with appending_as_before_0022():
                for case in (one, two):
                    await EventStore(pool).append(case[0].case_id, case)
                await EventStore(pool).append(three[0].case_id, three[:3])
            stored = await from_states(pool, MAY, JUNE)
        assert [m.version for m in await migrations.migrate(pool, up_to=22)] == [22]
        with scope.shop(FIRST_SHOP):
            assert len(await same_as_states(pool)) == 5 + 2 + 2
            assert await figures(pool, MAY, JUNE) == stored
            with appending_as_before_0022():  # an older worker, still running
                await EventStore(pool).append(three[0].case_id, three[3:5])
            assert len(await same_as_states(pool)) == 5 + 2 + 4
            await EventStore(pool).append(three[0].case_id, three[5:])
            assert len(await same_as_states(pool)) == 5 + 2 + 5
    finally:
        await pool.close()

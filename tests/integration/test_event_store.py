"""The event store on real PostgreSQL: idempotent appends, a gap-free sequence, exact rebuilds."""

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError

from activities.store import (
    AppendBatch,
    EventStore,
    SequenceConflict,
    StoreActivities,
    rebuild_read_model,
)
from domain.commands import AnalyzeCause, Apologize, CheckClock, Empathize
from domain.events import RecordedEvent
from domain.model import Fault
from tests.helpers import event_types, open_command, recorded

pytestmark = pytest.mark.db
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def a_walk(case_id: str) -> list[RecordedEvent]:
    return recorded(
        case_id,
        [
            (open_command(case_id), T0),
            (Apologize(what="Sorry the boiler failed again"), T0 + timedelta(hours=1)),
            (CheckClock(), T0 + timedelta(hours=20)),
            (CheckClock(), T0 + timedelta(hours=26)),
            (
                Empathize(customer_words="We had no hot water for two days"),
                T0 + timedelta(hours=27),
            ),
            (
                AnalyzeCause(cause="A worn valve we missed", fault=Fault.OURS),
                T0 + timedelta(hours=28),
            ),
        ],
    )


async def test_a_replayed_append_writes_nothing_twice(pool: asyncpg.Pool, case_id: str) -> None:
    store = EventStore(pool, language="en")
    events = a_walk(case_id)
    assert await store.append(case_id, events[:3]) == 3
    assert await store.append(case_id, events[:3]) == 0  # the activity retried after a crash
    assert await store.append(case_id, events[:5]) == 2  # a retry overlapping new events
    assert await store.append(case_id, events) == 1
    assert await store.append(case_id, events) == 0
    assert len(await event_types(pool, case_id)) == len(events)
    notices = await pool.fetch("SELECT kind FROM notifications WHERE case_id = $1", case_id)
    assert sorted(r["kind"] for r in notices) == ["escalated", "response_due_soon"]
    stored = await store.case_state(case_id)
    assert stored is not None and stored.version == len(events)
    assert [e.event for e in await store.load(case_id)] == [e.event for e in events]


async def test_a_foreign_event_cannot_take_a_stored_or_skipped_seq(
    pool: asyncpg.Pool, case_id: str
) -> None:
    store = EventStore(pool)
    events = a_walk(case_id)
    await store.append(case_id, events[:2])
    impostor = events[1].model_copy(update={"event_id": uuid.uuid4()})
    with pytest.raises(SequenceConflict, match="seq 2 is held by"):
        await store.append(case_id, [impostor])
    with pytest.raises(SequenceConflict, match="claims seq 4, next is 3"):
        await store.append(case_id, [events[3]])
    assert len(await event_types(pool, case_id)) == 2  # the refused batches wrote nothing


async def test_rebuild_gives_the_same_rows(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    for _ in range(3):
        case = uuid.uuid4().hex[:8]
        await store.append(case, a_walk(case))
    before = [dict(r) for r in await pool.fetch("SELECT * FROM complaint_cases ORDER BY case_id")]
    await pool.execute("UPDATE complaint_cases SET status = 'corrupted'")
    cases = await rebuild_read_model(pool, chunk=2)  # small chunks cross case borders
    after = [dict(r) for r in await pool.fetch("SELECT * FROM complaint_cases ORDER BY case_id")]
    assert cases == len(before)
    assert after == before


async def test_data_postgresql_refuses_fails_once_without_retry_and_writes_nothing(
    pool: asyncpg.Pool, case_id: str
) -> None:
    """A NUL slipped past the door once and the append retried forever, wedging the case.
    Whatever gets past validation, a data error is final: the activity says so and the
    case keeps what it had."""
    store = EventStore(pool, language="en")
    walk = a_walk(case_id)
    await store.append(case_id, walk[:1])
    bad = walk[1].model_copy(
        update={"event": walk[1].event.model_copy(update={"what": "Sorry a\x00b"})}
    )
    with pytest.raises(ApplicationError) as refused:
        await StoreActivities(store).append_events(AppendBatch(case_id=case_id, events=[bad]))
    assert refused.value.non_retryable and refused.value.type == "Unstorable"
    assert "UntranslatableCharacterError" in refused.value.message
    assert await event_types(pool, case_id) == ["case_opened"]
    assert (await store.case_state(case_id)).version == 1
    assert await store.append(case_id, walk[1:2]) == 1  # the case is still usable

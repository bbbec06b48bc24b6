"""The event store on real PostgreSQL: idempotent appends, a gap-free sequence, exact rebuilds."""

import asyncio
import json
import os
import signal
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import psutil
import pytest
from temporalio.exceptions import ApplicationError

import store.events as store_module
from activities.store import AppendBatch, StoreActivities
from domain.commands import AnalyzeCause, Apologize, CheckClock, Empathize
from domain.effects import Voice
from domain.events import RecordedEvent
from domain.model import Customer, Fault
from domain.phone import normalize_phone
from store import photos, read_model, scope
from store.customers import CustomerDirectory
from store.events import EventStore, SequenceConflict
from store.folding import CASE_COLUMNS
from store.read_model import rebuild_read_model
from tests.helpers import case_row_locked, event_types, eventually, open_command, recorded

pytestmark = pytest.mark.db
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
PHONE = "010-5555-7777"


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
    store = EventStore(pool, Voice(language="en"))
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


async def read_rows(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """The read model's rows, each state as the JSON it holds (`forget` rewrites a state's
    text, with the same content, in another key order)."""
    rows = await pool.fetch(f"SELECT {CASE_COLUMNS} FROM complaint_cases ORDER BY case_id")
    return [dict(r) | {"state": json.loads(r["state"])} for r in rows]


@pytest.mark.parametrize("early", [True, False], ids=["folders-start-first", "folders-start-late"])
async def test_rebuild_gives_the_same_rows(
    pool: asyncpg.Pool, early: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folder processes start before the read where the table looks big, else once a
    second chunk shows there is more than one; both give the same rows."""
    monkeypatch.setattr(read_model, "EVENT_BYTES", 0 if early else 10**9)
    started = _recorded_starts(monkeypatch)
    closed: list[read_model._Folders] = []
    forks: list[int] = []
    close = read_model._Folders.close

    async def counted_close(self: read_model._Folders) -> None:
        forks.extend(c.pid for c in psutil.Process(self.process.pid).children())
        closed.append(self)
        await close(self)

    monkeypatch.setattr(read_model._Folders, "close", counted_close)
    store = EventStore(pool)
    for _ in range(3):
        case = uuid.uuid4().hex[:8]
        await store.append(case, a_walk(case))
    before = await read_rows(pool)
    await pool.execute("UPDATE complaint_cases SET status = 'corrupted'")
    cases = await rebuild_read_model(pool, chunk=2, workers=2)  # chunks cross case borders
    assert len(started) == 1 and closed == started  # started once, closed once
    assert len(started[0].folders) == 2 and len(forks) == 1  # one imported, one forked
    assert started[0].process.returncode == 0  # it waited for its fork
    assert not any(_alive(pid) for pid in forks)
    assert cases == len(before)
    assert await read_rows(pool) == before


async def test_data_postgresql_refuses_fails_once_without_retry_and_writes_nothing(
    pool: asyncpg.Pool, case_id: str
) -> None:
    """A NUL slipped past the door once and the append retried forever, wedging the case.
    Whatever gets past validation, a data error is final: the activity says so and the
    case keeps what it had."""
    store = EventStore(pool, Voice(language="en"))
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


async def appends_waiting(pool: asyncpg.Pool, at_least: int) -> None:
    async def waiting() -> None:
        with scope.owner():  # other sessions' waits show to their own user only
            count = await pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
        assert count >= at_least

    await eventually(waiting, timeout=20)


async def test_two_appends_racing_for_one_seq_store_one(pool: asyncpg.Pool, case_id: str) -> None:
    """Both read the case at version 2 and fold from it; the row lock orders their writes,
    and the second finds the case moved on: it reads again and is refused, writing nothing."""
    store = EventStore(pool, Voice(language="en"))
    events = a_walk(case_id)
    await store.append(case_id, events[:2])
    rival = events[2].model_copy(update={"event_id": uuid.uuid4()})
    async with case_row_locked(pool, case_id):
        racing = [
            asyncio.create_task(store.append(case_id, [events[2]])),
            asyncio.create_task(store.append(case_id, [rival])),
        ]
        await appends_waiting(pool, 2)
    outcomes = await asyncio.gather(*racing, return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["SequenceConflict", "int"]
    assert 1 in outcomes
    stored = await store.load(case_id)
    assert [e.seq for e in stored] == [1, 2, 3]
    assert stored[2].event_id in {events[2].event_id, rival.event_id}
    assert (await store.case_state(case_id)).version == 3


async def test_a_batch_retried_while_its_first_try_waits_is_stored_once(
    pool: asyncpg.Pool, case_id: str
) -> None:
    store = EventStore(pool, Voice(language="en"))
    events = a_walk(case_id)
    await store.append(case_id, events[:1])
    async with case_row_locked(pool, case_id):
        racing = [asyncio.create_task(store.append(case_id, events[1:4])) for _ in range(2)]
        await appends_waiting(pool, 2)
    assert sorted(await asyncio.gather(*racing)) == [0, 3]
    assert len(await event_types(pool, case_id)) == 4
    notices = await pool.fetch("SELECT kind FROM notifications WHERE case_id = $1", case_id)
    assert sorted(r["kind"] for r in notices) == ["escalated", "response_due_soon"]  # once each


async def test_two_openings_of_one_new_case_store_one(pool: asyncpg.Pool, case_id: str) -> None:
    """A new case has no row to lock yet: the events' key decides, and the loser reads again."""
    store = EventStore(pool)
    first, second = a_walk(case_id)[0], a_walk(case_id)[0]
    outcomes = await asyncio.gather(
        store.append(case_id, [first]), store.append(case_id, [second]), return_exceptions=True
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["SequenceConflict", "int"]
    assert len(await event_types(pool, case_id)) == 1
    assert (await store.case_state(case_id)).version == 1


async def test_a_refused_notice_leaves_the_case_as_it_was(pool: asyncpg.Pool, case_id: str) -> None:
    """Events, outbox and read model are one statement: when the notice cannot be written,
    neither are the events nor the case row."""
    store = EventStore(pool, Voice(language="en"))
    events = a_walk(case_id)
    await store.append(case_id, events[:2])
    refuse = f"refuse_notices_{case_id}"
    with scope.owner():  # the schema's owner alone changes it
        await pool.execute(
            f"CREATE FUNCTION {refuse}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.case_id = '{case_id}' THEN RAISE EXCEPTION 'no notices today' "
            "USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$"
        )
        await pool.execute(
            f"CREATE TRIGGER {refuse} BEFORE INSERT ON notifications "
            f"FOR EACH ROW EXECUTE FUNCTION {refuse}()"
        )
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            await store.append(case_id, events[2:4])  # the second check-clock warns
    finally:
        with scope.owner():
            await pool.execute(f"DROP TRIGGER {refuse} ON notifications")
            await pool.execute(f"DROP FUNCTION {refuse}()")
    assert len(await event_types(pool, case_id)) == 2
    assert (await store.case_state(case_id)).version == 2
    assert await store.append(case_id, events[2:4]) == 2  # and the retry stores it all
    assert (await store.case_state(case_id)).version == 4


async def test_readers_see_the_old_rows_until_a_rebuild_commits(pool: asyncpg.Pool) -> None:
    """Folded in worker processes, chunk by chunk, yet never an empty or half-built table."""
    store = EventStore(pool)
    for _ in range(4):
        case = uuid.uuid4().hex[:8]
        await store.append(case, a_walk(case))
    total = await pool.fetchval("SELECT count(*) FROM complaint_cases")
    await pool.execute("UPDATE complaint_cases SET status = 'corrupted'")
    seen: set[tuple[int, int]] = set()
    rebuilding = asyncio.create_task(rebuild_read_model(pool, chunk=3, workers=2))
    while not rebuilding.done():
        row = await pool.fetchrow(
            "SELECT count(*) AS n, count(*) FILTER (WHERE status = 'corrupted') AS old "
            "FROM complaint_cases"
        )
        seen.add((row["n"], row["old"]))
        await asyncio.sleep(0)
    assert await rebuilding == total
    assert seen <= {(total, total), (total, 0)}  # all old, or all new
    assert (total, total) in seen  # it was watched while it ran
    assert (
        await pool.fetchval("SELECT count(*) FROM complaint_cases WHERE status = 'corrupted'") == 0
    )


async def test_a_fold_that_fails_in_a_worker_fails_the_rebuild(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    case = uuid.uuid4().hex[:8]
    await store.append(case, a_walk(case))
    before = await pool.fetchval("SELECT count(*) FROM complaint_cases")
    broken = f"0-broken-{uuid.uuid4().hex[:6]}"  # sorts first: an apology before any opening
    apology = a_walk(broken)[1]
    await pool.execute(
        "INSERT INTO complaint_events (case_id, seq, event_id, type, data, occurred_at) "
        "VALUES ($1, 1, $2, $3, $4::jsonb, $5)",
        broken,
        uuid.uuid4(),
        apology.event.type,
        apology.event.model_dump_json(),
        apology.event.at,
    )
    try:
        with pytest.raises(RuntimeError, match="CaseNotOpen"):
            await rebuild_read_model(pool, chunk=3, workers=2)
    finally:
        await pool.execute("DELETE FROM complaint_events WHERE case_id = $1", broken)
    assert await pool.fetchval("SELECT count(*) FROM complaint_cases") == before


async def test_a_cancelled_rebuild_leaves_no_folder_running(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild stopped mid-way (Ctrl-C on the CLI) rolls back and takes its worker
    processes with it."""
    store = EventStore(pool)
    for _ in range(3):
        case = uuid.uuid4().hex[:8]
        await store.append(case, a_walk(case))
    before = await pool.fetchval("SELECT count(*) FROM complaint_cases")
    started = _recorded_starts(monkeypatch)
    folding = asyncio.Event()

    async def stuck(self: read_model._Folder, chunk: object) -> list[object]:
        folding.set()
        await asyncio.Event().wait()  # a chunk that takes forever
        return []

    monkeypatch.setattr(read_model._Folder, "fold", stuck)
    rebuilding = asyncio.create_task(rebuild_read_model(pool, chunk=2, workers=3))
    await asyncio.wait_for(folding.wait(), 20)
    forks = await _forks(started[0], 2)
    rebuilding.cancel()
    with pytest.raises(asyncio.CancelledError):
        await rebuilding
    assert len(started) == 1 and started[0].process.returncode is not None
    assert not any(_alive(pid) for pid in forks)
    assert await pool.fetchval("SELECT count(*) FROM complaint_cases") == before


async def test_a_folder_killed_mid_rebuild_fails_it_and_changes_nothing(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder process killed mid-rebuild (the OOM killer, an operator's kill -9): the
    rebuild fails with a plain reason, the read model keeps its rows, and no folder is left
    running."""
    store = EventStore(pool)
    for _ in range(3):
        case = uuid.uuid4().hex[:8]
        await store.append(case, a_walk(case))
    before = [dict(r) for r in await pool.fetch("SELECT * FROM complaint_cases ORDER BY case_id")]
    started = _recorded_starts(monkeypatch)
    fold = read_model._Folder.fold
    forks: list[int] = []

    async def killed_first(self: read_model._Folder, chunk: tuple[list[str], str]) -> object:
        if not forks:
            forks.extend(await _forks(started[0], 1))
            os.kill(forks[0], signal.SIGKILL)
            while _alive(forks[0]):
                await asyncio.sleep(0.01)
        return await fold(self, chunk)

    monkeypatch.setattr(read_model._Folder, "fold", killed_first)
    with pytest.raises(RuntimeError, match="a folder process of the rebuild died"):
        await rebuild_read_model(pool, chunk=2, workers=2)
    after = [dict(r) for r in await pool.fetch("SELECT * FROM complaint_cases ORDER BY case_id")]
    assert after == before
    assert started[0].process.returncode is not None


def _recorded_starts(monkeypatch: pytest.MonkeyPatch) -> list[read_model._Folders]:
    """Every start of the folders' process a rebuild makes, as it makes them."""
    started: list[read_model._Folders] = []
    start = read_model._Folders.start

    async def recorded(workers: int) -> read_model._Folders:
        started.append(await start(workers))
        return started[-1]

    monkeypatch.setattr(read_model._Folders, "start", recorded)
    return started


async def _forks(folders: read_model._Folders, n: int) -> list[int]:
    """The pids of the `n` folders forked once the first has imported the domain."""
    async with asyncio.timeout(20):
        while len(children := psutil.Process(folders.process.pid).children()) < n:
            await asyncio.sleep(0.01)
    return [c.pid for c in children]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# -- the copy a worker keeps ------------------------------------------------------------
def legacy_walk(case_id: str) -> list[RecordedEvent]:
    """Opened before customer references: the phone inside the case's state."""
    legacy = open_command(case_id).model_copy(
        update={"customer_id": None, "customer": Customer(name="Jang Forgets", phone=PHONE)}
    )
    return recorded(case_id, [(legacy, T0), (Apologize(what="Sorry"), T0 + timedelta(hours=1))])


async def test_a_legacy_case_forgotten_between_appends_stays_forgotten(
    pool: asyncpg.Pool, case_id: str
) -> None:
    """The worker keeps the case as it last wrote it, the customer's phone inside (a case
    from before references). `complaints forget` redacts the row in place, version
    unchanged: the next append must fold from the redacted row, or it writes the phone
    back from its copy."""
    store = EventStore(pool, Voice(language="en"))
    events = legacy_walk(case_id)
    await store.append(case_id, events[:1])
    assert case_id in store.kept
    rev = "SELECT rev FROM complaint_cases WHERE case_id = $1"
    before = await pool.fetchval(rev, case_id)
    await photos.add(pool, case_id, "image/png", b"\x89PNG\r\n\x1a\n-photo", 5)
    forgotten = await CustomerDirectory(pool).forget(normalize_phone(PHONE))
    assert forgotten.cases == 1
    assert await photos.listed(pool, case_id) == [], "the customer's photos go with them"
    assert await pool.fetchval(rev, case_id) not in (before, None)  # not only a new xmin
    assert await store.append(case_id, events[1:]) == 1
    row = await pool.fetchrow(
        "SELECT version, customer_phone, state::text AS state FROM complaint_cases "
        "WHERE case_id = $1",
        case_id,
    )
    assert row["version"] == 2
    assert row["customer_phone"] is None
    assert "Jang" not in row["state"] and "5555" not in row["state"]
    assert store.kept[case_id].state == await store.case_state(case_id)


async def test_a_case_appended_by_another_worker_is_read_again(
    pool: asyncpg.Pool, case_id: str
) -> None:
    """Ours keeps the case at version 2; another worker stores a rival seq 3. Ours' next
    batch fits its copy (seq 3), so only the statement's check of the row can refuse it:
    nothing is written, the row is read and the rival found."""
    ours, theirs = EventStore(pool, Voice(language="en")), EventStore(pool, Voice(language="en"))
    events = a_walk(case_id)
    await ours.append(case_id, events[:2])
    rival = events[2].model_copy(update={"event_id": uuid.uuid4()})
    await theirs.append(case_id, [*events[:2], rival])  # a retry of 1-2, then its seq 3
    with pytest.raises(SequenceConflict, match="seq 3 is held by"):
        await ours.append(case_id, [events[2]])
    assert [e.event_id for e in await ours.load(case_id)] == [
        *(e.event_id for e in events[:2]),
        rival.event_id,
    ]
    assert (await ours.case_state(case_id)).version == 3


async def test_a_forget_that_commits_while_an_append_waits_is_not_undone(
    pool: asyncpg.Pool, case_id: str
) -> None:
    """The append from the kept copy waits for the row behind `complaints forget`; forget
    commits; the append's check sees the new row version and folds from it."""
    store = EventStore(pool, Voice(language="en"))
    events = legacy_walk(case_id)
    await store.append(case_id, events[:1])
    async with case_row_locked(pool, case_id):  # forget waits first, the append behind it
        forgetting = asyncio.create_task(CustomerDirectory(pool).forget(normalize_phone(PHONE)))
        await appends_waiting(pool, 1)
        appending = asyncio.create_task(store.append(case_id, events[1:]))
        await appends_waiting(pool, 2)
    assert (await forgetting).cases == 1
    assert await appending == 1
    state = await pool.fetchval(
        "SELECT state::text FROM complaint_cases WHERE case_id = $1", case_id
    )
    assert "Jang" not in state and "5555" not in state
    assert (await store.case_state(case_id)).version == 2


async def test_a_row_rebuilt_between_appends_is_read_again(
    pool: asyncpg.Pool, case_id: str
) -> None:
    """A rebuild writes every row anew (and here the state by hand before it): the kept
    copy's token no longer matches, so the append folds from what is stored."""
    store = EventStore(pool, Voice(language="en"))
    events = a_walk(case_id)
    await store.append(case_id, events[:3])
    await pool.execute(
        "UPDATE complaint_cases"
        " SET state = jsonb_set(state::jsonb, '{summary}', '\"edited by hand\"')"
        " WHERE case_id = $1",
        case_id,
    )
    assert await store.append(case_id, events[3:4]) == 1
    assert (await store.case_state(case_id)).summary == "edited by hand"
    await rebuild_read_model(pool)
    assert await store.append(case_id, events[4:]) == 2
    state = await store.case_state(case_id)
    assert state.version == len(events)
    assert state.summary != "edited by hand"  # the rebuild folded the events; so did we


async def test_a_worker_keeps_a_bounded_number_of_cases(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "KEPT_CASES", 3)
    store = EventStore(pool, Voice(language="en"))
    ids = [uuid.uuid4().hex[:8] for _ in range(5)]
    for case in ids:
        await store.append(case, a_walk(case)[:2])
    assert list(store.kept) == ids[2:]  # the least recently used went first
    assert await store.append(ids[0], a_walk(ids[0])[2:]) == 4  # read again, then folded
    assert list(store.kept) == [*ids[3:], ids[0]]

"""The event store: append a case's events, its outbox notices and its read-model row in one
transaction, idempotent by event id and gap-free by sequence; load them back."""

import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg

from domain.effects import DEFAULT_VOICE, Voice, effects
from domain.events import EVENT_ADAPTER, RecordedEvent
from domain.model import CaseState
from store import cases
from store.connections import Conn
from store.folding import case_row, step_arrays


class SequenceConflict(Exception):
    """Another event already holds a sequence number this batch claims."""


# Failures no retry can fix. A lost connection or a restarting server is none of these:
# those are retried until PostgreSQL is back.
UNSTORABLE = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    UnicodeError,
)


# What an append needs before it can fold, when the worker holds no copy of the case (or
# one the row has moved past): the stored state and its row version's token. No lock: the
# write re-checks both under the row lock. Only a batch claiming seqs the case already has
# (a retry) also asks which events hold them (_STORED): events are append-only, so what it
# finds stays true.
_READ = (
    "SELECT state, xmin::text || '/' || coalesce(rev::text, '-') AS token"
    " FROM complaint_cases WHERE case_id = $1"
)
_STORED = "SELECT seq, event_id FROM complaint_events WHERE case_id = $1 AND seq = ANY($2)"
# The write: one call, one round trip; the function is store/sql/complaints_append.sql.
_WRITE = "SELECT complaints_append(" + ", ".join(f"${i}" for i in range(1, 38)) + ")"
_LOAD = "SELECT case_id, seq, event_id, data FROM complaint_events WHERE case_id = $1 ORDER BY seq"
_ATTEMPTS = 5  # reads that another append overtook before the write; one is the norm
# Copies a worker keeps: the cases staff are working on, each a parsed state (about 13 KB
# in memory), so the cache stays near 13 MB.
KEPT_CASES = 1000


@dataclass(frozen=True)
class _Copy:
    """A case as this process last wrote or read it: its state, and `token`, which names
    that very row version (its xmin and its random `rev`, set by
    store/sql/complaints_append.sql): any other write
    of the row (another worker's append, `complaints forget` redacting in place, a rebuild,
    a hand edit) replaces it."""

    token: str
    state: CaseState

    @property
    def version(self) -> int:
        return self.state.version


def _event_record(r: RecordedEvent) -> tuple[Any, ...]:
    return (r.case_id, r.seq, r.event_id, r.event.type, r.event.model_dump_json(), r.event.at)


def _columns(rows: list[tuple[Any, ...]], first: int, width: int) -> list[list[Any]]:
    """Rows turned into `width` arrays from column `first` on: one parameter per column,
    unnested by the statement, so a batch of any size is one statement."""
    return [[r[i] for r in rows] for i in range(first, first + width)]


# The voice as the rules give it now (the environment's settings with the owner's rulebook
# on top, read through a short cache: worker.voice_source).
VoiceSource = Callable[[], Awaitable[Voice]]


class EventStore:
    """A case's events, appended once each in sequence, with what they cause (the outbox's
    notices, the read model's row: domain.effects) in the same transaction; `voice` words
    the notices: a fixed one, or a source asked at each write (the rulebook's, which the
    owner may change while the worker runs)."""

    def __init__(self, pool: asyncpg.Pool, voice: Voice | VoiceSource = DEFAULT_VOICE) -> None:
        self.pool = pool
        self.voice = voice
        self.kept: OrderedDict[str, _Copy] = OrderedDict()  # least recently used first

    async def append(self, case_id: str, events: Sequence[RecordedEvent]) -> int:
        """Store `events` once: a retried batch writes nothing twice; returns how many were new.

        One round trip as a rule: the fold of the new events into the copy of the case this
        process kept from its last append, then one statement that writes events, outbox and
        read model together or not at all, and only if the case row is still the very
        version the copy came from. So appends to one case serialize, the sequence stays
        gap-free, and PostgreSQL stays the authority: where the row has moved on (another
        worker, `complaints forget` redacting in place, a rebuild) or no copy is kept, the
        row is read first (a retried batch ends there, having found its events).
        """
        if any(e.case_id != case_id for e in events):
            raise ValueError("every event in a batch must belong to its case")
        if not events:
            return 0
        copy = self.kept.pop(case_id, None)
        if copy is not None and events[0].seq != copy.version + 1:
            copy = None  # a retry, or the case moved on elsewhere: what is stored decides
        async with self.pool.acquire() as conn:
            for _ in range(_ATTEMPTS):
                if copy is None:
                    copy = await self._read(conn, case_id)
                version = copy.version if copy else 0
                claimed = [e.seq for e in events if e.seq <= version]
                stored: dict[int, UUID] = (
                    {r[0]: r[1] for r in await conn.fetch(_STORED, case_id, claimed)}
                    if claimed
                    else {}
                )
                new = self._new_events(case_id, version, stored, events)
                if not new:
                    self._keep(case_id, copy)
                    return 0
                copy = await self._write(conn, case_id, copy, new)
                if copy is not None:
                    self._keep(case_id, copy)
                    return len(new)
        raise SequenceConflict(f"case {case_id}: other appends kept overtaking this one")

    async def _read(self, conn: Conn, case_id: str) -> _Copy | None:
        row = await conn.fetchrow(_READ, case_id)
        if row is None:
            return None
        return _Copy(row["token"], CaseState.model_validate_json(row["state"]))

    def _keep(self, case_id: str, copy: _Copy | None) -> None:
        if copy is None:
            return
        self.kept[case_id] = copy
        self.kept.move_to_end(case_id)  # it may be back already: a concurrent append
        if len(self.kept) > KEPT_CASES:
            self.kept.popitem(last=False)

    def _new_events(
        self,
        case_id: str,
        version: int,
        stored: dict[int, UUID],
        events: Sequence[RecordedEvent],
    ) -> list[RecordedEvent]:
        """The events of the batch not stored yet; SequenceConflict if the batch does not
        fit the stored sequence (a seq held by another event, or a gap)."""
        for e in events:
            if e.seq <= version and stored.get(e.seq) != e.event_id:
                raise SequenceConflict(
                    f"case {case_id}: seq {e.seq} is held by event {stored.get(e.seq)}, "
                    f"not {e.event_id}"
                )
        new = [e for e in events if e.seq > version]
        for expected, e in enumerate(new, start=version + 1):
            if e.seq != expected:
                raise SequenceConflict(
                    f"case {case_id}: event {e.event_id} claims seq {e.seq}, next is {expected}"
                )
        return new

    async def _write(
        self, conn: Conn, case_id: str, copy: _Copy | None, new: list[RecordedEvent]
    ) -> _Copy | None:
        """Fold `new` into the copy (None: a case not stored yet) and store it all; the copy
        as written, or None when the row is no longer the copy's (nothing written)."""
        state = copy.state if copy else None
        voice = self.voice if isinstance(self.voice, Voice) else await self.voice()
        notices: list[tuple[Any, ...]] = []
        for e in new:
            state, outgoing = effects(state, e.event, voice)
            for i, (n, not_before) in enumerate(outgoing):
                notices.append(
                    (
                        uuid5(NAMESPACE_URL, f"{e.event_id}/{i}"),
                        e.event_id,
                        n.kind,
                        n.recipient,
                        n.message,
                        json.dumps(n.data),
                        e.event.at,
                        not_before,
                    )
                )
        assert state is not None
        records = [_event_record(e) for e in new]
        # The steps these events answered: `done` only grows, so they are the new state's
        # beyond the copy's (the function stores them without parsing the state).
        answered = state.done[len(copy.state.done) if copy else 0 :]
        try:
            token: str | None = await conn.fetchval(
                _WRITE,
                case_id,
                copy.version if copy else 0,
                copy.token if copy else None,
                *_columns(records, 1, 5),
                *_columns(notices, 0, 8),
                *case_row(state)[1:],  # the case id is the first argument already
                *step_arrays(answered),
            )
        except asyncpg.UniqueViolationError as err:
            if copy is None and err.constraint_name == "complaint_events_pkey":
                return None  # another first append of this case won the race: read again
            raise
        return _Copy(token, state) if token is not None else None

    async def load(self, case_id: str) -> list[RecordedEvent]:
        rows = await self.pool.fetch(_LOAD, case_id)
        return [
            RecordedEvent(
                event_id=r["event_id"],
                case_id=r["case_id"],
                seq=r["seq"],
                event=EVENT_ADAPTER.validate_json(r["data"]),
            )
            for r in rows
        ]

    async def case_state(self, case_id: str) -> CaseState | None:
        return await cases.case_state(self.pool, case_id)

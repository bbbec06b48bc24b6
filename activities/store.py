"""The event store: append events and project the read model in one transaction."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import asyncpg
import structlog
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.calendar import QuietHours
from domain.clock import staff_due_at
from domain.decider import evolve
from domain.events import EVENT_ADAPTER, EVENTS_ADAPTER, RecordedEvent
from domain.model import CaseState
from domain.notifications import CUSTOMER, Language, Notice, held_until, notices_for
from domain.policy import DEFAULT_ESCALATION_CONTACTS

log = structlog.get_logger(__name__)


class SequenceConflict(Exception):
    """Another event already holds a sequence number this batch claims."""


# Failures no retry can fix. A lost connection or a restarting server is none of these:
# those are retried until PostgreSQL is back.
UNSTORABLE = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    UnicodeError,
)


class AppendBatch(BaseModel):
    case_id: str
    events: list[RecordedEvent]


def case_row(state: CaseState) -> tuple[Any, ...]:
    """The read-model row of a state, in CASE_COLUMNS order."""
    return (
        state.case_id,
        state.status.value,
        state.stage,
        state.motive.value,
        state.channel.value,
        state.profile.tier.value,
        state.fault.value if state.fault else None,
        state.escalation_level,
        state.escalations,
        staff_due_at(state),
        state.opened_at,
        state.resolved_at,
        state.closed_at,
        state.rating,
        state.version,
        state.updated_at,
        state.customer.phone if state.customer else None,  # cases from before references
        state.customer_id,
        state.model_dump_json(exclude_defaults=True),  # a third smaller; defaults refill
    )


CASE_COLUMNS = (
    "case_id, status, step, motive, channel, tier, fault, escalation_level, escalations, "
    "response_due_at, opened_at, resolved_at, closed_at, rating, version, updated_at, "
    "customer_phone, customer_id, state"
)
_UPSERT_CASE = f"""
INSERT INTO complaint_cases ({CASE_COLUMNS})
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19::jsonb)
ON CONFLICT (case_id) DO UPDATE SET
  status=$2, step=$3, motive=$4, channel=$5, tier=$6, fault=$7, escalation_level=$8,
  escalations=$9, response_due_at=$10, opened_at=$11, resolved_at=$12, closed_at=$13,
  rating=$14, version=$15, updated_at=$16, customer_phone=$17, customer_id=$18,
  state=$19::jsonb
"""
_INSERT_EVENT = """
INSERT INTO complaint_events (case_id, seq, event_id, type, data, occurred_at)
VALUES ($1, $2, $3, $4, $5::jsonb, $6)
"""
_INSERT_NOTICE = """
INSERT INTO notifications
  (id, case_id, event_id, kind, recipient, message, data, created_at, not_before)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)
"""


def _event_record(r: RecordedEvent) -> tuple[Any, ...]:
    return (
        r.case_id,
        r.seq,
        r.event_id,
        r.event.type,
        r.event.model_dump_json(),
        r.event.at,
    )


class EventStore:
    def __init__(
        self,
        pool: asyncpg.Pool,
        language: Language = "ko",
        contacts: tuple[str, ...] = DEFAULT_ESCALATION_CONTACTS,
        quiet: QuietHours | None = None,
        zone: str = "Asia/Seoul",
    ) -> None:
        self.pool = pool
        self.language: Language = language
        self.contacts = contacts
        self.quiet = quiet  # for cases whose rulebook predates its own quiet hours
        self.zone = zone  # for cases whose rulebook predates its calendar

    async def append(self, case_id: str, events: Sequence[RecordedEvent]) -> int:
        """Store `events` once: a retried batch writes nothing twice; returns how many were new.

        The case row is locked for the transaction, so appends to one case serialize and the
        sequence stays gap-free; events, read model and outbox commit together or not at all.
        """
        if any(e.case_id != case_id for e in events):
            raise ValueError("every event in a batch must belong to its case")
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT version, state FROM complaint_cases WHERE case_id = $1 FOR UPDATE",
                case_id,
            )
            version = row["version"] if row else 0
            state = CaseState.model_validate_json(row["state"]) if row else None
            await self._check_already_stored(conn, case_id, [e for e in events if e.seq <= version])
            new = [e for e in events if e.seq > version]
            for expected, e in enumerate(new, start=version + 1):
                if e.seq != expected:
                    raise SequenceConflict(
                        f"case {case_id}: event {e.event_id} claims seq {e.seq}, next is {expected}"
                    )
            if not new:
                return 0
            await conn.executemany(_INSERT_EVENT, [_event_record(e) for e in new])
            notices: list[tuple[Any, ...]] = []
            for e in new:
                state = evolve(state, e.event)
                for i, n in enumerate(
                    notices_for(e.event, state, self.language, self.contacts, self.zone)
                ):
                    notice_id = uuid5(NAMESPACE_URL, f"{e.event_id}/{i}")
                    notices.append(
                        (
                            notice_id,
                            case_id,
                            e.event_id,
                            n.kind,
                            n.recipient,
                            n.message,
                            json.dumps(n.data),
                            e.event.at,
                            self._not_before(n, state, e.event.at),
                        )
                    )
            if notices:
                await conn.executemany(_INSERT_NOTICE, notices)
            assert state is not None
            await conn.execute(_UPSERT_CASE, *case_row(state))
        return len(new)

    def _not_before(self, notice: Notice, state: CaseState, at: datetime) -> datetime | None:
        """When the notice may go out, by the case's rulebook (domain.notifications). A case
        opened before the rulebook held quiet hours keeps the worker's for its customer."""
        if notice.recipient == CUSTOMER and state.care.quiet_hours is None and self.quiet:
            allowed = self.quiet.next_allowed(at)
            return allowed if allowed > at else None
        return held_until(notice, state, at)

    async def _check_already_stored(
        self, conn: asyncpg.Connection, case_id: str, claimed: list[RecordedEvent]
    ) -> None:
        if not claimed:
            return
        rows = await conn.fetch(
            "SELECT seq, event_id FROM complaint_events WHERE case_id = $1 AND seq = ANY($2)",
            case_id,
            [e.seq for e in claimed],
        )
        stored = {r["seq"]: r["event_id"] for r in rows}
        for e in claimed:
            if stored.get(e.seq) != e.event_id:
                raise SequenceConflict(
                    f"case {case_id}: seq {e.seq} is held by event {stored.get(e.seq)}, "
                    f"not {e.event_id}"
                )

    async def load(self, case_id: str) -> list[RecordedEvent]:
        rows = await self.pool.fetch(
            "SELECT case_id, seq, event_id, data FROM complaint_events "
            "WHERE case_id = $1 ORDER BY seq",
            case_id,
        )
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
        raw = await self.pool.fetchval(
            "SELECT state FROM complaint_cases WHERE case_id = $1", case_id
        )
        return CaseState.model_validate_json(raw) if raw else None


async def rebuild_read_model(pool: asyncpg.Pool, chunk: int = 20_000) -> int:
    """Replace complaint_cases by the fold of complaint_events; returns the number of cases.

    One transaction: readers see the old rows until the new ones are complete. The table is
    emptied first, so the new rows go in by COPY; events are read and parsed in chunks.
    """
    cases = 0
    columns = [c.strip() for c in CASE_COLUMNS.split(",")]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE complaint_cases IN EXCLUSIVE MODE")
        await conn.execute("DELETE FROM complaint_cases")
        current: str | None = None
        state: CaseState | None = None
        cursor = await conn.cursor(
            "SELECT case_id, data FROM complaint_events ORDER BY case_id, seq"
        )
        while rows := await cursor.fetch(chunk):
            events = EVENTS_ADAPTER.validate_json("[" + ",".join(r["data"] for r in rows) + "]")
            finished: list[tuple[Any, ...]] = []
            for r, event in zip(rows, events, strict=True):
                if r["case_id"] != current:
                    if state is not None:
                        finished.append(case_row(state))
                    current, state = r["case_id"], None
                state = evolve(state, event)
            if finished:
                await conn.copy_records_to_table(
                    "complaint_cases", records=finished, columns=columns
                )
                cases += len(finished)
        if state is not None:
            await conn.copy_records_to_table(
                "complaint_cases", records=[case_row(state)], columns=columns
            )
            cases += 1
    return cases


class StoreActivities:
    """Temporal activities over one EventStore; the worker owns the pool."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name="append_events")
    async def append_events(self, batch: AppendBatch) -> int:
        structlog.contextvars.bind_contextvars(case_id=batch.case_id)
        try:
            written = await self.store.append(batch.case_id, batch.events)
        except SequenceConflict as err:
            # Retrying cannot help: another writer owns this case's sequence.
            raise ApplicationError(str(err), type="SequenceConflict", non_retryable=True) from err
        except UNSTORABLE as err:
            # The data itself is refused (a character PostgreSQL cannot hold, a constraint):
            # a retry would fail the same way forever and wedge the case behind it.
            raise ApplicationError(
                f"PostgreSQL refused the data ({type(err).__name__}): {err}",
                type="Unstorable",
                non_retryable=True,
            ) from err
        finally:
            structlog.contextvars.unbind_contextvars("case_id")
        log.info(
            "events appended",
            case_id=batch.case_id,
            written=written,
            types=[e.event.type for e in batch.events],
        )
        return written

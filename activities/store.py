"""The event store's Temporal adapter: a batch of a case's events in, stored once (the store
and its SQL live in store.events)."""

import structlog
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.events import RecordedEvent
from store.events import UNSTORABLE, EventStore, SequenceConflict

log = structlog.get_logger(__name__)


class AppendBatch(BaseModel):
    case_id: str
    events: list[RecordedEvent]


class StoreActivities:
    """Temporal activities over one EventStore; the worker owns the pool."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name="append_opening")
    async def append_opening(self, batch: AppendBatch) -> list[RecordedEvent]:
        """As append_events, and the batch's events as stored: where the batch was stored
        before (a retried opening whose workflow task was lost after the commit, which
        decided again at a later time), the stored ones, which stay the case's."""
        written = await self.append_events(batch)
        if written == len(batch.events):
            return batch.events
        seqs = {e.seq for e in batch.events}
        return [e for e in await self.store.load(batch.case_id) if e.seq in seqs]

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

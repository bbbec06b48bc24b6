"""A case's events as stored, for its timeline on the case page."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from domain.events import EVENT_ADAPTER, Event


@dataclass(frozen=True)
class Entry:
    seq: int
    occurred_at: datetime
    event: Event


async def case_events(pool: asyncpg.Pool, case_id: str) -> list[Entry]:
    rows = await pool.fetch(
        "SELECT seq, occurred_at, data FROM complaint_events WHERE case_id = $1 ORDER BY seq",
        case_id,
    )
    return [Entry(r["seq"], r["occurred_at"], EVENT_ADAPTER.validate_json(r["data"])) for r in rows]

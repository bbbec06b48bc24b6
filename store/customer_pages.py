"""What the customer's pages keep in PostgreSQL: the notes customers write back, with the
staff notice that tells someone to read one, and the public form's flood counters."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from store.connections import Db, one_connection

# The notice rides the outbox like every staff notice (the webhook, with the case page's
# link appended); it points at the case's latest event, as the outbox's rows all point at
# one, and carries no text: what the customer wrote stays here.
_NOTE = """
WITH kept AS (
  INSERT INTO customer_notes (case_id, body, digest) VALUES ($1, $2, $3)
  ON CONFLICT (case_id, digest) DO NOTHING RETURNING id
)
INSERT INTO notifications (id, case_id, event_id, kind, recipient, message, data, created_at)
SELECT $4, $1, e.event_id, 'customer_wrote', 'staff', $5, $6, now()
FROM kept, LATERAL (SELECT event_id FROM complaint_events WHERE case_id = $1
                    ORDER BY seq DESC LIMIT 1) e
RETURNING id
"""
_NOTES = """
SELECT written_at, body FROM customer_notes WHERE case_id = $1 ORDER BY written_at, id
"""
_HIT = """
INSERT INTO intake_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
ON CONFLICT (shop_id, bucket, window_start) DO UPDATE SET hits = intake_limits.hits + 1
RETURNING hits
"""
_OLD_WINDOWS = "DELETE FROM intake_limits WHERE window_start < $1"
_SO_FAR = "SELECT hits FROM intake_limits WHERE bucket = $1 AND window_start = $2"


@dataclass(frozen=True)
class Note:
    written_at: datetime
    body: str


async def add_note(pool: asyncpg.Pool, case_id: str, body: str, notice: str) -> bool:
    """Keep what the customer wrote and queue a staff notice (`notice`, without the text);
    False when the same text was kept for this case already (nothing new is written)."""
    digest = hashlib.sha256(body.encode()).hexdigest()
    notice_id = uuid.uuid5(uuid.NAMESPACE_URL, f"customer_note/{case_id}/{digest}")
    data = json.dumps({"case_id": case_id})
    async with pool.acquire() as conn, conn.transaction():
        kept = await conn.fetchval(_NOTE, case_id, body, digest, notice_id, notice, data)
    return kept is not None


async def notes(pool: asyncpg.Pool, case_id: str) -> list[Note]:
    return [Note(r["written_at"], r["body"]) for r in await pool.fetch(_NOTES, case_id)]


async def past_limit(db: Db, bucket: str, now: datetime, window: timedelta, limit: int) -> bool:
    """Count one more submission in `bucket`'s current window: is the window past `limit`
    with it? A window already past is answered by reading it, so a flood's refusals write
    nothing (each was an UPDATE of the same row and a commit: 48 a second in the bench's
    flood, thousands from a script against the public form)."""
    seconds = int(window.total_seconds())
    start = datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, now.tzinfo)
    async with one_connection(db) as conn:
        so_far: int | None = await conn.fetchval(_SO_FAR, bucket, start)
        if so_far is not None and so_far > limit:
            return True
        hits: int = await conn.fetchval(_HIT, bucket, start)
        if hits == 1:  # a new window: a good moment to drop the day-old ones
            await conn.execute(_OLD_WINDOWS, now - timedelta(days=2))
    return hits > limit

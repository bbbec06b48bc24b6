"""Customers' photos in PostgreSQL (migration 0017): added once per case and content, listed
for staff by id, read back by id within their case. Never logged, never in a URL but by id."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

# The case's count is checked in the statement that inserts, under a lock on the case's
# photos (an advisory lock on its id), so two uploads at once cannot pass the limit together.
_ADD = """
WITH counted AS (
  SELECT count(*) AS n FROM case_photos WHERE case_id = $2
)
INSERT INTO case_photos (id, case_id, content_type, size, digest, data)
SELECT $1, $2, $3, $4, $5, $6 FROM counted WHERE n < $7
ON CONFLICT (case_id, digest) DO NOTHING
RETURNING id
"""
_KNOWN = "SELECT id FROM case_photos WHERE case_id = $1 AND digest = $2"
_LIST = """
SELECT id, content_type, size, uploaded_at FROM case_photos WHERE case_id = $1
ORDER BY uploaded_at, id
"""
_ONE = "SELECT content_type, data FROM case_photos WHERE case_id = $1 AND id = $2"


@dataclass(frozen=True)
class Photo:
    photo_id: str
    content_type: str
    size: int
    uploaded_at: datetime


class TooManyPhotos(Exception):
    """The case holds its limit of photos already."""


async def add(
    pool: asyncpg.Pool, case_id: str, content_type: str, data: bytes, limit: int
) -> tuple[str, bool]:
    """Keep a photo for the case: (its id, whether it is new). The same bytes sent again (a
    double tap, a retry) are the photo kept before; TooManyPhotos past `limit`."""
    digest = hashlib.sha256(data).hexdigest()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('case_photos:' || $1))", case_id)
        known = await conn.fetchval(_KNOWN, case_id, digest)
        if known is not None:
            return str(known), False
        added = await conn.fetchval(
            _ADD, uuid.uuid4(), case_id, content_type, len(data), digest, data, limit
        )
    if added is None:
        raise TooManyPhotos(f"case {case_id} holds {limit} photos already")
    return str(added), True


async def listed(pool: asyncpg.Pool, case_id: str) -> list[Photo]:
    return [
        Photo(str(r["id"]), r["content_type"], r["size"], r["uploaded_at"])
        for r in await pool.fetch(_LIST, case_id)
    ]


async def read(pool: asyncpg.Pool, case_id: str, photo_id: str) -> tuple[str, bytes] | None:
    """The photo's type and bytes, when it is this case's."""
    try:
        key = uuid.UUID(photo_id)
    except ValueError:
        return None
    row = await pool.fetchrow(_ONE, case_id, key)
    return (row["content_type"], bytes(row["data"])) if row else None

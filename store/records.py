"""The legal hold: what a business must keep of a consumer complaint for 3 years (the
e-commerce act's decree, for online sellers), apart from other data. A minimal record per
case in `complaint_records`: dates, motive, channel, fault, status, the remedy chosen and the
rating; no name, phone or free text. Written by `forget` while the hold applies (whether a
shop is subject to it is COMPLAINTS_COMPLAINT_RECORDS_HOLD); destroyed when the hold ends.

A record made while its case is open follows the case (store/sql/complaints_case_moved.sql,
in the transaction of each write that moves the case's outcome): the outcome as it comes, and
the hold counted from the closing. A record is destroyed only once its case has ended."""

from datetime import datetime

import asyncpg

from store.connections import Conn

_KEEP = """
INSERT INTO complaint_records
  (case_id, opened_at, closed_at, motive, channel, fault, status, remedy, rating, hold_until,
   years)
SELECT case_id, opened_at, closed_at, motive, channel, fault, status,
       state::jsonb -> 'accepted' ->> 'kind', rating,
       COALESCE(closed_at, now()) + make_interval(years => $2), $2
FROM complaint_cases WHERE case_id = ANY($1)
ON CONFLICT (case_id) DO UPDATE SET
  closed_at = EXCLUDED.closed_at, status = EXCLUDED.status, fault = EXCLUDED.fault,
  remedy = EXCLUDED.remedy, rating = EXCLUDED.rating,
  hold_until = GREATEST(complaint_records.hold_until, EXCLUDED.hold_until),
  years = GREATEST(complaint_records.years, EXCLUDED.years)
"""


async def keep(conn: Conn, case_ids: list[str], years: int) -> int:
    """The minimal record of each case, held `years` from its closing (or from now, for a
    case still open). Runs in the caller's transaction (forget's)."""
    status = await conn.execute(_KEEP, case_ids, years)
    return int(status.split()[-1])


async def destroy_expired(pool: asyncpg.Pool, now: datetime) -> int:
    """Destroy the records whose hold has ended; returns how many went. A record of a case
    still open stays: its hold counts from the closing still to come."""
    status = await pool.execute(
        "DELETE FROM complaint_records WHERE hold_until <= $1"
        " AND status IN ('closed', 'withdrawn')",
        now,
    )
    return int(status.split()[-1])


async def held(pool: asyncpg.Pool, case_id: str) -> dict[str, object] | None:
    row = await pool.fetchrow(
        "SELECT case_id, opened_at, closed_at, motive, channel, fault, status, remedy, rating, "
        "hold_until, years FROM complaint_records WHERE case_id = $1",
        case_id,
    )
    return dict(row) if row else None

"""Case lists and the CSV export, from the read model."""

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import asyncpg

from domain.model import CaseState
from store.connections import Conn

COLUMNS = (
    "case_id",
    "status",
    "step",
    "motive",
    "channel",
    "tier",
    "fault",
    "escalation_level",
    "escalations",
    "response_due_at",
    "opened_at",
    "resolved_at",
    "closed_at",
    "rating",
)  # fmt: skip  -- never the customer's name or phone: exports leave the shop


@asynccontextmanager
async def one_opening(pool: asyncpg.Pool, case_id: str) -> AsyncIterator[Conn]:
    """One opening at a time of a case id (an idempotency key names one): a second request
    with the key waits for the first, then finds its case, and writes nothing. A session
    lock on a connection the opening then writes through (so it never waits for a second
    one while holding the first); a connection that dies takes its lock with it."""
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(hashtext('opening:' || $1))", case_id)
        try:
            yield conn
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext('opening:' || $1))", case_id)


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    step: str | None = None
    motive: str | None = None
    overdue_at: datetime | None = None  # staff owe the case something due before this
    opened_since: datetime | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("status", self.status),
            ("step", self.step),
            ("motive", self.motive),
        ):
            if value is not None:
                args.append(value)
                clauses.append(f"{column} = ${len(args)}")
        if self.overdue_at is not None:
            args.append(self.overdue_at)
            clauses.append(f"response_due_at < ${len(args)}")
        if self.opened_since is not None:
            args.append(self.opened_since)
            clauses.append(f"opened_at >= ${len(args)}")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


async def case_state(pool: asyncpg.Pool, case_id: str) -> CaseState | None:
    """The case's whole state as stored, written by the append in the transaction that
    stores its events; None when the case has no row (not stored yet, or none)."""
    raw = await pool.fetchval("SELECT state FROM complaint_cases WHERE case_id = $1", case_id)
    return CaseState.model_validate_json(raw) if raw else None


async def list_cases(
    pool: asyncpg.Pool, where: CaseFilter, limit: int = 20, page: int = 1
) -> tuple[list[dict[str, Any]], int]:
    """One page of cases, newest first, and the total that match.

    Planned for the values asked, every time: the filters' columns are skewed (a shop's
    cases are mostly closed, a few open), and the plan PostgreSQL keeps for a prepared
    statement after its fifth run is made for an average value; at 142,858 cases it read
    every row to find the few open ones (117 ms a page at a million events, 0.5 ms planned
    for the value)."""
    clause, args = where.where()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        total = await conn.fetchval(f"SELECT count(*) FROM complaint_cases{clause}", *args)
        rows = await conn.fetch(
            f"SELECT {', '.join(COLUMNS)} FROM complaint_cases{clause} "
            f"ORDER BY opened_at DESC, case_id LIMIT {int(limit)} "
            f"OFFSET {int((page - 1) * limit)}",
            *args,
        )
    return [dict(r) for r in rows], total


async def export_csv(pool: asyncpg.Pool, where: CaseFilter, zone: tzinfo | None = None) -> str:
    """The rows as CSV; times ISO 8601 in `zone` (the shop's), like every other output."""
    clause, args = where.where()
    rows = await pool.fetch(
        f"SELECT {', '.join(COLUMNS)} FROM complaint_cases{clause} ORDER BY opened_at, case_id",
        *args,
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(["" if r[c] is None else _cell(r[c], zone) for c in COLUMNS])
    return out.getvalue()


def _cell(value: Any, zone: tzinfo | None) -> str:
    if isinstance(value, datetime):
        return (value.astimezone(zone) if zone and value.tzinfo else value).isoformat()
    return str(value)


async def stored_seq_by_case(pool: asyncpg.Pool) -> dict[str, tuple[str, int | None]]:
    """Every case's status in the read model and the last event stored for it (`doctor`
    sets these beside what Temporal runs)."""
    rows = await pool.fetch(
        "SELECT c.case_id, c.status, (SELECT max(seq) FROM complaint_events e"
        " WHERE e.case_id = c.case_id) AS stored FROM complaint_cases c"
    )
    return {r["case_id"]: (r["status"], r["stored"]) for r in rows}


async def count_cases(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM complaint_cases")
    return count

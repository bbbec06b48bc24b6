"""The staff pages' lists from the read model: open cases by the next due time (the inbox)
and what waits on the owner. No customer name or phone: the lists never show them."""

from dataclasses import dataclass
from typing import Any

import asyncpg

_COLUMNS = (
    "case_id, status, step, motive, channel, tier, escalation_level, response_due_at, "
    "opened_at, coalesce((state->>'declines')::int, 0) AS declines, override_requested"
)
_OPEN = "status NOT IN ('closed', 'withdrawn')"
# Escalated cases first, the owner's before the manager's: an escalation starts a fresh
# response window, so by due time alone a case would sink the moment it escalates. Then the
# soonest due; none due (the customer decides) last, newest first. Migration 0016's index
# holds this order.
INBOX_ORDER = "escalation_level DESC, response_due_at ASC NULLS LAST, opened_at DESC, case_id"


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None
    step: str | None = None
    motive: str | None = None
    owner: bool = False  # escalated to the owner (the top level)
    case_id: str | None = None  # the start of a case id, as written (dashes included)
    # "Mine": the cases this person opened or whose latest step they answered (CaseState
    # opened_by / handled_by, kept as columns by migration 0025, each with its index).
    mine: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = [_OPEN]
        args: list[Any] = []
        pairs = (("status", self.status), ("step", self.step), ("motive", self.motive))
        for column, value in pairs:
            if value is not None:
                args.append(value)
                clauses.append(f"{column} = ${len(args)}")
        if self.owner:
            clauses.append("escalation_level >= 2")
        if self.mine is not None:
            args.append(self.mine)
            n = len(args)
            clauses.append(f"(opened_by = ${n} OR handled_by = ${n})")
        if self.case_id:
            args.append(self.case_id.replace("\\", "").replace("%", "").replace("_", "") + "%")
            clauses.append(f"case_id LIKE ${len(args)}")
        return " WHERE " + " AND ".join(clauses), args


def open_cases_sql(where: InboxFilter, limit: int, page: int) -> tuple[str, str, list[Any]]:
    """The inbox's two queries (the count, the page) and their arguments: `make bench`
    explains these very statements."""
    clause, args = where.where()
    count = f"SELECT count(*) FROM complaint_cases{clause}"
    rows = (
        f"SELECT {_COLUMNS} FROM complaint_cases{clause} "
        f"ORDER BY {INBOX_ORDER} LIMIT {int(limit)} OFFSET {int((page - 1) * limit)}"
    )
    return count, rows, args


async def open_cases(
    pool: asyncpg.Pool, where: InboxFilter, limit: int, page: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of open cases, escalated first, then the soonest due (INBOX_ORDER)."""
    count, query, args = open_cases_sql(where, limit, page)
    total = await pool.fetchval(count, *args)
    rows = await pool.fetch(query, *args)
    return [dict(r) for r in rows], total


async def owner_waits(pool: asyncpg.Pool, limit: int = 100) -> list[dict[str, Any]]:
    """Open cases told to the owner: past every target, declined twice, or staff asked for
    an override (migration 0025's column)."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM complaint_cases WHERE {_OPEN} "
        "AND (escalation_level >= 2 OR override_requested) "
        f"ORDER BY response_due_at ASC NULLS LAST, opened_at LIMIT {int(limit)}"
    )
    return [dict(r) for r in rows]


async def cases_of_phone(pool: asyncpg.Pool, phone: str, limit: int = 50) -> list[dict[str, Any]]:
    """A customer's cases, newest first, found by their number (E.164, as stored)."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM complaint_cases WHERE customer_id = "
        "(SELECT id FROM customers WHERE phone = $1 AND forgotten_at IS NULL) "
        "OR customer_phone = $1 "
        f"ORDER BY opened_at DESC LIMIT {int(limit)}",
        phone,
    )
    return [dict(r) for r in rows]

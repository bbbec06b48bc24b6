"""What an operator watches, read from PostgreSQL: overdue cases, notices left unsent, cases
by status and step, time to first response. Each worker reads these every
`COMPLAINTS_GAUGES_EVERY` and serves them as gauges (infra.telemetry); every query is
answered from an index or the small set of open cases, so N workers reading them cost N
short queries a period."""

from dataclasses import dataclass, field

import asyncpg

from store import scope
from store.connections import Conn, one_row

# Open cases whose response is already due: staff owe them something now. A case waiting on
# the customer has no due time (its staff clock is paused), a closed one neither.
_OVERDUE = """
SELECT count(*) AS n,
       COALESCE(extract(epoch FROM now() - min(response_due_at)), 0)::float8 AS oldest
FROM complaint_cases
WHERE response_due_at < now() AND status NOT IN ('closed', 'withdrawn')
"""
# Notices due and not sent; a notice held for quiet or opening hours counts once its time
# comes (not_before), and its age from then.
_UNSENT = """
SELECT count(*) FILTER (WHERE not_before IS NULL OR not_before <= now()) AS due,
       count(*) FILTER (WHERE not_before > now()) AS held,
       COALESCE(extract(epoch FROM now() - min(GREATEST(created_at, not_before))
                FILTER (WHERE not_before IS NULL OR not_before <= now())), 0)::float8 AS oldest,
       count(*) FILTER (WHERE last_error IS NOT NULL) AS failing
FROM notifications WHERE sent_at IS NULL
"""
_BY_STAGE = """
SELECT status, COALESCE(step, '') AS step, count(*) AS n FROM complaint_cases
WHERE status NOT IN ('closed', 'withdrawn') GROUP BY status, step
"""
# Opening to the first apology, for cases opened in the last 7 days that have one.
_FIRST_RESPONSE = """
WITH firsts AS (
  SELECT c.case_id, extract(epoch FROM min(e.occurred_at) - c.opened_at)::float8 AS seconds
  FROM complaint_events e JOIN complaint_cases c USING (case_id)
  WHERE e.type = 'apologized' AND e.occurred_at > now() - interval '7 days'
    AND c.opened_at > now() - interval '7 days'
  GROUP BY c.case_id, c.opened_at
)
SELECT count(*) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90
FROM firsts
"""


@dataclass(frozen=True)
class Readings:
    cases_overdue: int = 0
    oldest_overdue_seconds: float = 0.0
    notices_unsent: int = 0
    notices_held: int = 0
    notices_failing: int = 0  # unsent and their last attempt failed
    oldest_unsent_seconds: float = 0.0
    # (status, step) -> open cases; every pair the workflow knows is reported, zeros too
    cases_by_stage: dict[tuple[str, str], int] = field(default_factory=dict)
    first_response_p50_seconds: float = 0.0
    first_response_p90_seconds: float = 0.0


async def read(pool: asyncpg.Pool) -> Readings:
    """One reading of every gauge, over every shop: the deployment's (raises what asyncpg
    raises when the database is away)."""
    with scope.every_shop():
        async with pool.acquire() as conn:
            return await _read(conn)


async def _read(conn: Conn) -> Readings:
    overdue = one_row(await conn.fetchrow(_OVERDUE))
    unsent = one_row(await conn.fetchrow(_UNSENT))
    stages = await conn.fetch(_BY_STAGE)
    first = one_row(await conn.fetchrow(_FIRST_RESPONSE))
    return Readings(
        cases_overdue=overdue["n"],
        oldest_overdue_seconds=max(0.0, overdue["oldest"]),
        notices_unsent=unsent["due"],
        notices_held=unsent["held"],
        notices_failing=unsent["failing"],
        oldest_unsent_seconds=max(0.0, unsent["oldest"]),
        cases_by_stage={(r["status"], r["step"]): r["n"] for r in stages},
        first_response_p50_seconds=first["p50"] or 0.0,
        first_response_p90_seconds=first["p90"] or 0.0,
    )

"""What an operator watches, read from PostgreSQL: overdue cases and notices left unsent (per
shop), cases by status and step, time to first response. Each worker reads these every
`COMPLAINTS_GAUGES_EVERY` and serves them as gauges (infra.telemetry); every query is
answered from an index or the small set of open cases, so N workers reading them cost N
short queries a period."""

from dataclasses import dataclass, field

import asyncpg

from store import scope
from store.connections import Conn, one_row

# Open cases whose response is already due, per shop (every shop, zeros too): staff owe
# them something now. A case waiting on the customer has no due time (its staff clock is
# paused), a closed one neither.
_OVERDUE = """
SELECT s.shop_id AS shop, count(c.case_id) AS n,
       COALESCE(extract(epoch FROM now() - min(c.response_due_at)), 0)::float8 AS oldest
FROM shops s LEFT JOIN complaint_cases c
  ON c.shop_id = s.shop_id AND c.response_due_at < now()
 AND c.status NOT IN ('closed', 'withdrawn')
GROUP BY s.shop_id
"""
# Notices due and not sent, per shop; a notice held for quiet or opening hours counts once
# its time comes (not_before), and its age from then.
_UNSENT = """
SELECT s.shop_id AS shop,
       count(n.id) FILTER (WHERE n.not_before IS NULL OR n.not_before <= now()) AS due,
       count(n.id) FILTER (WHERE n.not_before > now()) AS held,
       COALESCE(extract(epoch FROM now() - min(GREATEST(n.created_at, n.not_before))
                FILTER (WHERE n.not_before IS NULL OR n.not_before <= now())), 0)::float8
         AS oldest,
       count(n.id) FILTER (WHERE n.last_error IS NOT NULL) AS failing
FROM shops s LEFT JOIN notifications n ON n.shop_id = s.shop_id AND n.sent_at IS NULL
GROUP BY s.shop_id
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
class ShopReadings:
    """One shop's overdue cases and unsent notices."""

    cases_overdue: int = 0
    oldest_overdue_seconds: float = 0.0
    notices_unsent: int = 0
    notices_held: int = 0
    notices_failing: int = 0  # unsent and their last attempt failed
    oldest_unsent_seconds: float = 0.0


@dataclass(frozen=True)
class Readings:
    # shop id -> its readings: every shop, so each shop's gauges exist from the start
    shops: dict[str, ShopReadings] = field(default_factory=dict)
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
    overdue = {r["shop"]: r for r in await conn.fetch(_OVERDUE)}
    unsent = {r["shop"]: r for r in await conn.fetch(_UNSENT)}
    stages = await conn.fetch(_BY_STAGE)
    first = one_row(await conn.fetchrow(_FIRST_RESPONSE))
    return Readings(
        shops={
            shop: ShopReadings(
                cases_overdue=o["n"],
                oldest_overdue_seconds=max(0.0, o["oldest"]),
                notices_unsent=unsent[shop]["due"],
                notices_held=unsent[shop]["held"],
                notices_failing=unsent[shop]["failing"],
                oldest_unsent_seconds=max(0.0, unsent[shop]["oldest"]),
            )
            for shop, o in overdue.items()
        },
        cases_by_stage={(r["status"], r["step"]): r["n"] for r in stages},
        first_response_p50_seconds=first["p50"] or 0.0,
        first_response_p90_seconds=first["p90"] or 0.0,
    )

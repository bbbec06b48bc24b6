"""The owner's report for a period: how fast, how well, and what keeps going wrong.

Each spoken complaint stands for about ten silent customers, so recurring causes lead.
Everything is computed in SQL over the event store and the read model.
"""

from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

from store.connections import one_row

SATISFACTION_TARGET = 4.5
# The guides' other two targets: at least 40 % of the customers seen come back within a
# year, and at least 30 % of new customers come through a referral.
REPEAT_VISIT_TARGET = 0.4
REFERRED_TARGET = 0.3


class StepFigures(BaseModel):
    step: str
    answered: int
    within_target: int
    escalations: int


class Referrer(BaseModel):
    """A customer who brought new ones in the period: whom the shop thanks (reports are read
    by the owner and managers; the CSV export never carries names)."""

    customer_id: str
    name: str | None
    referred: int  # new customers whose first visit in the period they referred


class Report(BaseModel):
    start: datetime
    end: datetime
    opened: int
    closed: int  # closed after the method ran its course (not unanswered, not withdrawn)
    unanswered: int  # closed because the customer never answered the offer
    withdrawn: int
    steps_answered: int
    steps_within_target: int
    within_target_share: float | None
    first_response_median_minutes: float | None
    first_response_p90_minutes: float | None
    per_step: list[StepFigures]
    escalations: int
    ratings: int
    average_rating: float | None
    rated_at_target: int  # ratings of 4.5 or more (the guides' satisfaction target)
    meets_satisfaction_target: bool | None
    by_motive: dict[str, int]
    by_fault: dict[str, int]
    top_causes: list[tuple[str, int]]
    # Keeping customers (customer_visits): of the customers with a visit in the period, the
    # share who had visited within the year before that visit; of the customers whose first
    # visit falls in the period, the share who were referred.
    customers_visiting: int = 0
    repeat_visitors: int = 0
    repeat_visit_rate: float | None = None
    repeat_visit_target: float = REPEAT_VISIT_TARGET
    meets_repeat_visit_target: bool | None = None
    new_customers: int = 0
    referred_customers: int = 0
    referred_share: float | None = None
    referred_target: float = REFERRED_TARGET
    meets_referred_target: bool | None = None
    top_referrers: list[Referrer] = []  # who brings customers, most first (at most 5)


_STEPS = ("apologize", "empathize", "analyze_cause", "offer_resolution", "show_prevention")


async def period_report(pool: asyncpg.Pool, start: datetime, end: datetime) -> Report:
    async with pool.acquire() as conn:
        counts = await conn.fetchrow(
            """
            SELECT
              (SELECT count(*) FROM complaint_events
                WHERE type = 'case_opened' AND occurred_at >= $1 AND occurred_at < $2) AS opened,
              (SELECT count(*) FROM complaint_events
                WHERE type = 'case_closed' AND data->>'reason' IS DISTINCT FROM 'unanswered'
                  AND occurred_at >= $1 AND occurred_at < $2) AS closed,
              (SELECT count(*) FROM complaint_events
                WHERE type = 'case_closed' AND data->>'reason' = 'unanswered'
                  AND occurred_at >= $1 AND occurred_at < $2) AS unanswered,
              (SELECT count(*) FROM complaint_events
                WHERE type = 'case_withdrawn' AND occurred_at >= $1 AND occurred_at < $2)
                AS withdrawn
            """,
            start,
            end,
        )
        # Staff answers: when each step was answered and its first target (answered_steps,
        # migration 0022, kept beside the read model), found by the time of the answer.
        steps = await conn.fetch(
            """
            SELECT step, count(*) AS answered,
                   count(*) FILTER (WHERE answered_at <= due_at) AS within_target
            FROM answered_steps
            WHERE answered_at >= $1 AND answered_at < $2
            GROUP BY 1
            """,
            start,
            end,
        )
        first = await conn.fetchrow(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes) AS median,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY minutes) AS p90
            FROM (
              SELECT extract(epoch FROM a.occurred_at - o.occurred_at) / 60 AS minutes
              FROM complaint_events a
              JOIN complaint_events o ON o.case_id = a.case_id AND o.type = 'case_opened'
              WHERE a.type = 'apologized' AND a.occurred_at >= $1 AND a.occurred_at < $2
            ) t
            """,
            start,
            end,
        )
        escalations = await conn.fetch(
            """
            SELECT data->>'step' AS step, count(*) AS n FROM complaint_events
            WHERE type = 'escalated' AND occurred_at >= $1 AND occurred_at < $2 GROUP BY 1
            """,
            start,
            end,
        )
        ratings = await conn.fetchrow(
            """
            SELECT count(*) AS n, avg((data->>'score')::int)::float AS average,
                   count(*) FILTER (WHERE (data->>'score')::numeric >= $3) AS at_target
            FROM complaint_events
            WHERE type = 'satisfaction_recorded' AND occurred_at >= $1 AND occurred_at < $2
            """,
            start,
            end,
            SATISFACTION_TARGET,
        )
        by_motive = await conn.fetch(
            "SELECT motive AS k, count(*) AS n FROM complaint_cases "
            "WHERE opened_at >= $1 AND opened_at < $2 GROUP BY 1 ORDER BY 2 DESC, 1",
            start,
            end,
        )
        by_fault = await conn.fetch(
            "SELECT fault AS k, count(*) AS n FROM complaint_cases "
            "WHERE opened_at >= $1 AND opened_at < $2 AND fault IS NOT NULL "
            "GROUP BY 1 ORDER BY 2 DESC, 1",
            start,
            end,
        )
        causes = await conn.fetch(
            """
            SELECT lower(btrim(data->>'cause')) AS cause, count(*) AS n FROM complaint_events
            WHERE type = 'cause_analyzed' AND occurred_at >= $1 AND occurred_at < $2
            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10
            """,
            start,
            end,
        )
        keeping = await conn.fetchrow(_KEEPING, start, end)
        referrers = await conn.fetch(_REFERRERS, start, end)
    counts, first, ratings, keeping = (one_row(r) for r in (counts, first, ratings, keeping))
    answered = {r["step"]: r for r in steps}
    escalated = {r["step"]: r["n"] for r in escalations}
    total_answered = sum(r["answered"] for r in steps)
    total_within = sum(r["within_target"] for r in steps)
    average = ratings["average"]
    return Report(
        start=start,
        end=end,
        opened=counts["opened"],
        closed=counts["closed"],
        unanswered=counts["unanswered"],
        withdrawn=counts["withdrawn"],
        steps_answered=total_answered,
        steps_within_target=total_within,
        within_target_share=total_within / total_answered if total_answered else None,
        first_response_median_minutes=_float(first["median"]),
        first_response_p90_minutes=_float(first["p90"]),
        per_step=[
            StepFigures(
                step=s,
                answered=answered[s]["answered"] if s in answered else 0,
                within_target=answered[s]["within_target"] if s in answered else 0,
                escalations=escalated.get(s, 0),
            )
            for s in _STEPS
        ],
        escalations=sum(escalated.values()),
        ratings=ratings["n"],
        average_rating=average,
        rated_at_target=ratings["at_target"],
        meets_satisfaction_target=None if average is None else average >= SATISFACTION_TARGET,
        by_motive={r["k"]: r["n"] for r in by_motive},
        by_fault={r["k"]: r["n"] for r in by_fault},
        top_causes=[(r["cause"], r["n"]) for r in causes],
        **_keeping(keeping),
        top_referrers=[Referrer(**dict(r)) for r in referrers],
    )


# A visit is a repeat when the same customer had another visit in the year before it; a
# customer is new in the period when no visit of theirs comes before its first one there.
_KEEPING = """
WITH seen AS (
  SELECT v.customer_id, v.referred_by,
         EXISTS (SELECT 1 FROM customer_visits e
                 WHERE e.customer_id = v.customer_id AND e.visited_at < v.visited_at
                   AND e.visited_at >= v.visited_at - interval '1 year') AS repeat,
         NOT EXISTS (SELECT 1 FROM customer_visits e
                     WHERE e.customer_id = v.customer_id AND e.visited_at < $1) AS new
  FROM customer_visits v WHERE v.visited_at >= $1 AND v.visited_at < $2
), per_customer AS (
  SELECT customer_id, bool_or(repeat) AS repeat, bool_and(new) AS new,
         bool_or(referred_by IS NOT NULL) AS referred
  FROM seen GROUP BY customer_id
)
SELECT count(*) AS visiting,
       count(*) FILTER (WHERE repeat) AS repeat,
       count(*) FILTER (WHERE new) AS new,
       count(*) FILTER (WHERE new AND referred) AS referred
FROM per_customer
"""


# Who brings customers: the referrers of the period's referred visits (one a customer: the
# first visit carries the referral), forgotten customers left out.
_REFERRERS = """
SELECT c.id AS customer_id, c.name, count(DISTINCT v.customer_id) AS referred
FROM customer_visits v JOIN customers c ON c.id = v.referred_by
WHERE v.visited_at >= $1 AND v.visited_at < $2 AND c.forgotten_at IS NULL
GROUP BY c.id, c.name
ORDER BY referred DESC, c.name NULLS LAST, c.id
LIMIT 5
"""


def _keeping(row: Any) -> dict[str, Any]:
    visiting, new = row["visiting"], row["new"]
    repeat = row["repeat"] / visiting if visiting else None
    referred = row["referred"] / new if new else None
    return {
        "customers_visiting": visiting,
        "repeat_visitors": row["repeat"],
        "repeat_visit_rate": repeat,
        "meets_repeat_visit_target": None if repeat is None else repeat >= REPEAT_VISIT_TARGET,
        "new_customers": new,
        "referred_customers": row["referred"],
        "referred_share": referred,
        "meets_referred_target": None if referred is None else referred >= REFERRED_TARGET,
    }


def _float(value: Any) -> float | None:
    return None if value is None else float(value)

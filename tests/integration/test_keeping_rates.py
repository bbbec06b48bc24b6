"""The report's repeat-visit rate and referred share against a hand count (June 2036, so
no other test's visits fall into the period).

  A  2035-09-01, 2036-06-05            seen, repeat (within a year)
  B  2035-03-01, 2036-06-10            seen, not a repeat (earlier visit over a year old)
  C  2036-06-02, 2036-06-20            seen, repeat (its second visit); new, not referred
  D  2036-06-15 (referred by A)        seen, new, referred
  E  2036-06-25                        seen, new, not referred
  F  2036-05-01                        not in the period
  => seen 5, repeat 2: 40 % (target met); new 3, referred 1: 33 % (target met)
"""

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from cli.render import period_report as render
from store.report import period_report

pytestmark = pytest.mark.db
JUNE, JULY = datetime(2036, 6, 1, tzinfo=UTC), datetime(2036, 7, 1, tzinfo=UTC)


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(hour=12, tzinfo=UTC)


async def test_rates_against_a_hand_count(pool: asyncpg.Pool) -> None:
    ids = {k: f"cus-t{uuid.uuid4().hex[:11]}" for k in "ABCDEF"}
    visits = {
        "A": ["2035-09-01", "2036-06-05"],
        "B": ["2035-03-01", "2036-06-10"],
        "C": ["2036-06-02", "2036-06-20"],
        "D": ["2036-06-15"],
        "E": ["2036-06-25"],
        "F": ["2036-05-01"],
    }
    for key, days in visits.items():
        referred = ids["A"] if key == "D" else None
        await pool.executemany(
            "INSERT INTO customer_visits (customer_id, visited_at, referred_by)"
            " VALUES ($1, $2, $3)",
            [(ids[key], day(d), referred) for d in days],
        )
    phone = f"+8210{uuid.uuid4().int % 10**8:08d}"
    await pool.execute(
        "INSERT INTO customers (id, phone, name, visits) VALUES ($1, $2, 'Referrer A', 2)",
        ids["A"],
        phone,
    )
    report = await period_report(pool, JUNE, JULY)
    assert [(r.customer_id, r.name, r.referred) for r in report.top_referrers] == [
        (ids["A"], "Referrer A", 1)
    ]
    assert "who brings customers    Referrer A (1)" in render(report)
    assert (report.customers_visiting, report.repeat_visitors) == (5, 2)
    assert report.repeat_visit_rate == pytest.approx(0.4)
    assert report.meets_repeat_visit_target is True
    assert (report.new_customers, report.referred_customers) == (3, 1)
    assert report.referred_share == pytest.approx(1 / 3)
    assert report.meets_referred_target is True
    text = render(report)
    assert "repeat visits           40% of 5 customers seen came back within a year" in text
    assert "(target 40%, met)" in text and "33% of 3 new customers" in text
    # May alone: F is new (not referred), no one came back
    may = await period_report(pool, datetime(2036, 5, 1, tzinfo=UTC), JUNE)
    assert (may.customers_visiting, may.repeat_visit_rate, may.referred_share) == (1, 0.0, 0.0)
    assert may.meets_repeat_visit_target is False and may.meets_referred_target is False
    assert may.top_referrers == [] and "who brings customers" not in render(may)
    empty = await period_report(
        pool, datetime(2036, 1, 1, tzinfo=UTC), datetime(2036, 2, 1, tzinfo=UTC)
    )
    assert empty.repeat_visit_rate is None and empty.meets_referred_target is None

"""Reports, lists and the CSV export on PostgreSQL, against a hand count of known cases.

The cases live in 2035, so no other test's cases fall into the periods asked about.
"""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from cli.render import period_report as render
from domain.commands import (
    AnalyzeCause,
    Apologize,
    CheckClock,
    Command,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    RecordSatisfaction,
    ShowPrevention,
    Withdraw,
)
from domain.model import Fault, Motive, RemedyKind
from store.cases import CaseFilter, export_csv, list_cases
from store.events import EventStore
from store.report import period_report
from tests.helpers import open_command, recorded

pytestmark = pytest.mark.db
MARCH = datetime(2035, 3, 1, tzinfo=UTC)
APRIL = datetime(2035, 4, 1, tzinfo=UTC)
H = timedelta(hours=1)


async def play(
    pool: asyncpg.Pool, motive: Motive, start: datetime, script: list[tuple[timedelta, Command]]
) -> str:
    case_id = uuid.uuid4().hex[:8]
    opening = [(timedelta(0), open_command(case_id, motive=motive)), *script]
    events = recorded(case_id, [(command, start + offset) for offset, command in opening])
    await EventStore(pool).append(case_id, events)
    return case_id


def walk(
    cause: str, fault: Fault, remedy: RemedyKind, first: timedelta
) -> list[tuple[timedelta, Command]]:
    return [
        (first, Apologize(what="Sorry")),
        (first + H, Empathize(customer_words="It ruined the evening")),
        (first + 2 * H, AnalyzeCause(cause=cause, fault=fault)),
        (first + 3 * H, OfferResolution(options=[OfferedRemedy(kind=remedy)], plan="plan")),
        (first + 4 * H, RecordCustomerResponse(choice=remedy)),
        (first + 5 * H, ShowPrevention(measure="measure")),
    ]


@pytest.fixture(scope="module")
async def cases(pool: asyncpg.Pool) -> dict[str, str]:
    a = await play(
        pool,
        Motive.COMPENSATION,
        datetime(2035, 3, 2, 9, tzinfo=UTC),
        [
            *walk("Late delivery", Fault.OURS, RemedyKind.FREE_REDO, timedelta(minutes=30)),
            (timedelta(days=7), RecordSatisfaction(score=5)),
        ],
    )
    b = await play(
        pool,
        Motive.ANGER,
        datetime(2035, 3, 3, 10, tzinfo=UTC),
        [
            (25 * H, CheckClock()),  # the apology was late: escalated
            (26 * H, Apologize(what="Sorry we kept you waiting")),
            (27 * H, Empathize(customer_words="Nobody called back")),
            (28 * H, AnalyzeCause(cause="  Late DELIVERY ", fault=Fault.OURS)),
            (29 * H, Withdraw(reason="Customer stopped answering")),
        ],
    )
    c = await play(
        pool,
        Motive.IMPROVEMENT,
        datetime(2035, 3, 4, 8, tzinfo=UTC),
        [
            *walk("Menu unclear", Fault.MISUNDERSTANDING, RemedyKind.THANKS, 2 * H),
            (timedelta(days=7), RecordSatisfaction(score=4)),
        ],
    )
    d = await play(
        pool,
        Motive.COMPENSATION,
        datetime(2035, 2, 1, 9, tzinfo=UTC),
        [
            (H, Apologize(what="Sorry")),
        ],
    )
    return {"a": a, "b": b, "c": c, "d": d}


async def test_report_matches_a_hand_count(pool: asyncpg.Pool, cases: dict[str, str]) -> None:
    r = await period_report(pool, MARCH, APRIL)
    assert (r.opened, r.closed, r.withdrawn) == (3, 2, 1)
    assert (r.steps_answered, r.steps_within_target) == (13, 12)  # b's apology was late
    assert r.within_target_share == pytest.approx(12 / 13)
    assert r.first_response_median_minutes == pytest.approx(120)  # 30, 120, 1560 minutes
    assert r.first_response_p90_minutes == pytest.approx(120 + 0.8 * (1560 - 120))
    per_step = {s.step: (s.answered, s.within_target, s.escalations) for s in r.per_step}
    assert per_step["apologize"] == (3, 2, 1)
    assert per_step["offer_resolution"] == (2, 2, 0)
    assert r.escalations == 1
    assert (r.ratings, r.average_rating, r.rated_at_target) == (2, 4.5, 1)
    assert r.meets_satisfaction_target is True
    assert r.by_motive == {"anger": 1, "compensation": 1, "improvement": 1}
    assert r.by_fault == {"ours": 2, "misunderstanding": 1}
    assert r.top_causes == [("late delivery", 2), ("menu unclear", 1)]
    text = render(r)
    assert "steps within target     92%   (12 of 13)" in text
    assert "2 x late delivery" in text


async def test_an_empty_period_reports_zeros_not_errors(pool: asyncpg.Pool) -> None:
    r = await period_report(
        pool, datetime(2036, 1, 1, tzinfo=UTC), datetime(2036, 2, 1, tzinfo=UTC)
    )
    assert (r.opened, r.closed, r.steps_answered, r.ratings, r.escalations) == (0, 0, 0, 0, 0)
    assert r.within_target_share is None and r.average_rating is None
    assert r.first_response_median_minutes is None and r.meets_satisfaction_target is None
    assert r.top_causes == [] and r.by_motive == {}
    assert "steps within target     -   (0 of 0)" in render(r)


async def test_lists_filter_page_and_export(pool: asyncpg.Pool, cases: dict[str, str]) -> None:
    in_2035 = CaseFilter(opened_since=datetime(2035, 1, 1, tzinfo=UTC))
    rows, total = await list_cases(pool, in_2035, limit=2, page=1)
    assert total == 4 and [r["case_id"] for r in rows] == [cases["c"], cases["b"]]  # newest first
    rows, _ = await list_cases(pool, in_2035, limit=2, page=2)
    assert [r["case_id"] for r in rows] == [cases["a"], cases["d"]]
    since = datetime(2035, 1, 1, tzinfo=UTC)
    closed, n = await list_cases(pool, CaseFilter(status="closed", opened_since=since))
    assert n == 2 and {r["case_id"] for r in closed} == {cases["a"], cases["c"]}
    anger, _ = await list_cases(pool, CaseFilter(motive="anger", opened_since=since))
    assert [r["case_id"] for r in anger] == [cases["b"]]
    # d waits for empathy, due a day after its apology: overdue by March, not in February.
    late, _ = await list_cases(pool, CaseFilter(overdue_at=MARCH, opened_since=since))
    assert [r["case_id"] for r in late] == [cases["d"]]
    early, _ = await list_cases(
        pool, CaseFilter(overdue_at=datetime(2035, 2, 2, 9, tzinfo=UTC), opened_since=since)
    )
    assert early == []
    text = await export_csv(pool, in_2035)
    table = list(csv.DictReader(io.StringIO(text)))
    assert [row["case_id"] for row in table] == [cases[k] for k in "dabc"]
    assert table[1]["rating"] == "5" and table[2]["status"] == "withdrawn"
    assert "Kim" not in text and "1234" not in text  # no customer PII leaves the shop

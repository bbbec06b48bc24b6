"""A case lives on the shop's clock: business hours over weekends and holidays, notices
held for quiet and closed hours and released once, a night before a public reply, and no
offer waiting forever. Driven on the time-skipping server from a given local time."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from activities.customers import CustomerDirectory
from app.cases import start_case
from cli import render
from domain.commands import (
    AnalyzeCause,
    Apologize,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    ShowPrevention,
)
from domain.model import CaseState, Fault, IntakeChannel, Motive, RemedyKind
from infra.settings import Settings
from store.report import period_report
from tests.helpers import event_types, eventually, open_command, skip_time, workflow_id
from worker import build_worker
from workflows.complaint import ComplaintWorkflow as WF

pytestmark = pytest.mark.db

SEOUL = ZoneInfo("Asia/Seoul")
HOUR = timedelta(hours=1)


def shop(settings: Settings, **changes: object) -> Settings:
    """The test's settings with the shop's hours on: Mon-Fri 10:00-19:00, KR holidays,
    quiet hours 21:00-09:00, staff reminders held for opening hours."""
    return settings.model_copy(
        update={"hold_staff_notices": True, "quiet_hours": "21:00-09:00", **changes}
    )


async def move_to(env: WorkflowEnvironment, when: datetime) -> None:
    """Move the test server's clock on to `when` (it only goes forward)."""
    now = await env.get_current_time()
    assert when > now, f"{when} is already past ({now})"
    await skip_time(env, when - now)


async def today(env: WorkflowEnvironment) -> date:
    return (await env.get_current_time()).astimezone(SEOUL).date()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SEOUL)


def next_weekday(after: date, weekday: int) -> date:
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def minute(t: datetime | None) -> datetime | None:
    """To the minute: the test server lands a moved clock a few hundred ms late."""
    return t.replace(second=0, microsecond=0) if t else None


async def state_of(env: WorkflowEnvironment, case_id: str) -> CaseState:
    state = await env.client.get_workflow_handle_for(WF.run, workflow_id(case_id)).query(WF.current)
    assert state is not None
    return state


async def notice(pool: asyncpg.Pool, case_id: str, kind: str) -> asyncpg.Record:
    rows = await pool.fetch(
        "SELECT not_before, sent_at, attempts, last_error FROM notifications "
        "WHERE case_id = $1 AND kind = $2",
        case_id,
        kind,
    )
    assert len(rows) == 1, rows  # written once
    return rows[0]


async def test_a_friday_evening_case_falls_due_on_monday_in_business_hours(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    rules = shop(settings, target_mode="business", response_target=timedelta(hours=8))
    friday = next_weekday(await today(ts_env), 4)
    monday = friday + timedelta(days=3)
    assert rules.calendar().open_interval(monday) is not None, "pick a week without holidays"
    await move_to(ts_env, local(friday, 17))
    async with build_worker(ts_env.client, pool, rules):
        await start_case(ts_env.client, rules, open_command(case_id))
        state = await state_of(ts_env, case_id)
        # 2 open hours on Friday, 6 on Monday; the calendar command predicts the same.
        assert minute(state.response_due_at) == local(monday, 16)
        assert rules.calendar().add_business_time(local(friday, 17), 8 * HOUR) == local(monday, 16)
        await move_to(ts_env, local(friday + timedelta(days=1), 12))
        assert await event_types(pool, case_id) == ["case_opened"]  # nothing over the weekend
        await move_to(ts_env, local(monday, 16, 30))

        async def warned_then_escalated() -> None:
            assert await event_types(pool, case_id) == [
                "case_opened",
                "response_due_soon",
                "escalated",
            ]

        await eventually(warned_then_escalated)
        at = await pool.fetch(
            "SELECT type, occurred_at FROM complaint_events WHERE case_id = $1 ORDER BY seq",
            case_id,
        )
        assert [minute(r["occurred_at"]) for r in at[1:]] == [local(monday, 14), local(monday, 16)]

        async def both_sent() -> None:  # in opening hours: nothing held
            for kind in ("response_due_soon", "escalated"):
                row = await notice(pool, case_id, kind)
                assert row["not_before"] is None and row["sent_at"] is not None

        await eventually(both_sent)


def holiday_eve(rules: Settings, after: date) -> tuple[date, date]:
    """The first public holiday after `after` whose eve is an open weekday, and the next
    open day after it."""
    calendar = rules.calendar(now=local(after, 12))
    day = after + timedelta(days=2)
    while not (
        day in calendar.holidays and calendar.open_interval(day - timedelta(days=1)) is not None
    ):
        day += timedelta(days=1)
    reopen = day
    while calendar.open_interval(reopen) is None:
        reopen += timedelta(days=1)
    return day - timedelta(days=1), reopen


async def test_a_review_on_a_holiday_eve_waits_for_the_next_open_day_and_a_calm_night(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    rules = shop(settings, target_mode="business")
    # Three years on from the server's clock (and so from the worker's): the case must use
    # the holidays of the year it lives in, which the worker's own clock does not know.
    eve, reopen = holiday_eve(rules, date((await today(ts_env)).year + 3, 1, 1))
    await move_to(ts_env, local(eve, 18, 55))
    review = open_command(case_id, motive=Motive.PROTECT_OTHERS, channel=IntakeChannel.REVIEW)
    async with build_worker(ts_env.client, pool, rules):
        await start_case(ts_env.client, rules, review)
        state = await state_of(ts_env, case_id)
        # The 4-hour first response: 5 open minutes on the eve, the rest when the shop reopens.
        assert minute(state.response_due_at) == local(reopen, 13, 55)
        handle = ts_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
        await move_to(ts_env, local(eve, 19, 30))
        summary = await handle.execute_update(WF.apologize, Apologize(what="We are sorry"))
        assert summary.recorded == ("apologized",)
        state = await state_of(ts_env, case_id)
        # Drafted now; posted when the shop reopens (8 hours on is 03:30, on a closed day).
        assert minute(state.reply_post_from) == local(reopen, 10)
        assert minute(state.window_started_at) == local(reopen, 10)
        shown = render.case(state, SEOUL)  # what `complaints show` prints
        assert f"post the public reply from {reopen:%Y-%m-%d} 10:00 KST" in shown
        held = await notice(pool, case_id, "reply_may_be_posted")
        assert minute(held["not_before"]) == local(reopen, 10) and held["sent_at"] is None
        await move_to(ts_env, local(reopen, 9, 59))
        assert (await notice(pool, case_id, "reply_may_be_posted"))["sent_at"] is None
        assert await event_types(pool, case_id) == ["case_opened", "apologized"]
        await move_to(ts_env, local(reopen, 10, 1))

        async def released_once() -> None:
            row = await notice(pool, case_id, "reply_may_be_posted")
            assert row["sent_at"] is not None and row["attempts"] == 1

        await eventually(released_once)


async def test_a_customer_message_written_at_night_goes_out_once_at_nine(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    rules = shop(settings, improvement_report_after=timedelta(hours=2))
    day = await today(ts_env) + timedelta(days=1)
    await move_to(ts_env, local(day, 20, 30))
    customer_id = (await CustomerDirectory(pool).register("+821077779999", "Han")).customer_id
    command = open_command(case_id, motive=Motive.IMPROVEMENT).model_copy(
        update={"customer_id": customer_id}
    )
    async with build_worker(ts_env.client, pool, rules):
        await start_case(ts_env.client, rules, command)
        handle = ts_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
        for update, action in [
            (WF.apologize, Apologize(what="Sorry the menu hid it")),
            (WF.empathize, Empathize(customer_words="My son is allergic")),
            (WF.analyze_cause, AnalyzeCause(cause="Old menus", fault=Fault.OURS)),
            (
                WF.offer_resolution,
                OfferResolution(options=[OfferedRemedy(kind=RemedyKind.THANKS)], plan="Thanks"),
            ),
            (WF.record_customer_response, RecordCustomerResponse(choice=RemedyKind.THANKS)),
            (WF.show_prevention, ShowPrevention(measure="Allergens on every menu")),
        ]:
            await handle.execute_update(update, action)
        await move_to(ts_env, local(day, 22, 45))  # the report fell due at 22:30

        async def held() -> None:
            row = await notice(pool, case_id, "improvement_reported")
            assert row["not_before"] == local(day + timedelta(days=1), 9)  # the hour exactly
            assert row["sent_at"] is None

        await eventually(held)
        state = await state_of(ts_env, case_id)
        assert state.improvement_report_due_at is None  # decided at 22:30, only the send waits
        await move_to(ts_env, local(day + timedelta(days=1), 9, 1))

        async def sent_once() -> None:
            row = await notice(pool, case_id, "improvement_reported")
            assert row["sent_at"] is not None and row["attempts"] == 1
            assert row["last_error"] is None

        await eventually(sent_once)


async def test_an_offer_never_answered_closes_the_case_as_unanswered(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    start = await ts_env.get_current_time()
    async with build_worker(ts_env.client, pool, settings):
        await start_case(ts_env.client, settings, open_command(case_id))
        handle = ts_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
        await handle.execute_update(WF.apologize, Apologize(what="Sorry"))
        await handle.execute_update(WF.empathize, Empathize(customer_words="Cold soup"))
        await handle.execute_update(
            WF.analyze_cause, AnalyzeCause(cause="Late van", fault=Fault.OURS)
        )
        await handle.execute_update(
            WF.offer_resolution,
            OfferResolution(options=[OfferedRemedy(kind=RemedyKind.FULL_REFUND)], plan="Refund"),
        )
        await skip_time(ts_env, timedelta(days=15))
        result = await handle.result()
    assert (result.status, result.closed_reason) == ("closed", "unanswered")
    types = await event_types(pool, case_id)
    assert types[-2:] == ["customer_wait_exceeded", "case_closed"]
    closed_at = await pool.fetchval(
        "SELECT occurred_at FROM complaint_events WHERE case_id = $1 AND type = 'case_closed'",
        case_id,
    )
    offered_at = await pool.fetchval(
        "SELECT occurred_at FROM complaint_events WHERE case_id = $1 "
        "AND type = 'resolution_offered'",
        case_id,
    )
    assert timedelta(days=14) <= closed_at - offered_at < timedelta(days=14, minutes=1)
    await notice(pool, case_id, "closed_unanswered")
    report = await period_report(pool, start, start + timedelta(days=16))
    assert report.unanswered >= 1

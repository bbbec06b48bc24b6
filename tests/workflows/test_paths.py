"""Every motive and fault walked from open to closed on the time-skipping server, with the
real event store; the read model rebuilt from the events must match the live one."""

import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from app.cases import start_case
from domain.commands import (
    AnalyzeCause,
    Apologize,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    RecordDelay,
    RecordSatisfaction,
    ShowPrevention,
)
from domain.model import CaseState, CaseStatus, Fault, Motive, RemedyKind
from domain.remedies import remedy_menu
from domain.summary import summarize
from infra.settings import Settings
from store.folding import CASE_COLUMNS
from store.read_model import rebuild_read_model
from tests.helpers import event_types, eventually, open_command, skip_time, workflow_id
from worker import build_worker
from workflows.complaint import ComplaintWorkflow as WF

pytestmark = pytest.mark.db
K = RemedyKind


class Driver:
    def __init__(self, env: WorkflowEnvironment, handle: WorkflowHandle[Any, CaseState]) -> None:
        self.env, self.handle = env, handle

    async def do(self, update: Callable[..., Any], command: Any) -> CaseState:
        summary = await self.handle.execute_update(update, command)
        state = await self.handle.query(WF.current)
        assert state is not None and summary == summarize(state, summary.recorded)
        return state

    async def result(self) -> CaseState:
        """The case's end. Notices held for opening hours keep it running past its last
        action, and the test server does not skip time for `result()` right after an
        Update (its long poll ran out after 20 s), so the clock is moved over them first."""
        await skip_time(self.env, timedelta(days=7))
        return await self.handle.result()

    async def skip(self, duration: timedelta, until: Callable[[CaseState], bool]) -> CaseState:
        """Move time on, then wait for the worker to store what fell due."""
        await skip_time(self.env, duration)

        async def reached() -> CaseState:
            state = await self.handle.query(WF.current)
            assert state is not None and until(state), state
            return state

        return await eventually(reached)

    async def to_offer(self, fault: Fault) -> CaseState:
        await self.do(WF.apologize, Apologize(what="Sorry the delivery was two hours late"))
        await self.do(WF.empathize, Empathize(customer_words="The guests were already there"))
        return await self.do(WF.analyze_cause, AnalyzeCause(cause="Driver got lost", fault=fault))

    async def offer(self, *kinds: RemedyKind) -> CaseState:
        options = [OfferedRemedy(kind=k) for k in kinds]
        return await self.do(WF.offer_resolution, OfferResolution(options=options, plan="Choose"))

    async def accept(self, kind: RemedyKind) -> CaseState:
        return await self.do(WF.record_customer_response, RecordCustomerResponse(choice=kind))

    async def prevent(self) -> CaseState:
        return await self.do(
            WF.show_prevention, ShowPrevention(measure="Routes checked the day before")
        )


@pytest.fixture
async def case(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> AsyncIterator[Callable[[Motive], Any]]:
    async with build_worker(ts_env.client, pool, settings):

        async def open_(motive: Motive) -> Driver:
            command = open_command(case_id, motive=motive).model_copy(
                update={"targets": settings.targets_for(motive), "care": settings.care_policy()}
            )
            await start_case(ts_env.client, settings, command)
            handle = ts_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
            return Driver(ts_env, handle)

        yield open_


@pytest.mark.parametrize("fault", list(Fault))
@pytest.mark.parametrize("motive", list(Motive))
async def test_each_motive_and_fault_from_open_to_closed(
    case: Callable[[Motive], Any], pool: asyncpg.Pool, case_id: str, motive: Motive, fault: Fault
) -> None:
    driver: Driver = await case(motive)
    state = await driver.to_offer(fault)
    menu = remedy_menu(motive, fault, state.profile.tier, state.breached)
    state = await driver.offer(*menu.allowed)
    assert state.status == CaseStatus.AWAITING_CUSTOMER
    await driver.accept(menu.recommended)
    state = await driver.prevent()
    assert state.status == CaseStatus.RESOLVED
    state = await driver.skip(timedelta(days=7, hours=1), lambda s: s.follow_up_reminded)
    await driver.do(WF.record_satisfaction, RecordSatisfaction(score=4, comment="Fine now"))
    result = await driver.result()
    assert (result.status, result.closed_reason, result.rating) == (
        CaseStatus.CLOSED,
        "satisfied",
        4,
    )
    assert result.accepted is not None and result.accepted.kind == menu.recommended
    types = await event_types(pool, case_id)
    assert types[:7] == [
        "case_opened",
        "apologized",
        "empathized",
        "cause_analyzed",
        "resolution_offered",
        "resolution_accepted",
        "prevention_shown",
    ]
    assert ("improvement_reported" in types) == (motive == Motive.IMPROVEMENT)
    assert types[-3:] == ["follow_up_due", "satisfaction_recorded", "case_closed"]


async def test_decline_reoffer_and_a_low_score_that_reopens(
    case: Callable[[Motive], Any], pool: asyncpg.Pool, case_id: str
) -> None:
    driver: Driver = await case(Motive.COMPENSATION)
    await driver.to_offer(Fault.OURS)
    await driver.offer(K.FREE_REDO, K.NEXT_SERVICE_DISCOUNT)
    state = await driver.do(
        WF.record_customer_response, RecordCustomerResponse(decline_reason="I want money back")
    )
    assert (state.status, state.stage, state.declines) == (CaseStatus.OPEN, "offer_resolution", 1)
    await driver.offer(K.PARTIAL_REFUND, K.FULL_REFUND)
    await driver.accept(K.PARTIAL_REFUND)
    await driver.prevent()
    state = await driver.do(WF.record_satisfaction, RecordSatisfaction(score=1, comment="Rude"))
    assert (state.status, state.stage, state.reopened) == (CaseStatus.OPEN, "offer_resolution", 1)
    await driver.offer(K.FULL_REFUND)
    await driver.accept(K.FULL_REFUND)
    await driver.prevent()
    await driver.do(WF.record_satisfaction, RecordSatisfaction(score=5))
    result = await driver.result()
    assert [o.round for o in result.offers] == [1, 2, 3]
    assert (result.status, result.rating) == (CaseStatus.CLOSED, 5)
    types = await event_types(pool, case_id)
    assert types.count("resolution_declined") == 1 and types.count("case_reopened") == 1

    async def reopen_notice_sent() -> None:
        sent = await pool.fetchval(
            "SELECT sent_at FROM notifications WHERE case_id = $1 AND kind = 'case_reopened'",
            case_id,
        )
        assert sent is not None  # a staff action's notice goes out without waiting for a timer

    await eventually(reopen_notice_sent)


async def test_the_staff_clock_pauses_while_the_customer_decides(
    case: Callable[[Motive], Any], pool: asyncpg.Pool, case_id: str
) -> None:
    driver: Driver = await case(Motive.COMPENSATION)
    await driver.to_offer(Fault.OURS)
    await driver.offer(K.FREE_REDO)
    state = await driver.skip(timedelta(days=5), lambda s: s.customer_reminded)
    assert (state.escalations, state.status) == (0, CaseStatus.AWAITING_CUSTOMER)
    await skip_time(driver.env, timedelta(days=5))  # nothing more: no staff escalation, no repeat
    state = await driver.accept(K.FREE_REDO)
    assert state.escalations == 0 and state.response_due_at is not None
    types = await event_types(pool, case_id)
    assert types.count("customer_wait_exceeded") == 1 and "escalated" not in types
    notices = await pool.fetch(
        "SELECT kind, recipient FROM notifications WHERE case_id = $1", case_id
    )
    assert [(n["kind"], n["recipient"]) for n in notices] == [("customer_wait_exceeded", "staff")]


async def test_a_late_case_gains_the_delay_discount_and_the_rebuild_matches(
    case: Callable[[Motive], Any], pool: asyncpg.Pool, case_id: str
) -> None:
    driver: Driver = await case(Motive.ANGER)
    state = await driver.skip(timedelta(hours=25), lambda s: s.escalation_level == 1)
    state = await driver.to_offer(Fault.OURS)
    assert state.breached
    menu = remedy_menu(Motive.ANGER, Fault.OURS, state.profile.tier, breached=True)
    assert menu.allowed == (K.FORMAL_APOLOGY, K.DELAY_DISCOUNT)
    await driver.offer(K.FORMAL_APOLOGY, K.DELAY_DISCOUNT)
    state = await driver.accept(K.DELAY_DISCOUNT)
    assert state.accepted is not None and state.accepted.terms.startswith("10 % off")
    await driver.handle.terminate("test over")

    live = await _rows(pool)
    await rebuild_read_model(pool)
    rebuilt = await _rows(pool)
    assert rebuilt == live and len(live) >= 1


async def test_bad_news_before_the_deadline_moves_the_clock_and_the_rebuild_matches(
    case: Callable[[Motive], Any], pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    driver: Driver = await case(Motive.COMPENSATION)
    await driver.to_offer(Fault.OURS)
    await driver.offer(K.FREE_REDO)
    state = await driver.accept(K.FREE_REDO)  # the redo is promised by the prevention's target
    first = state.response_due_at
    assert first is not None
    until = first + timedelta(hours=6)
    state = await driver.do(WF.record_delay, RecordDelay(until=until, reason="The oven broke"))
    assert (state.response_due_at, state.delayed_from, state.delays) == (until, first, 1)
    assert state.delay_compensation is not None
    assert state.delay_compensation.kind == K.DELAY_DISCOUNT
    # Past the first target nothing is escalated; past the new one it is, naming the new one.
    state = await driver.skip(timedelta(hours=25), lambda s: s.warned)
    assert state.escalations == 0
    state = await driver.skip(timedelta(hours=6), lambda s: s.escalation_level == 1)
    types = await event_types(pool, case_id)
    assert types.count("delay_recorded") == 1 and types[-2:] == ["response_due_soon", "escalated"]
    notices = await pool.fetch(
        "SELECT kind, recipient FROM notifications WHERE case_id = $1 ORDER BY created_at",
        case_id,
    )
    told = [(n["kind"], n["recipient"]) for n in notices if n["recipient"] == "customer"]
    if settings.care_policy().customer_messages:
        assert ("delay_announced", "customer") in told
    await driver.handle.terminate("test over")
    live = await _rows(pool)
    await rebuild_read_model(pool)
    assert await _rows(pool) == live


async def _rows(pool: asyncpg.Pool) -> list[dict[str, object]]:
    """The read model's rows, each state as the JSON value it holds: `forget` edits a
    state in place through jsonb, which keeps its value but not its text's key order."""
    rows = await pool.fetch(f"SELECT {CASE_COLUMNS} FROM complaint_cases ORDER BY case_id")
    return [dict(r) | {"state": json.loads(r["state"])} for r in rows]

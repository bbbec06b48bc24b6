"""Whole walks of a case on the time-skipping server, with the real event store."""

import asyncpg
import pytest
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from app.cases import start_case
from domain.commands import (
    AnalyzeCause,
    Apologize,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    RecordSatisfaction,
    ShowPrevention,
    Withdraw,
)
from domain.model import CaseStatus, Fault, RemedyKind, Step
from infra.settings import Settings
from tests.helpers import event_types, open_command, workflow_id
from worker import build_worker
from workflows.complaint import ComplaintWorkflow

pytestmark = pytest.mark.db


def upserts_all(history: list[HistoryEvent]) -> list[set[str]]:
    """The names each search-attribute upsert of a history sets."""
    return [
        set(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
        for e in history
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
    ]


async def test_full_walk_stores_one_event_per_decision(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    async with build_worker(ts_env.client, pool, settings):
        await start_case(ts_env.client, settings, open_command(case_id))
        handle = ts_env.client.get_workflow_handle_for(ComplaintWorkflow.run, workflow_id(case_id))
        wf = ComplaintWorkflow
        await handle.execute_update(
            wf.apologize, Apologize(what="Your cake was crushed in our van")
        )
        await handle.execute_update(wf.empathize, Empathize(customer_words="It was for my son"))
        await handle.execute_update(
            wf.analyze_cause, AnalyzeCause(cause="Box not strapped down", fault=Fault.OURS)
        )
        await handle.execute_update(
            wf.offer_resolution,
            OfferResolution(
                options=[OfferedRemedy(kind=RemedyKind.FULL_REFUND)], plan="Full refund today"
            ),
        )
        await handle.execute_update(
            wf.record_customer_response, RecordCustomerResponse(choice=RemedyKind.FULL_REFUND)
        )
        summary = await handle.execute_update(
            wf.show_prevention, ShowPrevention(measure="Straps fitted in both vans")
        )
        assert (summary.status, summary.stage) == (CaseStatus.RESOLVED, "follow_up")
        assert summary.recorded == ("prevention_shown",)  # a summary: no texts, no customer
        await handle.execute_update(wf.record_satisfaction, RecordSatisfaction(score=5))
        result = await handle.result()
        history = (await handle.fetch_history()).events
        upserts = [
            {k: v for k, v in fields.items() if k != "TemporalChangeVersion"}  # patches' marker
            for e in history
            if e.HasField("upsert_workflow_search_attributes_event_attributes")
            for fields in [
                e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            ]
        ]
        upserts = [u for u in upserts if u]
    # The opening runs inside its first workflow task as one local activity (a marker) that
    # reads the rulebook and the customer and stores the opening, and the case records one
    # patch, not five.
    first_update = next(
        i
        for i, e in enumerate(history)
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    )
    opening = history[:first_update]
    assert not any(e.HasField("activity_task_scheduled_event_attributes") for e in opening)
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in opening
        if e.HasField("marker_recorded_event_attributes")
    ]
    assert markers == ["core_patch", "core_local_activity"]
    assert sum(1 for u in upserts_all(history) if "TemporalChangeVersion" in u) == 1
    # Each upsert carries only what changed: the first sets all six, a step sets ComplaintStep
    # (and the due time), and no upsert repeats a value the case already had.
    assert len(upserts[0]) == 6
    assert all(len(u) < 6 for u in upserts[1:])
    seen: dict[str, bytes] = {}
    for fields in upserts:
        for name, payload in fields.items():
            assert seen.get(name) != payload.data, f"{name} upserted unchanged"
            seen[name] = payload.data
    assert result.steps_done == tuple(Step)
    assert result.status == CaseStatus.CLOSED
    assert await event_types(pool, case_id) == [
        "case_opened",
        "apologized",
        "empathized",
        "cause_analyzed",
        "resolution_offered",
        "resolution_accepted",
        "prevention_shown",
        "satisfaction_recorded",
        "case_closed",
    ]
    row = await pool.fetchrow("SELECT * FROM complaint_cases WHERE case_id = $1", case_id)
    assert (row["status"], row["step"], row["fault"], row["rating"], row["version"]) == (
        "closed",
        "done",
        "ours",
        5,
        9,
    )


async def test_step_out_of_order_is_refused_and_writes_nothing(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    async with build_worker(ts_env.client, pool, settings):
        await start_case(ts_env.client, settings, open_command(case_id))
        handle = ts_env.client.get_workflow_handle_for(ComplaintWorkflow.run, workflow_id(case_id))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                ComplaintWorkflow.analyze_cause, AnalyzeCause(cause="x", fault=Fault.OURS)
            )
        assert "waiting for apologize, not analyze cause" in str(refused.value.cause)
        await handle.execute_update(ComplaintWorkflow.apologize, Apologize(what="Sorry for X"))
        with pytest.raises(WorkflowUpdateFailedError) as repeated:
            await handle.execute_update(ComplaintWorkflow.apologize, Apologize(what="Again"))
        assert "apologize is already done" in str(repeated.value.cause)
        await handle.execute_update(ComplaintWorkflow.withdraw, Withdraw(reason="Customer asked"))
        await handle.result()
    assert await event_types(pool, case_id) == ["case_opened", "apologized", "case_withdrawn"]

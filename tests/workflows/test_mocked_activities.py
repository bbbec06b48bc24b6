"""The workflow with its activities mocked (the samples-python pattern): fakes registered
under the real activity names, no PostgreSQL at all. The decisions, the clock and the
Update answers are the workflow's own."""

import uuid
from datetime import datetime, timedelta

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.opening import OpeningActivities
from activities.store import AppendBatch
from app.cases import start_case
from domain.commands import Apologize, Empathize
from domain.events import RecordedEvent
from domain.model import CarePolicy, CaseRules, CustomerProfile, Motive, ResponseTargets
from domain.summary import CaseSummary
from infra.settings import Settings
from tests.helpers import open_command, skip_time, workflow_id
from workflows.complaint import ComplaintWorkflow

STORED: list[AppendBatch] = []


@activity.defn(name="case_rules")
async def fake_case_rules(motive: Motive, opened_at: datetime | None = None) -> CaseRules:
    return CaseRules(targets=ResponseTargets(target=timedelta(hours=2)), care=CarePolicy())


@activity.defn(name="customer_profile")
async def fake_customer_profile(ref: str) -> CustomerProfile:
    return CustomerProfile(visits=6, previous_cases=1)


@activity.defn(name="append_events")
async def fake_append_events(batch: AppendBatch) -> int:
    STORED.append(batch)
    return len(batch.events)


@activity.defn(name="append_opening")
async def fake_append_opening(batch: AppendBatch) -> list[RecordedEvent]:
    STORED.append(batch)
    return batch.events


@activity.defn(name="send_notifications")
async def fake_send_notifications(case_id: str) -> int:
    return 0


async def test_a_case_walks_and_escalates_with_mocked_activities(
    ts_env: WorkflowEnvironment, case_id: str
) -> None:
    settings = Settings(task_queue=f"mocked-{uuid.uuid4().hex[:8]}")
    async with Worker(
        ts_env.client,
        task_queue=settings.task_queue,
        workflows=[ComplaintWorkflow],
        activities=[
            # The opening's one activity over the fakes, as the worker builds it over the
            # real reads and append.
            OpeningActivities(
                fake_case_rules, fake_customer_profile, fake_append_opening
            ).open_case,
            fake_append_events,
            fake_send_notifications,
        ],
    ):
        opened = await start_case(ts_env.client, settings, open_command(case_id))
        assert opened.targets.target == timedelta(hours=2), "the rules come from the activity"
        assert opened.profile.visits == 6
        handle = ts_env.client.get_workflow_handle_for(ComplaintWorkflow.run, workflow_id(case_id))
        answer = await handle.execute_update(
            ComplaintWorkflow.apologize, Apologize(what="Sorry", by="Kim")
        )
        assert isinstance(answer, CaseSummary)
        assert (answer.stage, answer.version, answer.recorded) == ("empathize", 2, ("apologized",))
        await skip_time(ts_env, timedelta(hours=3))  # past the 2-hour target: the manager hears
        state = await handle.query(ComplaintWorkflow.current)
        assert state is not None and state.escalation_level == 1
        await handle.execute_update(ComplaintWorkflow.empathize, Empathize(customer_words="x"))
    mine = [e.event.type for b in STORED if b.case_id == case_id for e in b.events]
    assert mine[:2] == ["case_opened", "apologized"]
    assert "escalated" in mine and mine[-1] == "empathized"

"""An action whose events cannot be stored is refused with a reason; the case stays usable."""

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.opening import OpeningActivities
from activities.store import AppendBatch, StoreActivities
from app.cases import start_case
from domain.commands import Apologize, Withdraw
from domain.effects import Voice
from domain.model import CaseStatus, CustomerProfile
from infra.settings import Settings
from store.events import EventStore
from tests.helpers import event_types, open_command, skip_time, workflow_id
from worker import activities_for
from workflows.complaint import ComplaintWorkflow as WF

pytestmark = pytest.mark.db


class RefusesOneBatch:
    """The real append, except that the first batch holding `poison` is refused the way
    the store refuses data PostgreSQL cannot hold."""

    def __init__(self, pool: asyncpg.Pool, poison: str) -> None:
        self.real = StoreActivities(EventStore(pool, Voice(language="en")))
        self.poison = poison
        self.refused = 0

    @activity.defn(name="append_events")
    async def append_events(self, batch: AppendBatch) -> int:
        if not self.refused and any(self.poison in e.event.model_dump_json() for e in batch.events):
            self.refused += 1
            raise ApplicationError(
                "PostgreSQL refused the data", type="Unstorable", non_retryable=True
            )
        return await self.real.append_events(batch)


async def test_an_unstorable_action_is_refused_and_the_next_one_works(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    store = RefusesOneBatch(pool, poison="POISON")
    others = [a for a in activities_for(pool, settings) if a.__name__ != "append_events"]
    async with Worker(
        ts_env.client,
        task_queue=settings.task_queue,
        workflows=[WF],
        activities=[store.append_events, *others],
    ):
        await start_case(ts_env.client, settings, open_command(case_id))
        handle = ts_env.client.get_workflow_handle_for(WF.run, workflow_id(case_id))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(WF.apologize, Apologize(what="Sorry POISON"))
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == "NotStored"
        assert f"case {case_id}: apologized could not be stored, nothing was recorded" in str(
            cause.message
        )
        state = await handle.query(WF.current)
        assert state is not None and state.version == 1 and state.apology is None
        summary = await handle.execute_update(WF.apologize, Apologize(what="Sorry, truly"))
        assert summary.recorded == ("apologized",) and summary.version == 2
        state = await handle.execute_update(WF.withdraw, Withdraw(reason="Settled"))
        assert state.status == CaseStatus.WITHDRAWN
    assert store.refused == 1
    assert await event_types(pool, case_id) == ["case_opened", "apologized", "case_withdrawn"]


async def test_an_opening_whose_read_keeps_failing_retries_on_timers(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    """The opening's reads are local activities; while one fails (PostgreSQL away) it
    retries in the workflow task for two seconds, then on timers: the case opens once the
    read works, and the history holds a few events per retry, not a heartbeat every few
    seconds of the outage."""
    tries: list[int] = []
    activities = activities_for(pool, settings)
    real = next(a for a in activities if getattr(a, "__name__", "") == "customer_profile")

    @activity.defn(name="customer_profile")
    async def flaky_profile(ref: str) -> CustomerProfile:
        tries.append(activity.info().attempt)
        if len(tries) <= 8:  # backoffs 0.2, 0.4 ... 25.6 s: the last four on timers
            raise RuntimeError("connection refused")
        return await real(ref)  # type: ignore[operator, no-any-return]

    def named(name: str) -> Any:
        return next(a for a in activities if getattr(a, "__name__", "") == name)

    opening = OpeningActivities(named("case_rules"), flaky_profile, named("append_opening"))
    others = [a for a in activities if getattr(a, "__name__", "") != "open_case"]
    async with Worker(
        ts_env.client,
        task_queue=settings.task_queue,
        workflows=[WF],
        activities=[opening.open_case, *others],
    ):
        started = asyncio.create_task(
            start_case(ts_env.client, settings, open_command(case_id), wait=60)
        )
        await skip_time(ts_env, timedelta(minutes=2))  # the backoffs' timers, skipped
        opened = await started
        history = await ts_env.client.get_workflow_handle(workflow_id(case_id)).fetch_history()
    assert opened.version == 1 and tries == list(range(1, 10))
    assert await event_types(pool, case_id) == ["case_opened"]
    events = history.events
    assert not any(e.HasField("activity_task_scheduled_event_attributes") for e in events)
    backoffs = [e for e in events if e.HasField("timer_started_event_attributes")]
    assert len(backoffs) >= 4  # the longer backoffs waited on timers, not in the task
    assert len(events) < 60

"""KeepInTouch: run hourly by a Temporal Schedule, it sends the keep-in-touch messages that
are due (at allowed hours only: a run at night holds them for the morning's run), then
destroys the minimal complaint records whose legal hold has ended."""

from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy

from workflows import schedules

with workflow.unsafe.imports_passed_through():
    from activities.keeping import KeepingActivities

SCHEDULE_ID = "complaints-keep-in-touch"
EVERY = timedelta(hours=1)


@workflow.defn(name="KeepInTouch")
class KeepInTouchWorkflow:
    @workflow.run
    async def run(self) -> dict[str, int]:
        counts = await workflow.execute_activity_method(
            KeepingActivities.keep_in_touch,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RetryPolicy(maximum_attempts=3),
            summary="keep in touch with customers not seen for a while",
        )
        destroyed = await workflow.execute_activity_method(
            KeepingActivities.end_legal_holds,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_attempts=3),
            summary="destroy complaint records whose legal hold ended",
        )
        return {**counts, "records_destroyed": destroyed}


async def ensure_schedule(
    client: Client, task_queue: str, schedule_id: str = SCHEDULE_ID, every: timedelta = EVERY
) -> bool:
    """Create the run's schedule unless it exists; returns whether it was created."""
    return await schedules.ensure_schedule(
        client, KeepInTouchWorkflow.run, schedule_id, task_queue, every
    )

"""RetentionSweep: run daily by a Temporal Schedule, it removes the personal data of customers
whose cases all closed longer ago than COMPLAINTS_RETENTION (store.retention)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.retention import RetentionActivities

SCHEDULE_ID = "complaints-retention"
EVERY = timedelta(days=1)


@workflow.defn(name="RetentionSweep")
class RetentionWorkflow:
    @workflow.run
    async def run(self, dry_run: bool = False) -> dict[str, object]:
        return await workflow.execute_activity_method(
            RetentionActivities.apply_retention,
            dry_run,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RetryPolicy(maximum_attempts=3),
            summary="remove closed cases' personal data past the retention period",
        )


async def ensure_schedule(
    client: Client, task_queue: str, schedule_id: str = SCHEDULE_ID, every: timedelta = EVERY
) -> bool:
    """Create the daily retention schedule unless it exists; returns whether it was created."""
    try:
        await client.create_schedule(
            schedule_id,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    RetentionWorkflow.run,
                    False,
                    id=f"{schedule_id}-run",
                    task_queue=task_queue,
                ),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
                policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
            ),
        )
    except ScheduleAlreadyRunningError:
        return False
    return True

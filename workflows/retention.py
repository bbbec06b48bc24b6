"""RetentionSweep: run daily by a Temporal Schedule, it removes the personal data of customers
whose cases all closed longer ago than COMPLAINTS_RETENTION (store.retention)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy

from workflows import schedules

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
    return await schedules.ensure_schedule(
        client, RetentionWorkflow.run, schedule_id, task_queue, every, args=(False,)
    )

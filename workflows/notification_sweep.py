"""NotificationSweep: run by a Temporal Schedule, it sends the notices whose case gave up
on them (retries exhausted while a receiver was down, or a worker lost mid-send)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy

from workflows import schedules

with workflow.unsafe.imports_passed_through():
    from activities.notify import NotifyActivities

SCHEDULE_ID = "complaints-notification-sweep"
EVERY = timedelta(minutes=5)


@workflow.defn(name="NotificationSweep")
class NotificationSweepWorkflow:
    @workflow.run
    async def run(self) -> dict[str, int]:
        return await workflow.execute_activity_method(
            NotifyActivities.sweep_notifications,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_attempts=3),
            summary="send notices left unsent",
        )


async def ensure_schedule(
    client: Client, task_queue: str, schedule_id: str = SCHEDULE_ID, every: timedelta = EVERY
) -> bool:
    """Create the sweep's schedule unless it exists; returns whether it was created."""
    return await schedules.ensure_schedule(
        client, NotificationSweepWorkflow.run, schedule_id, task_queue, every
    )

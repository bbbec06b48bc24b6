"""NotificationSweep: run by a Temporal Schedule, it sends the notices whose case gave up
on them (retries exhausted while a receiver was down, or a worker lost mid-send)."""

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
    try:
        await client.create_schedule(
            schedule_id,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    NotificationSweepWorkflow.run,
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

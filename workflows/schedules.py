"""The service's own Temporal Schedules (the notification sweep, retention, keeping in
touch): each starts one workflow every so often, skipping a run while the last one is busy."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

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


async def ensure_schedule(
    client: Client,
    run: Callable[..., Awaitable[Any]],
    schedule_id: str,
    task_queue: str,
    every: timedelta,
    args: tuple[Any, ...] = (),
) -> bool:
    """Create the schedule that starts `run` every `every` unless it exists; returns whether
    it was created (a schedule already there is left as the operator may have changed it)."""
    try:
        await client.create_schedule(
            schedule_id,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    run, args=args, id=f"{schedule_id}-run", task_queue=task_queue
                ),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
                policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
            ),
        )
    except ScheduleAlreadyRunningError:
        return False
    return True

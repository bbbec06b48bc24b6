"""The bare baseline: the same number of Updates as a case walk, one no-op activity of the
same kind as ours (a regular activity) per Update and one at start, and nothing else.

With `search_attributes` it also upserts one search attribute (ComplaintStep) after its
start and after every Update's activity, as a case does where staff filter by its step:
a reference that shows what those index writes cost the server (bench `loaded`). With
`timers` as well it waits for each Update on a 24-hour timer that the Update cancels, as a
case's response clock does: the least a case must make the server do (bench `loaded`).

`kept` (its own worker, `python -m bench.baseline --kept`, on KEPT_QUEUE) is that floor
doing as well what the brief asks of every case besides the method: each action recorded
durably in PostgreSQL (one single-row INSERT, committed, per activity) and every payload
sealed by the service's codec. Not a target's reference: it shows how much of our worker's
CPU beyond the floor's those two requirements alone take (bench `loaded`)."""

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.worker import Worker

# Passed through the workflow sandbox, as workflows/complaint.py does: the converter pulls in
# the codec's `cryptography`, whose native module cannot be imported a second time there.
with workflow.unsafe.imports_passed_through():
    from infra.converter import DATA_CONVERTER

if TYPE_CHECKING:
    import asyncpg

TASK_QUEUE = "baseline"
KEPT_QUEUE = "baseline-kept"
RESPONSE = timedelta(hours=24)  # a step's response target
STEP = SearchAttributeKey.for_keyword("ComplaintStep")  # registered by the benchmark's server


@activity.defn
async def noop(step: str) -> str:
    return step


class Records:
    """The kept floor's activity: the step recorded, one committed INSERT."""

    def __init__(self, pool: "asyncpg.Pool") -> None:
        self.pool = pool

    @activity.defn(name="record")
    async def record(self, step: str) -> str:
        await self.pool.execute("INSERT INTO bench_floor_records (step) VALUES ($1)", step)
        return step


@workflow.defn(name="BaselineWorkflow")
class BaselineWorkflow:
    def __init__(self) -> None:
        self.steps = 0
        self.search_attributes = self.kept = False
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(
        self,
        updates: int,
        search_attributes: bool = False,
        timers: bool = False,
        kept: bool = False,
    ) -> int:
        self.search_attributes, self.kept = search_attributes, kept
        await self._act("open")
        self._upsert("open")
        while timers and self.steps < updates:
            with contextlib.suppress(TimeoutError):  # a timer, cancelled by the next Update
                await workflow.wait_condition(self._stepped_past(self.steps), timeout=RESPONSE)
        await workflow.wait_condition(lambda: self.steps >= updates)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.steps

    def _stepped_past(self, steps: int) -> Callable[[], bool]:
        return lambda: self.steps != steps

    @workflow.update
    async def step(self, name: str) -> int:
        async with self.lock:  # our workflow serializes decisions the same way
            await self._act(name)
            self.steps += 1
            self._upsert(name)
        return self.steps

    async def _act(self, step: str) -> None:
        if self.kept:
            await workflow.execute_activity(
                "record", step, start_to_close_timeout=timedelta(seconds=10), result_type=str
            )
        else:
            await workflow.execute_activity(
                noop, step, start_to_close_timeout=timedelta(seconds=10)
            )

    def _upsert(self, step: str) -> None:
        if self.search_attributes:
            workflow.upsert_search_attributes([STEP.value_set(step)])


async def main(kept: bool) -> None:
    import asyncpg

    from infra.connection import codec_for
    from infra.converter import data_converter
    from infra.sandbox import workflow_runner
    from infra.settings import Settings

    settings = Settings()
    # The kept floor seals with the service's codec and keys, as our worker does.
    converter = data_converter(codec_for(settings)) if kept else DATA_CONVERTER
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"], data_converter=converter)
    activities: list[Callable[..., Any]] = [noop]
    pool = None
    if kept:
        pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=10)
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor_records (id bigserial PRIMARY KEY,"
            " step text NOT NULL, at timestamptz NOT NULL DEFAULT now())"
        )
        activities.append(Records(pool).record)
    # Run the way our worker runs (COMPLAINTS_WORKFLOW_SANDBOX, off by default): the floor's
    # worker CPU is compared with ours, so neither pays for a sandbox the other goes without.
    worker = Worker(
        client,
        task_queue=KEPT_QUEUE if kept else TASK_QUEUE,
        workflows=[BaselineWorkflow],
        activities=activities,
        workflow_runner=workflow_runner(settings.workflow_sandbox),
    )
    try:
        await worker.run()
    finally:
        if pool is not None:
            await pool.close()


if __name__ == "__main__":
    asyncio.run(main(kept="--kept" in sys.argv[1:]))

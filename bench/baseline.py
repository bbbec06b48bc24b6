"""The bare baseline: the same number of Updates as a case walk, one no-op activity of the
same kind as ours (a regular activity) per Update and one at start, and nothing else.

With `search_attributes` it also upserts one search attribute (ComplaintStep) after its
start and after every Update's activity, as a case does where staff filter by its step:
a reference that shows what those index writes cost the server (bench `loaded`). With
`timers` as well it waits for each Update on a 24-hour timer that the Update cancels, as a
case's response clock does: the least a case must make the server do (bench `loaded`)."""

import asyncio
import contextlib
import os
from collections.abc import Callable
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.worker import Worker

# Passed through the workflow sandbox, as workflows/complaint.py does: the converter pulls in
# the codec's `cryptography`, whose native module cannot be imported a second time there.
with workflow.unsafe.imports_passed_through():
    from infra.converter import DATA_CONVERTER

TASK_QUEUE = "baseline"
RESPONSE = timedelta(hours=24)  # a step's response target
STEP = SearchAttributeKey.for_keyword("ComplaintStep")  # registered by the benchmark's server


@activity.defn
async def noop(step: str) -> str:
    return step


@workflow.defn(name="BaselineWorkflow")
class BaselineWorkflow:
    def __init__(self) -> None:
        self.steps = 0
        self.search_attributes = False
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self, updates: int, search_attributes: bool = False, timers: bool = False) -> int:
        self.search_attributes = search_attributes
        await workflow.execute_activity(noop, "open", start_to_close_timeout=timedelta(seconds=10))
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
            await workflow.execute_activity(
                noop, name, start_to_close_timeout=timedelta(seconds=10)
            )
            self.steps += 1
            self._upsert(name)
        return self.steps

    def _upsert(self, step: str) -> None:
        if self.search_attributes:
            workflow.upsert_search_attributes([STEP.value_set(step)])


async def main() -> None:
    from infra.sandbox import workflow_runner
    from infra.settings import Settings

    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"], data_converter=DATA_CONVERTER)
    # Run the way our worker runs (COMPLAINTS_WORKFLOW_SANDBOX, off by default): the floor's
    # worker CPU is compared with ours, so neither pays for a sandbox the other goes without.
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[BaselineWorkflow],
        activities=[noop],
        workflow_runner=workflow_runner(Settings().workflow_sandbox),
    )
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())

"""Record the histories the replay test checks: `python -m tests.workflows.record_histories`.

Run it after a deliberate, versioned change to ComplaintWorkflow, and keep the old files
too: running cases were started on the old code, and it must still replay them.
"""

import asyncio
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from app.cases import start_case
from domain.commands import (
    AnalyzeCause,
    Apologize,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    RecordDelay,
    RecordSatisfaction,
    ShowPrevention,
    Withdraw,
)
from domain.model import Fault, IntakeChannel, Motive, RemedyKind
from infra import postgres, temporal_server
from infra.converter import DATA_CONVERTER
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from store import migrations, scope
from tests.helpers import open_command, skip_time, workflow_id
from worker import build_worker
from workflows import search_attributes
from workflows.complaint import ComplaintWorkflow

HISTORIES = Path(__file__).parent / "histories"
WF = ComplaintWorkflow


async def full_walk(
    env: WorkflowEnvironment, client: Client, settings: Settings, case_id: str
) -> None:
    await start_case(client, settings, open_command(case_id))
    handle = client.get_workflow_handle_for(WF.run, workflow_id(case_id))
    await handle.execute_update(WF.apologize, Apologize(what="Sorry the cake was crushed"))
    await handle.execute_update(WF.empathize, Empathize(customer_words="It was for my son"))
    await handle.execute_update(
        WF.analyze_cause, AnalyzeCause(cause="Box slid in the van", fault=Fault.OURS)
    )
    await handle.execute_update(
        WF.offer_resolution,
        OfferResolution(
            options=[
                OfferedRemedy(kind=RemedyKind.FREE_REDO),
                OfferedRemedy(kind=RemedyKind.FULL_REFUND),
            ],
            plan="A new cake tomorrow or a full refund",
        ),
    )
    await handle.execute_update(
        WF.record_customer_response, RecordCustomerResponse(decline_reason="Too late for the party")
    )
    await handle.execute_update(
        WF.offer_resolution,
        OfferResolution(options=[OfferedRemedy(kind=RemedyKind.FULL_REFUND)], plan="Full refund"),
    )
    await skip_time(env, timedelta(hours=80))  # the customer takes their time: a reminder
    await asyncio.sleep(1)
    await handle.execute_update(
        WF.record_customer_response, RecordCustomerResponse(choice=RemedyKind.FULL_REFUND)
    )
    await handle.execute_update(WF.show_prevention, ShowPrevention(measure="Non-slip mats"))
    await skip_time(env, timedelta(days=7, hours=1))  # the follow-up call falls due
    await asyncio.sleep(1)
    await handle.execute_update(WF.record_satisfaction, RecordSatisfaction(score=2))
    await handle.execute_update(WF.withdraw, Withdraw(reason="Settled in the shop"))
    await finish(env, handle)


async def escalated_then_walked(
    env: WorkflowEnvironment, client: Client, settings: Settings, case_id: str
) -> None:
    await start_case(client, settings, open_command(case_id, motive=Motive.ANGER))
    handle = client.get_workflow_handle_for(WF.run, workflow_id(case_id))
    await skip_time(env, timedelta(hours=50))  # warning, level 1, warning, level 2
    await asyncio.sleep(1)  # let the worker store the clock's events
    await handle.execute_update(WF.apologize, Apologize(what="Sorry we were rude on the phone"))
    await handle.execute_update(WF.withdraw, Withdraw(reason="Customer asked to close it"))
    await finish(env, handle)


async def review_held_overnight(
    env: WorkflowEnvironment, client: Client, settings: Settings, case_id: str
) -> None:
    """A public review: the reply drafted, held for a night's calm; notices held for
    opening hours are released by the case's own timer (v5 on)."""
    review = open_command(case_id, motive=Motive.PROTECT_OTHERS, channel=IntakeChannel.REVIEW)
    await start_case(client, settings, review)
    handle = client.get_workflow_handle_for(WF.run, workflow_id(case_id))
    await handle.execute_update(WF.apologize, Apologize(what="We are sorry about the soup"))
    await skip_time(env, timedelta(days=3))  # the post time, a step's target, its escalation
    await asyncio.sleep(1)
    await handle.execute_update(WF.empathize, Empathize(customer_words="It was cold"))
    await handle.execute_update(WF.withdraw, Withdraw(reason="Answered in public"))
    await finish(env, handle)


async def delayed_then_walked(
    env: WorkflowEnvironment, client: Client, settings: Settings, case_id: str
) -> None:
    """Bad news before the deadline (v7 on): the redo will be late, the customer is told, the
    target moves; warned and escalated past the new time, then prevention is shown."""
    await start_case(client, settings, open_command(case_id))
    handle = client.get_workflow_handle_for(WF.run, workflow_id(case_id))
    await handle.execute_update(WF.apologize, Apologize(what="Sorry the cake was crushed"))
    await handle.execute_update(WF.empathize, Empathize(customer_words="It was for my son"))
    await handle.execute_update(
        WF.analyze_cause, AnalyzeCause(cause="Box slid in the van", fault=Fault.OURS)
    )
    await handle.execute_update(
        WF.offer_resolution,
        OfferResolution(options=[OfferedRemedy(kind=RemedyKind.FREE_REDO)], plan="A new cake"),
    )
    state = await handle.execute_update(
        WF.record_customer_response, RecordCustomerResponse(choice=RemedyKind.FREE_REDO)
    )
    assert state.due_at is not None
    until = state.due_at + timedelta(hours=6)
    await handle.execute_update(WF.record_delay, RecordDelay(until=until, reason="Oven broke"))
    await skip_time(env, timedelta(hours=31))  # past the first target: quiet; past the new: late
    await asyncio.sleep(1)
    await handle.execute_update(WF.show_prevention, ShowPrevention(measure="Boxes strapped"))
    await handle.execute_update(WF.withdraw, Withdraw(reason="Settled in the shop"))


async def rules_changed(
    env: WorkflowEnvironment, client: Client, settings: Settings, case_id: str, pool: Any
) -> None:
    """The owner raises the target from 24 h to 48 h two hours into the apology's window:
    the case reads the rules again and its escalation moves (v7 on)."""
    await start_case(client, settings, open_command(case_id))
    handle = client.get_workflow_handle_for(WF.run, workflow_id(case_id))
    await skip_time(env, timedelta(hours=2))
    await pool.execute(
        "INSERT INTO rulebook (key, value, updated_by) VALUES ('response_target', '48h', "
        "'record') ON CONFLICT (shop_id, key) DO UPDATE SET value = EXCLUDED.value"
    )
    try:
        await handle.signal(WF.rules_changed, "response_target changed")
        await asyncio.sleep(1)
        await skip_time(env, timedelta(hours=30))  # past the old due time: nothing fires
        await asyncio.sleep(1)
        await handle.execute_update(WF.apologize, Apologize(what="Sorry for the wait"))
        await handle.execute_update(WF.withdraw, Withdraw(reason="Settled in the shop"))
    finally:
        await pool.execute("DELETE FROM rulebook")
    await finish(env, handle)


async def finish(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> None:
    """The test server does not skip time for `result()` right after an Update: move the
    clock over any notice still held for opening hours first."""
    await skip_time(env, timedelta(days=7))
    await handle.result()


async def main() -> None:
    with scope.shop(FIRST_SHOP):  # the cases are the first shop's, as the engine's tests
        await record()


async def record() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_server.binary("temporal-test-server"),
        data_converter=DATA_CONVERTER,
    )
    await temporal_server.register_search_attributes(env.client, search_attributes.ALL)
    url = postgres.start_embedded(Path(".data/record"))
    pool = await postgres.connect(url, scope=FIRST_SHOP)
    await migrations.migrate(pool)
    settings = Settings(task_queue="record", database_url=url)
    tag = sys.argv[1] if len(sys.argv) > 1 else "v2"
    only = set(sys.argv[2:])  # scenario names; none: all of them
    try:
        async with build_worker(env.client, pool, settings):
            for name, scenario in [
                ("full_walk", lambda c: full_walk(env, env.client, settings, c)),
                (
                    "escalated_then_walked",
                    lambda c: escalated_then_walked(env, env.client, settings, c),
                ),
                (
                    "review_held_overnight",
                    lambda c: review_held_overnight(env, env.client, settings, c),
                ),
                (
                    "delayed_then_walked",
                    lambda c: delayed_then_walked(env, env.client, settings, c),
                ),
                ("rules_changed", lambda c: rules_changed(env, env.client, settings, c, pool)),
            ]:
                if only and name not in only:
                    continue
                case_id = uuid.uuid4().hex[:8]
                await scenario(case_id)
                history = await env.client.get_workflow_handle(workflow_id(case_id)).fetch_history()
                HISTORIES.mkdir(exist_ok=True)
                path = HISTORIES / f"{tag}_{name}.json"
                path.write_text(history.to_json())
                print(f"recorded {path} ({len(history.events)} events)")
    finally:
        await pool.close()
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())

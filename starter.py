"""`complaints`: the staff CLI. Thin: parse, build a typed command, send it, print the answer."""

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.commands import (
    AnalyzeCause,
    Apologize,
    Empathize,
    OfferResolution,
    OpenCase,
    ShowPrevention,
    Withdraw,
)
from domain.model import STEPS, CaseState, Channel, Customer, Fault, Motive
from infra.settings import Settings, explain
from workflows import details
from workflows.complaint import ComplaintWorkflow


class CliError(Exception):
    """One clear line for the user; the CLI exits non-zero."""


def workflow_id(case_id: str) -> str:
    return f"complaint-{case_id}"


def case_link(settings: Settings, case_id: str) -> str:
    namespace = settings.temporal_namespace
    return f"{settings.ui_url}/namespaces/{namespace}/workflows/{workflow_id(case_id)}"


def new_case_id() -> str:
    return uuid.uuid4().hex[:8]


async def connect(settings: Settings) -> Client:
    from worker import connect_client

    try:
        return await connect_client(settings)
    except RuntimeError as err:
        raise CliError(
            f"cannot reach Temporal at {settings.temporal_address}: start the service with "
            "`make run` (or set TEMPORAL_ADDRESS)"
        ) from err


async def open_case(
    client: Client, settings: Settings, command: OpenCase, wait: float = 15.0
) -> CaseState:
    """Start the case's workflow and wait until its opening is stored."""
    handle = await client.start_workflow(
        ComplaintWorkflow.run,
        command,
        id=workflow_id(command.case_id),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        static_summary=details.summary(command.case_id, command.motive, command.channel),
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while loop.time() < deadline:
        try:
            state = await handle.query(ComplaintWorkflow.state)
        except RPCError:
            state = None  # no worker has taken the first task yet
        if state is not None:
            return state
        await asyncio.sleep(0.05)
    raise CliError(
        f"case {command.case_id} was started but not stored within {wait:.0f} s: "
        "is the worker running (`make run`)?"
    )


async def send(handle: WorkflowHandle, update: Callable[..., Any], command: BaseModel) -> CaseState:
    try:
        return await handle.execute_update(update, command)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise CliError(
            cause.message if isinstance(cause, ApplicationError) else str(cause)
        ) from err
    except RPCError as err:
        raise _rpc_error(handle, err) from err


def _rpc_error(handle: WorkflowHandle, err: RPCError) -> CliError:
    case_id = handle.id.removeprefix("complaint-")
    if err.status == RPCStatusCode.NOT_FOUND:
        if "update" in err.message.lower() and "not found" not in err.message.lower():
            return CliError(err.message)
        return CliError(f"no open case {case_id!r}: check the id with `complaints show`")
    return CliError(f"case {case_id}: {err.message}")


async def show(client: Client, case_id: str) -> CaseState:
    handle = client.get_workflow_handle_for(ComplaintWorkflow.run, workflow_id(case_id))
    try:
        state = await handle.query(ComplaintWorkflow.state)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise CliError(f"no case {case_id!r}") from err
        raise _rpc_error(handle, err) from err
    if state is None:
        raise CliError(f"case {case_id} is still being opened; try again in a moment")
    return state


def render(state: CaseState) -> str:
    rows = [
        f"case      {state.case_id}   ({state.status}, escalation level {state.escalation_level})",
        f"motive    {state.motive}    channel {state.channel}",
        f"opened    {state.opened_at:%Y-%m-%d %H:%M} UTC",
        f"summary   {state.summary}",
    ]
    texts = {
        "apologize": state.apology,
        "empathize": state.customer_words,
        "analyze_cause": f"{state.cause} (fault: {state.fault})" if state.cause else None,
        "offer_resolution": state.resolution,
        "show_prevention": state.prevention,
    }
    for step in STEPS:
        mark = "x" if step in state.steps_done else " "
        rows.append(f"  [{mark}] {step.label:<17} {texts[step.value] or ''}")
    if state.next_step and state.response_due_at:
        rows.append(
            f"next      {state.next_step.label}, due {state.response_due_at:%Y-%m-%d %H:%M} UTC"
        )
    if state.withdrawn_reason:
        rows.append(f"withdrawn {state.withdrawn_reason}")
    return "\n".join(rows)


# -- argument parsing ---------------------------------------------------------------------
STEP_COMMANDS: dict[
    str, tuple[Callable[..., Any], Callable[[argparse.Namespace], BaseModel], str]
] = {
    "apologize": (
        ComplaintWorkflow.apologize,
        lambda a: Apologize(what=a.text, by=a.by),
        "apologize for the specific thing that went wrong",
    ),
    "empathize": (
        ComplaintWorkflow.empathize,
        lambda a: Empathize(customer_words=a.text, by=a.by),
        "record what the customer said, in their words",
    ),
    "analyze": (
        ComplaintWorkflow.analyze_cause,
        lambda a: AnalyzeCause(cause=a.text, fault=a.fault, by=a.by),
        "state the cause and whose fault it was",
    ),
    "offer": (
        ComplaintWorkflow.offer_resolution,
        lambda a: OfferResolution(plan=a.text, by=a.by),
        "offer a concrete resolution",
    ),
    "prevent": (
        ComplaintWorkflow.show_prevention,
        lambda a: ShowPrevention(measure=a.text, by=a.by),
        "state what changes so it does not happen again",
    ),
    "withdraw": (
        ComplaintWorkflow.withdraw,
        lambda a: Withdraw(reason=a.text, by=a.by),
        "end the case with a reason",
    ),
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="complaints", description="Handle customer complaints.")
    sub = p.add_subparsers(dest="command", required=True)
    o = sub.add_parser("open", help="open a complaint case")
    o.add_argument("--name", required=True, help="customer's name")
    o.add_argument("--phone", required=True, help="customer's phone, e.g. 010-1234-5678")
    o.add_argument("--channel", required=True, choices=[c.value for c in Channel])
    o.add_argument("--motive", required=True, choices=[m.value for m in Motive])
    o.add_argument("--what", required=True, help="what happened")
    o.add_argument("--by", help="staff member opening the case")
    for name, (_, _, help_text) in STEP_COMMANDS.items():
        s = sub.add_parser(name, help=help_text)
        s.add_argument("case_id")
        s.add_argument("text")
        s.add_argument("--by", help="staff member acting")
        if name == "analyze":
            s.add_argument("--fault", required=True, choices=[f.value for f in Fault])
    sh = sub.add_parser("show", help="show a case")
    sh.add_argument("case_id")
    sh.add_argument("--json", action="store_true")
    sub.add_parser("rebuild", help="rebuild complaint_cases from complaint_events")
    return p


async def run(args: argparse.Namespace, settings: Settings) -> str:
    if args.command == "rebuild":
        return await _rebuild(settings)
    if args.command == "open":
        command = OpenCase(
            case_id=new_case_id(),
            customer=Customer(name=args.name, phone=args.phone),
            channel=args.channel,
            motive=args.motive,
            summary=args.what,
            targets=settings.targets_for(Motive(args.motive)),
            by=args.by,
        )
        client = await connect(settings)
        state = await open_case(client, settings, command)
        due = f"{state.response_due_at:%Y-%m-%d %H:%M} UTC"
        link = case_link(settings, state.case_id)
        return f"opened case {state.case_id}: next, apologize (due {due})\n{link}"
    if args.command == "show":
        state = await show(await connect(settings), args.case_id)
        return state.model_dump_json(indent=2) if args.json else render(state)
    update, build, _ = STEP_COMMANDS[args.command]
    command = build(args)
    client = await connect(settings)
    state = await send(
        client.get_workflow_handle_for(ComplaintWorkflow.run, workflow_id(args.case_id)),
        update,
        command,
    )
    following = state.next_step.label if state.next_step else "none"
    return f"case {state.case_id}: {args.command} recorded ({state.status}); next: {following}"


async def _rebuild(settings: Settings) -> str:
    from activities.store import rebuild_read_model
    from infra import postgres

    url = postgres.configured_url(settings.database_url, settings.data_dir)
    if url is None:
        raise CliError("no database: set DATABASE_URL or start the service with `make run`")
    pool = await postgres.connect(url)
    try:
        cases = await rebuild_read_model(pool)
    finally:
        await pool.close()
    return f"rebuilt complaint_cases: {cases} cases"


def fail(message: str) -> NoReturn:
    print(f"complaints: error: {message}", file=sys.stderr)
    raise SystemExit(1)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings()
        print(asyncio.run(run(args, settings)))
    except ValidationError as err:
        fail(explain(err))
    except CliError as err:
        fail(str(err))
    return 0


def cli() -> None:
    """The console script. It skips interpreter teardown once its output is flushed: the
    Temporal core's threads can touch the GIL during finalization of a short-lived client
    process and crash it (temporalio/sdk-python#300, open)."""
    try:
        code = main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    cli()

"""`complaints`: the staff CLI. Thin: parse, build a typed command, send it, print the answer."""

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NoReturn

import asyncpg
from pydantic import BaseModel, TypeAdapter, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, FailureError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.customers import CustomerDirectory
from activities.notify import LogSender, Outbox
from activities.store import EventStore, rebuild_read_model
from domain.calendar import due_at
from domain.commands import (
    AnalyzeCause,
    Apologize,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    OpenCase,
    RecordCustomerResponse,
    RecordSatisfaction,
    ShowPrevention,
    Withdraw,
)
from domain.model import (
    STEPS,
    CaseState,
    CaseStatus,
    Channel,
    Customer,
    Fault,
    Motive,
    RemedyKind,
    Text,
)
from domain.remedies import remedy_menu
from domain.summary import CaseSummary
from infra import connection, postgres, telemetry, temporal_server
from infra.calendar import holiday_names
from infra.case_ids import case_id_for_key, new_case_id, read_case_id
from infra.settings import Duration, Settings, explain, target_modes
from reporting.cases import CaseFilter, export_csv, list_cases
from reporting.report import period_report
from reporting.report import render as render_report
from store import calendar as calendar_store
from store import migrations
from worker import thresholds_for
from workflows import details, search_attributes
from workflows.complaint import ComplaintWorkflow


class CliError(Exception):
    """One clear line for the user; the CLI exits non-zero."""

    code = 1


class NotStoredYet(CliError):
    """The case exists in Temporal but no worker has stored its opening yet."""

    code = 3


class CaseIdTaken(CliError):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"case id {case_id} is taken by another case")


def workflow_id(case_id: str) -> str:
    return f"complaint-{case_id}"


def case_link(settings: Settings, case_id: str) -> str:
    namespace = settings.temporal_namespace
    return f"{settings.ui_url}/namespaces/{namespace}/workflows/{workflow_id(case_id)}"


async def connect(settings: Settings) -> Client:
    try:
        return await connection.connect(settings)
    except RuntimeError as err:
        raise CliError(
            f"cannot reach Temporal at {settings.temporal_address}: start the service with "
            "`make run` (or set TEMPORAL_ADDRESS)"
        ) from err


async def open_case(
    client: Client,
    settings: Settings,
    command: OpenCase,
    wait: float = 15.0,
    keyed: bool = False,
) -> CaseState:
    """Start the case's workflow and wait until its opening is stored.

    A case id is never used twice: a second start for an id that exists, running or
    ended, is refused by the server. With `keyed` (the id came from an idempotency key)
    that existing case is the answer instead, so a retried `open` never makes a second.
    """
    try:
        handle = await client.start_workflow(
            ComplaintWorkflow.run,
            command,
            id=workflow_id(command.case_id),
            task_queue=settings.task_queue,
            id_conflict_policy=(
                WorkflowIDConflictPolicy.USE_EXISTING if keyed else WorkflowIDConflictPolicy.FAIL
            ),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=details.summary(command.case_id, command.motive, command.channel),
        )
    except WorkflowAlreadyStartedError:
        if not keyed:
            raise CaseIdTaken(command.case_id) from None
        handle = client.get_workflow_handle_for(ComplaintWorkflow.run, workflow_id(command.case_id))
    state = await _stored_opening(handle, command.case_id, wait)
    if keyed:
        _same_request(state, command)
    return state


async def _stored_opening(handle: WorkflowHandle, case_id: str, wait: float) -> CaseState:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        try:
            state = await handle.query(ComplaintWorkflow.current, rpc_timeout=timedelta(seconds=2))
        except (RPCError, WorkflowQueryFailedError):
            state = None  # no worker has taken the first task yet, or the start failed
        if state is not None:
            return state
        description = await handle.describe()
        if description.status not in (None, WorkflowExecutionStatus.RUNNING):
            raise CliError(f"case {case_id} could not be opened: {await _failure(handle)}")
        if loop.time() >= deadline:
            raise NotStoredYet(
                f"case {case_id} exists and will be stored as soon as a worker runs "
                f"(none answered within {wait:.0f} s: is `make run` running?); do not open it "
                f"again: `complaints show {case_id}` tells when it is stored"
            )
        await asyncio.sleep(0.05)


async def _failure(handle: WorkflowHandle) -> str:
    try:
        await handle.result()
    except WorkflowFailureError as err:
        cause = err.cause
        while isinstance(cause, FailureError) and cause.cause is not None:
            cause = cause.cause
        return cause.message if isinstance(cause, FailureError) else str(cause)
    return "its workflow ended"


def _same_request(state: CaseState, command: OpenCase) -> None:
    """A key used again must describe the same complaint, or it is a mistake to say so."""
    theirs = (state.customer_id, state.motive, state.channel, state.summary)
    ours = (command.customer_id, command.motive, command.channel, command.summary)
    if theirs != ours:
        raise CliError(
            f"this idempotency key already opened case {state.case_id} with other details; "
            "use a new key for a new complaint"
        )


async def send(
    handle: WorkflowHandle,
    update: Callable[..., Any],
    command: BaseModel,
    settings: Settings | None = None,
) -> CaseSummary:
    try:
        return await handle.execute_update(update, command)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise CliError(
            cause.message if isinstance(cause, ApplicationError) else str(cause)
        ) from err
    except RPCError as err:
        ended = await _ended(handle, settings or Settings()) if _not_found(err) else None
        raise (ended or _rpc_error(handle, err)) from err


def _not_found(err: RPCError) -> bool:
    return err.status == RPCStatusCode.NOT_FOUND


def _rpc_error(handle: WorkflowHandle, err: RPCError) -> CliError:
    case_id = handle.id.removeprefix("complaint-")
    if err.status == RPCStatusCode.NOT_FOUND:
        if "update" in err.message.lower() and "not found" not in err.message.lower():
            return CliError(err.message)
        return CliError(f"no open case {case_id!r}: check the id with `complaints list`")
    return CliError(f"case {case_id}: {err.message}")


async def _ended(handle: WorkflowHandle, settings: Settings) -> CliError | None:
    """Why an action found no running case: it ended (and when), or there is none."""
    case_id = handle.id.removeprefix("complaint-")
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return CliError(f"no case {case_id!r}: check the id with `complaints list`")
        return None
    if description.status == WorkflowExecutionStatus.RUNNING:
        return None
    status = description.typed_search_attributes.get(search_attributes.STATUS)
    how = status if status in ("closed", "withdrawn") else "ended"
    when = description.close_time.astimezone(settings.zone) if description.close_time else None
    since = f" on {when:%Y-%m-%d %H:%M %Z}" if when else ""
    return CliError(
        f"case {case_id} is {how}{since}: nothing more can be recorded "
        f"(see it with `complaints show {case_id}`)"
    )


async def show(client: Client, case_id: str, settings: Settings | None = None) -> CaseState:
    """The case as its workflow knows it; with no worker answering, the read model's copy."""
    handle = client.get_workflow_handle_for(ComplaintWorkflow.run, workflow_id(case_id))
    try:
        state = await handle.query(ComplaintWorkflow.current, rpc_timeout=timedelta(seconds=5))
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise CliError(f"no case {case_id!r}: check the id with `complaints list`") from err
        stored = await _stored_state(settings, case_id) if settings else None
        if stored is None:
            raise CliError(
                f"case {case_id}: no worker answered ({err.message}); is `make run` running?"
            ) from err
        return stored
    if state is None:
        raise CliError(f"case {case_id} is still being opened; try again in a moment")
    return state


async def _stored_state(settings: Settings, case_id: str) -> CaseState | None:
    try:
        pool = await _database(settings)
    except CliError:
        return None
    try:
        return await EventStore(pool).case_state(case_id)
    finally:
        await pool.close()


def render(state: CaseState) -> str:
    profile = state.profile
    rows = [
        f"case      {state.case_id}   ({state.status}, at {state.stage}, "
        f"escalation level {state.escalation_level})",
        f"motive    {state.motive}    channel {state.channel}    customer tier {profile.tier} "
        f"({profile.visits} visits, {profile.previous_cases} earlier cases)",
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
    for offer in state.offers:
        options = "; ".join(f"{o.kind}: {o.terms}" for o in offer.options)
        rows.append(
            f"offer {offer.round}   {options}" + ("  [owner override]" if offer.overridden else "")
        )
    if state.accepted:
        rows.append(f"accepted  {state.accepted.kind}: {state.accepted.terms}")
    rows += _next(state)
    if state.rating is not None:
        rows.append(f"rating    {state.rating}/5  {state.rating_comment or ''}".rstrip())
    if state.withdrawn_reason:
        rows.append(f"withdrawn {state.withdrawn_reason}")
    if state.closed_reason:
        rows.append(f"closed    {state.closed_reason}")
    return "\n".join(rows)


def _next(state: CaseState) -> list[str]:
    if state.status == CaseStatus.AWAITING_CUSTOMER:
        return [
            "next      the customer's answer: `complaints answer <case> --choose KIND` "
            "or `--decline REASON` (staff clock paused)"
        ]
    if state.status == CaseStatus.RESOLVED and state.follow_up_due_at:
        return [
            f"next      follow-up call from {state.follow_up_due_at:%Y-%m-%d}: "
            "`complaints rate <case> SCORE`"
        ]
    rows = []
    if state.next_step and state.response_due_at:
        rows.append(
            f"next      {state.next_step.label}, due {state.response_due_at:%Y-%m-%d %H:%M} UTC"
        )
    if state.stage == "offer_resolution" and state.fault is not None:
        menu = remedy_menu(state.motive, state.fault, state.profile.tier, state.breached)
        rows.append(f"remedies  {', '.join(menu.allowed)}")
        rows.append(f"          recommended: {menu.recommended} ({menu.why})")
    return rows


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
        lambda a: OfferResolution(
            options=[parse_option(o) for o in a.option],
            plan=a.text,
            override_reason=a.override,
            by=a.by,
        ),
        "offer the customer one or more concrete remedies",
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


def parse_option(text: str) -> OfferedRemedy:
    """`KIND` or `KIND=terms`, e.g. `partial_refund=30 % back today`."""
    kind, _, terms = text.partition("=")
    try:
        remedy = RemedyKind(kind.strip())
    except ValueError:
        known = ", ".join(k.value for k in RemedyKind)
        raise CliError(f"unknown remedy {kind.strip()!r}; known: {known}") from None
    return OfferedRemedy(kind=remedy, terms=terms.strip() or None)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--status", choices=[s.value for s in CaseStatus])
    p.add_argument("--step", choices=[*(s.value for s in STEPS), *EXTRA_STAGES])
    p.add_argument("--motive", choices=[m.value for m in Motive])
    p.add_argument("--overdue", action="store_true", help="staff owe something already due")
    p.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="opened on or after")


EXTRA_STAGES = ("customer_response", "follow_up", "done")


def _start_of(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time.min, tzinfo=settings.zone)


def case_filter(args: argparse.Namespace, settings: Settings) -> CaseFilter:
    return CaseFilter(
        status=args.status,
        step=args.step,
        motive=args.motive,
        overdue_at=datetime.now(UTC) if args.overdue else None,
        opened_since=_start_of(args.since, settings) if args.since else None,
    )


def render_list(rows: list[dict[str, Any]], total: int, page: int, limit: int) -> str:
    if not rows:
        return "no cases match"
    header = (
        f"{'case':<14} {'status':<17} {'step':<17} {'motive':<15} {'tier':<7} esc  "
        f"{'due':<16} opened"
    )
    lines = [header]
    for r in rows:
        due = f"{r['response_due_at']:%Y-%m-%d %H:%M}" if r["response_due_at"] else "-"
        lines.append(
            f"{r['case_id']:<14} {r['status']:<17} {r['step'] or '-':<17} {r['motive']:<15} "
            f"{r['tier'] or '-':<7} {r['escalation_level']:>3}  {due:<16} "
            f"{r['opened_at']:%Y-%m-%d %H:%M}"
        )
    pages = max(1, -(-total // limit))
    lines.append(f"page {page} of {pages}, {total} cases (times UTC)")
    return "\n".join(lines)


class Parser(argparse.ArgumentParser):
    """Usage mistakes as one line, like every other refusal (subcommands inherit this)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="complaints", description="Handle customer complaints.")
    sub = p.add_subparsers(dest="command", required=True)
    o = sub.add_parser("open", help="open a complaint case")
    o.add_argument("--name", required=True, help="customer's name")
    o.add_argument("--phone", required=True, help="customer's phone, e.g. 010-1234-5678")
    o.add_argument("--channel", required=True, choices=[c.value for c in Channel])
    o.add_argument("--motive", required=True, choices=[m.value for m in Motive])
    o.add_argument("--what", required=True, help="what happened")
    o.add_argument("--by", help="staff member opening the case")
    o.add_argument(
        "--key",
        help="idempotency key: the same key always gives the same case, so a retried "
        "open never makes a second one (e.g. the booking or message id)",
    )
    for name, (_, _, help_text) in STEP_COMMANDS.items():
        s = sub.add_parser(name, help=help_text)
        s.add_argument("case_id")
        s.add_argument("text")
        s.add_argument("--by", help="staff member acting")
        if name == "analyze":
            s.add_argument("--fault", required=True, choices=[f.value for f in Fault])
        if name == "offer":
            s.add_argument(
                "--option",
                action="append",
                required=True,
                metavar="KIND[=TERMS]",
                help="a remedy the customer may choose; repeat for a choice",
            )
            s.add_argument(
                "--override",
                metavar="REASON",
                help="the owner's reason for offering outside the policy",
            )
    a = sub.add_parser("answer", help="record the customer's answer to the offer")
    a.add_argument("case_id")
    answer = a.add_mutually_exclusive_group(required=True)
    answer.add_argument("--choose", metavar="KIND", help="the remedy the customer chose")
    answer.add_argument("--decline", metavar="REASON", help="why the customer declined")
    a.add_argument("--by", help="staff member acting")
    r = sub.add_parser("rate", help="record the follow-up satisfaction score (1-5)")
    r.add_argument("case_id")
    r.add_argument("score", type=int)
    r.add_argument("--comment")
    r.add_argument("--by", help="staff member acting")
    cal = sub.add_parser("calendar", help="the shop's calendar: the next days, due times, closures")
    cal.add_argument("--days", type=int, default=14, help="how many days to show (14)")
    cal_sub = cal.add_subparsers(dest="calendar_command")
    due = cal_sub.add_parser("due", help="when a target started at a time falls due")
    due.add_argument("--target", required=True, help="e.g. 24h, 8h, 4h30m")
    due.add_argument(
        "--from", dest="start", metavar="TIME", help="the shop's local time (default: now)"
    )
    due.add_argument("--mode", choices=["wall", "business"], help="default: the shop's")
    shut = cal_sub.add_parser("close", help="record a day the shop is closed")
    shut.add_argument("day", type=_date, metavar="YYYY-MM-DD")
    shut.add_argument("--reason", required=True)
    fg = sub.add_parser(
        "forget", help="remove a customer's name and phone everywhere (cases stay, anonymous)"
    )
    fg.add_argument("phone")
    v = sub.add_parser("visit", help="record a customer's visit (it sets their tier)")
    v.add_argument("phone")
    v.add_argument("--name")
    sh = sub.add_parser("show", help="show a case")
    sh.add_argument("case_id")
    sh.add_argument("--json", action="store_true")
    sub.add_parser("rebuild", help="rebuild complaint_cases from complaint_events")
    sub.add_parser("migrate", help="apply pending database migrations (a worker start does too)")
    nt = sub.add_parser("notifications", help="notices not delivered yet, oldest first")
    nt.add_argument("--limit", type=int, default=50)
    nt.add_argument("--json", action="store_true")
    sub.add_parser(
        "setup", help="register the search attributes on TEMPORAL_NAMESPACE (once per cluster)"
    )
    ls = sub.add_parser("list", help="list cases, newest first")
    _filters(ls)
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--page", type=int, default=1)
    ls.add_argument("--json", action="store_true")
    rp = sub.add_parser("report", help="the figures for a period (default: the last 30 days)")
    rp.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD")
    rp.add_argument("--to", dest="end", type=_date, metavar="YYYY-MM-DD", help="inclusive")
    rp.add_argument("--json", action="store_true")
    ex = sub.add_parser("export", help="the case rows as CSV (no customer names or phones)")
    _filters(ex)
    ex.add_argument("--output", "-o", help="a file; standard output if left out")
    return p


async def run(args: argparse.Namespace, settings: Settings) -> str:
    if args.command == "migrate":
        return await _migrate(settings)
    if args.command == "notifications":
        return await _notifications(args, settings)
    if args.command == "setup":
        return await _setup(settings)
    if args.command == "rebuild":
        return await _rebuild(settings)
    if args.command == "open":
        return await _open(args, settings)
    if args.command == "show":
        state = await show(await connect(settings), args.case_id, settings)
        return state.model_dump_json(indent=2) if args.json else render(state)
    if args.command in ("list", "report", "export"):
        return await _read_side(args, settings)
    if args.command == "calendar":
        return await _calendar(args, settings)
    if args.command == "forget":
        return await _forget(settings, args.phone)
    if args.command == "visit":
        return await _visit(settings, args.phone, args.name)
    if args.command == "answer":
        update: Callable[..., Any] = ComplaintWorkflow.record_customer_response
        command: BaseModel = RecordCustomerResponse(
            choice=parse_option(args.choose).kind if args.choose else None,
            decline_reason=args.decline,
            by=args.by,
        )
    elif args.command == "rate":
        update = ComplaintWorkflow.record_satisfaction
        command = RecordSatisfaction(score=args.score, comment=args.comment, by=args.by)
    else:
        update, build, _ = STEP_COMMANDS[args.command]
        command = build(args)
    client = await connect(settings)
    state = await send(
        client.get_workflow_handle_for(ComplaintWorkflow.run, workflow_id(args.case_id)),
        update,
        command,
        settings,
    )
    return f"case {state.case_id}: {args.command} recorded ({state.status}); now at {state.stage}"


async def _open(args: argparse.Namespace, settings: Settings) -> str:
    customer = Customer(name=args.name, phone=args.phone)  # refused here, before any write
    customer_id = "cus-unregistered"  # the real one once every field has passed

    def opening(case_id: str) -> OpenCase:
        return OpenCase(
            case_id=case_id,
            customer_id=customer_id,
            channel=args.channel,
            motive=args.motive,
            summary=args.what,
            by=args.by,  # facts only: the worker's rulebook sets the targets
        )

    if args.key is not None and not args.key.strip():
        raise CliError("--key must not be empty")
    opening("probe")  # every other field refused before the customer is stored
    client = await connect(settings)
    pool = await _database(settings)
    try:  # the name and phone go to PostgreSQL; Temporal gets the reference only
        customer_id = await CustomerDirectory(pool).register(customer.phone, customer.name)
    finally:
        await pool.close()
    wait = settings.open_wait.total_seconds()
    if args.key:
        state = await open_case(
            client, settings, opening(case_id_for_key(args.key)), wait, keyed=True
        )
    else:
        for attempt in range(3):  # a fresh random id clashes about never; then try another
            try:
                state = await open_case(client, settings, opening(new_case_id()), wait)
                break
            except CaseIdTaken:
                if attempt == 2:
                    raise
    link = case_link(settings, state.case_id)
    if state.version == 1 and state.response_due_at:
        due = f"{state.response_due_at.astimezone(settings.zone):%Y-%m-%d %H:%M %Z}"
        return f"opened case {state.case_id}: next, apologize (due {due})\n{link}"
    # The key's case has moved on since it was opened: say where it stands.
    return f"opened case {state.case_id}: now {state.status}, at {state.stage}\n{link}"


async def _database(settings: Settings, schema: bool = True) -> asyncpg.Pool:
    """A pool on the service's database; with `schema`, one whose migrations are all in
    (checked by reading, never by running DDL)."""
    url = postgres.configured_url(settings.database_url, settings.data_dir)
    if url is None:
        raise CliError("no database: set DATABASE_URL or start the service with `make run`")
    try:
        pool = await postgres.connect(
            url, max_size=2, statement_cache_size=settings.database_statement_cache_size
        )
    except asyncpg.InsufficientPrivilegeError as err:
        raise CliError(f"PostgreSQL refused this user: {err}") from err
    except (OSError, asyncpg.PostgresError) as err:
        raise CliError(f"cannot reach PostgreSQL: {err}") from err
    if schema:
        try:
            await migrations.require_current(pool)
        except migrations.SchemaNotReady as err:
            await pool.close()
            raise CliError(str(err)) from err
    return pool


async def _notifications(args: argparse.Namespace, settings: Settings) -> str:
    if args.limit < 1:
        raise CliError("--limit starts at 1")
    pool = await _database(settings)
    try:
        rows = await Outbox(pool, LogSender()).unsent(args.limit)
    finally:
        await pool.close()
    if args.json:
        return json.dumps(rows, default=str)
    if not rows:
        return "every notice has been delivered"
    lines = [f"{'notice':<9} {'case':<14} {'kind':<23} {'to':<9} tries  state"]
    for r in rows:
        if r["not_before"] and r["not_before"] > datetime.now(UTC):
            until = r["not_before"].astimezone(settings.zone)
            state = f"held until {until:%a %Y-%m-%d %H:%M %Z} (quiet or closed hours)"
        elif r["sending"]:
            state = "being sent"
        elif r["last_error"]:
            state = f"failed: {r['last_error']}"
        else:
            state = "waiting"
        created = r["created_at"].astimezone(settings.zone)
        lines.append(
            f"{r['id'][:8]:<9} {r['case_id']:<14} {r['kind']:<23} {r['recipient']:<9} "
            f"{r['attempts']:>5}  {state} (since {created:%Y-%m-%d %H:%M %Z})"
        )
    lines.append(f"{len(rows)} not delivered; failed ones are retried by the sweep every 5 min")
    return "\n".join(lines)


async def _migrate(settings: Settings) -> str:
    pool = await _database(settings, schema=False)
    try:
        applied = await migrations.migrate(pool)
    except asyncpg.InsufficientPrivilegeError as err:
        raise CliError(f"this PostgreSQL user may not change the schema: {err}") from err
    finally:
        await pool.close()
    if not applied:
        return "the schema is up to date; nothing to apply"
    return "applied " + ", ".join(f"{m.version:04d}_{m.name}" for m in applied)


async def _setup(settings: Settings) -> str:
    """Register the custom search attributes the worker requires; those present stay as
    they are, so running it again is harmless."""
    client = await connect(settings)
    namespace, keys = settings.temporal_namespace, search_attributes.ALL

    async def missing() -> list[str]:
        try:
            return await temporal_server.missing_search_attributes(client, keys, namespace)
        except temporal_server.SearchAttributeClash as err:
            raise CliError(str(err)) from err
        except RPCError as err:
            raise CliError(f"namespace {namespace}: {err.message}") from err

    absent = await missing()
    if absent:
        adding = tuple(k for k in keys if k.name in absent)
        try:
            await temporal_server.register_search_attributes(client, adding, namespace)
        except RPCError as err:
            if err.status != RPCStatusCode.ALREADY_EXISTS or await missing():
                raise CliError(f"namespace {namespace}: {err.message}") from err
            absent = []  # another `setup` added them meanwhile
    if not absent:
        names = ", ".join(k.name for k in keys)
        return f"namespace {namespace}: search attributes all present already ({names})"
    added = ", ".join(f"{k.name} ({k.indexed_value_type.name.capitalize()})" for k in adding)
    return f"namespace {namespace}: added {added}"


async def _rebuild(settings: Settings) -> str:
    pool = await _database(settings)
    try:
        cases = await rebuild_read_model(pool)
    finally:
        await pool.close()
    return f"rebuilt complaint_cases: {cases} cases"


async def _read_side(args: argparse.Namespace, settings: Settings) -> str:
    pool = await _database(settings)
    try:
        if args.command == "list":
            if args.limit < 1 or args.page < 1:
                raise CliError("--limit and --page start at 1")
            rows, total = await list_cases(pool, case_filter(args, settings), args.limit, args.page)
            if args.json:
                return json.dumps({"total": total, "page": args.page, "cases": rows}, default=str)
            return render_list(rows, total, args.page, args.limit)
        if args.command == "export":
            text = await export_csv(pool, case_filter(args, settings))
            if args.output:
                Path(args.output).write_text(text)
                return f"wrote {text.count(chr(10)) - 1} cases to {args.output}"
            return text.rstrip("\n")
        today = datetime.now(settings.zone).date()
        end_day = (args.end or today) + timedelta(days=1)
        start_day = args.start or end_day - timedelta(days=30)
        if start_day >= end_day:
            raise CliError("--from must come before --to")
        report = await period_report(
            pool, _start_of(start_day, settings), _start_of(end_day, settings)
        )
        return report.model_dump_json(indent=2) if args.json else render_report(report)
    finally:
        await pool.close()


TARGET = TypeAdapter(Duration)
TEXT = TypeAdapter(Text)


def _local(text: str | None, settings: Settings) -> datetime:
    """A time staff typed, in the shop's zone unless it names its own offset."""
    if text is None:
        return datetime.now(settings.zone)
    try:
        at = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise CliError(f"{text!r} is not a time; write e.g. 2026-11-27 17:00") from None
    return at if at.tzinfo else at.replace(tzinfo=settings.zone)


async def _calendar(args: argparse.Namespace, settings: Settings) -> str:
    pool = await _database(settings)
    try:
        if args.calendar_command == "close":
            try:
                reason = TEXT.validate_python(args.reason)
            except ValidationError as err:
                raise CliError(f"--reason: {explain(err)}") from None
            new = await calendar_store.close(pool, args.day, reason)
            verb = "closed" if new else "still closed (reason updated)"
            return f"{args.day:%Y-%m-%d (%a)} {verb}: {reason}"
        closed = await calendar_store.closures(pool)
    finally:
        await pool.close()
    if args.calendar_command == "due":
        try:
            target = TARGET.validate_python(args.target)
        except ValidationError as err:
            raise CliError(f"--target: {explain(err)}") from None
        start = _local(args.start, settings)
        mode = args.mode or target_modes(settings.target_mode).get("default", "wall")
        shop = settings.calendar(closed, start) if mode == "business" else None
        due = due_at(start, target, shop).astimezone(settings.zone)
        counted = "open hours" if shop else "wall-clock time"
        return (
            f"{due.isoformat()}\n"
            f"due {due:%a %Y-%m-%d %H:%M %Z}: {args.target} of {counted} from "
            f"{start.astimezone(settings.zone):%a %Y-%m-%d %H:%M}"
        )
    if args.days < 1:
        raise CliError("--days starts at 1")
    today = datetime.now(settings.zone).date()
    shop = settings.calendar(closed, datetime.now(settings.zone))
    names = holiday_names(settings.holidays, range(today.year, today.year + 2))
    lines = [
        f"the shop's next {args.days} days ({settings.timezone}; "
        f"targets count {target_modes(settings.target_mode).get('default', 'wall')} time)"
    ]
    for offset in range(args.days):
        day = today + timedelta(days=offset)
        interval = shop.open_interval(day)
        if day in closed:
            what = f"closed: {closed[day]}"
        elif day in names:
            what = f"closed: public holiday ({names[day]})"
        elif interval is None:
            what = "closed"
        else:
            opens, closes = (t.astimezone(settings.zone) for t in interval)
            what = f"{opens:%H:%M}-{closes:%H:%M}"
        lines.append(f"{day:%Y-%m-%d %a}  {what}")
    return "\n".join(lines)


async def _forget(settings: Settings, phone: str) -> str:
    customer = Customer(name="-", phone=phone)  # validates and normalizes the phone
    pool = await _database(settings)
    try:
        done = await CustomerDirectory(pool).forget(customer.phone)
    finally:
        await pool.close()
    if done.customer_id is None and not done.cases:
        return f"no customer with phone {phone}: nothing to forget"
    return (
        f"forgot the customer's name and phone: {done.cases} cases, {done.events} events and "
        f"{done.notices} notices no longer name them; reports still count the cases"
    )


async def _visit(settings: Settings, phone: str, name: str | None) -> str:
    customer = Customer(name=name or "-", phone=phone)  # validates and normalizes the phone
    pool = await _database(settings)
    try:
        directory = CustomerDirectory(pool, thresholds_for(settings))
        profile = await directory.record_visit(customer.phone, name)
    finally:
        await pool.close()
    cases = f", {profile.previous_cases} earlier complaints" if profile.previous_cases else ""
    return f"visit recorded: {profile.visits} visits, tier {profile.tier}{cases}"


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"complaints: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for name in ("case_id",):
        if hasattr(args, name):
            setattr(args, name, read_case_id(getattr(args, name)))
    try:
        settings = Settings()
        print(asyncio.run(run(args, settings)))
    except ValidationError as err:
        fail(explain(err))
    except CliError as err:
        fail(str(err), err.code)
    return 0


def cli() -> None:
    """The console script. It skips interpreter teardown once its output is flushed: the
    Temporal core's threads can touch the GIL during finalization of a short-lived client
    process and crash it (temporalio/sdk-python#300, open)."""
    try:
        code = main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BrokenPipeError:
        code = 0  # the reader (`| head`) has what it wanted
    telemetry.flush()  # spans, when tracing is on: exit handlers do not run here
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    cli()

"""Cases: open one (with an idempotency key), act on it, show it. Every staff action is a
Temporal Update on the case's workflow; the actor's name goes into the command as `by`."""

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, FailureError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from app.context import Context
from app.identity import ANSWER, OPEN, OVERRIDE, WALK, WITHDRAW, Actor, require, require_case
from app.ids import case_id_of, idempotency_key, workflow_id
from app.refusals import (
    CaseIdTaken,
    Conflict,
    InvalidInput,
    NotFound,
    NotStoredYet,
    Refusal,
    TooMany,
    Unavailable,
)
from domain.commands import (
    AnalyzeCause,
    Apologize,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    OpenCase,
    RecordCustomerResponse,
    RecordDelay,
    RecordSatisfaction,
    RequestOverride,
    ShowPrevention,
    Withdraw,
)
from domain.errors import InvalidPhone
from domain.model import CaseState, Customer, RemedyKind
from domain.phone import normalize_phone
from domain.summary import CaseSummary, summarize
from infra import shop_ids
from infra.case_ids import case_id_for_key, new_case_id
from infra.settings import Settings, explained
from store import cases as case_store
from store import customer_pages
from store.connections import Db
from store.customers import CustomerDirectory
from store.scope import shop_now
from workflows import details, search_attributes

# The case's workflow by the names its contract gives it (DESIGN.md): its type, the `state`
# query and one Update per staff action. A client that starts, reads and acts on cases needs
# no more, and does not load the workflow's own code (with the activities, the outbox and the
# logging it brings): `complaints show` starts in half the time. tests/unit/test_cli_start.py
# checks each name against the workflow's definition.
WORKFLOW = "ComplaintWorkflow"
STATE = "state"
_STATE_TYPE: Any = CaseState | None

M = TypeVar("M")
Handle = WorkflowHandle[Any, Any]

# The workflow's refusal types (ApplicationError.type) by kind; any other is a conflict, as
# is a remedy the case's motive and fault (or its open offer) do not allow: the same request
# is fine on another case, so it is the case's state it conflicts with (409), not the input.
_INVALID = frozenset({"InvalidPhone", "NotStored"})


def validated(build: Callable[[], M], names: Mapping[str, str] | None = None) -> M:
    """Build a command; a field refused by its type is invalid input, in one line, each
    field named as the API names it (`names`: the command's field -> that name)."""
    try:
        return build()
    except ValidationError as err:
        rename = names or {}
        fields = [(rename.get(field, field), reason) for field, reason in explained(err)]
        raise InvalidInput.about(fields) from None


def phone_in(text: str, region: str) -> str:
    """A phone number as the shop writes it: without "+", a number of its region."""
    try:
        return normalize_phone(text, region)
    except InvalidPhone as err:
        raise InvalidInput(f"phone: {err}") from None


# -- opening ----------------------------------------------------------------------------
def _key_space() -> str | None:
    """Whose idempotency keys: the first shop's keep the case ids they had before shops."""
    shop = shop_now()
    return None if shop == shop_ids.FIRST_SHOP else shop


async def start_case(
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
        handle: Handle = await client.start_workflow(
            WORKFLOW,
            command,
            id=workflow_id(command.case_id),
            task_queue=settings.task_queue,
            id_conflict_policy=(
                WorkflowIDConflictPolicy.USE_EXISTING if keyed else WorkflowIDConflictPolicy.FAIL
            ),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=details.summary(command.case_id, command.motive, command.channel),
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(search_attributes.SHOP, shop_now())]
            ),
        )
    except WorkflowAlreadyStartedError:
        if not keyed:
            raise CaseIdTaken(command.case_id) from None
        handle = client.get_workflow_handle(workflow_id(command.case_id))
    except RPCError as err:
        raise Unavailable(f"case {command.case_id} could not be opened: {err.message}") from err
    state = await _stored_opening(handle, command.case_id, wait)
    if keyed:
        _same_request(state, command)
    return state


async def _stored_opening(handle: Handle, case_id: str, wait: float) -> CaseState:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        state: CaseState | None
        try:
            state = await handle.query(
                STATE, result_type=_STATE_TYPE, rpc_timeout=timedelta(seconds=2)
            )
        except (RPCError, WorkflowQueryFailedError):
            state = None  # no worker has taken the first task yet, or the start failed
        if state is not None:
            return state
        description = await handle.describe()
        if description.status not in (None, WorkflowExecutionStatus.RUNNING):
            raise InvalidInput(f"case {case_id} could not be opened: {await _failure(handle)}")
        if loop.time() >= deadline:
            raise NotStoredYet(
                f"case {case_id} exists and will be stored as soon as a worker runs "
                f"(none answered within {wait:.0f} s: is `make run` running?); do not open it "
                f"again: `complaints show {case_id}` tells when it is stored"
            )
        await asyncio.sleep(0.05)


async def _failure(handle: Handle) -> str:
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
        raise Conflict(
            f"this idempotency key already opened case {state.case_id} with other details; "
            "use a new key for a new complaint"
        )


class Opened(CaseSummary):
    """What `open` answers: the case, and what happened to the request."""

    already_open: bool = False  # the idempotency key named a case opened earlier
    name_kept: bool = False  # the phone is on file under another name, which was kept


async def open_case(
    ctx: Context,
    actor: Actor,
    *,
    name: str,
    phone: str,
    channel: str,
    motive: str,
    what: str,
    key: str | None = None,
    rename: bool = False,
) -> Opened:
    """Open a case for a customer (stored in PostgreSQL; Temporal gets a reference only).
    The same `key` always names the same case: a retry never makes a second one. Nothing
    is written, not even the customer, unless the case is opened or found by its key."""
    require(actor, OPEN)
    customer = validated(
        lambda: Customer(name=name, phone=phone_in(phone, ctx.settings.phone_region))
    )
    try:
        key = idempotency_key(key)
    except ValueError as err:
        raise InvalidInput.about([("Idempotency-Key", str(err))]) from None

    def opening(case_id: str, customer_id: str) -> OpenCase:
        return OpenCase.model_validate(
            {
                "case_id": case_id,
                "customer_id": customer_id,
                "channel": channel,
                "motive": motive,
                "summary": what,
                "by": actor.name,  # facts only: the worker's rulebook sets the targets
            }
        )

    # Every field before any write, named as the API's body names them.
    validated(lambda: opening("probe", "cus-unregistered"), {"summary": "what"})
    if not key:
        return await _open(ctx, await ctx.pool(), customer, rename, opening, None)
    case_id = case_id_for_key(key, _key_space())
    async with case_store.one_opening(await ctx.pool(), case_id) as conn:  # one at a time
        earlier = await _opened_earlier(
            await ctx.client(), case_id, ctx.settings.open_wait.total_seconds()
        )
        if earlier is not None:  # a retry: answered from the case, nothing written
            known = await CustomerDirectory(conn).find(customer.phone)
            _same_request(earlier, opening(case_id, known.customer_id if known else "cus-none"))
            return Opened(**summarize(earlier).model_dump(), already_open=True)
        return await _open(ctx, conn, customer, rename, opening, case_id)


async def _open(
    ctx: Context,
    db: Db,
    customer: Customer,
    rename: bool,
    opening: Callable[[str, str], OpenCase],
    keyed_id: str | None,
) -> Opened:
    """Open a new case (under `keyed_id`, else a fresh id), writing through `db`. The
    customer is entered first (the case refers to them) and taken back if the case is not
    opened after all; a rename asked for is applied only once the case is."""
    await _within_shop_limit(ctx, db)
    client = await ctx.client()
    directory = CustomerDirectory(db)
    wait = ctx.settings.open_wait.total_seconds()
    contact, made = await directory.enter(customer.phone, customer.name)
    try:
        if keyed_id is not None:
            command = opening(keyed_id, contact.customer_id)
            state = await start_case(client, ctx.settings, command, wait, keyed=True)
        else:
            for attempt in range(3):  # a fresh random id clashes about never; then another
                try:
                    command = opening(new_case_id(), contact.customer_id)
                    state = await start_case(client, ctx.settings, command, wait)
                    break
                except CaseIdTaken:
                    if attempt == 2:
                        raise
    except (Conflict, InvalidInput, CaseIdTaken):  # refused: nothing of it stays
        if made:
            await directory.discard_unused(contact.customer_id)
        raise
    if rename and contact.name != customer.name:
        contact = await directory.rename(contact.customer_id, customer.name)
    return Opened(**summarize(state).model_dump(), name_kept=contact.name != customer.name)


async def _within_shop_limit(ctx: Context, db: Db) -> None:
    """The shop's openings in this ten seconds, this one counted; refused past a sixth of
    the limit a minute, so a flood is cut within seconds instead of let through as one
    burst (a retry answered from its key is not counted: it opens nothing)."""
    per_minute = ctx.settings.shop_openings_per_minute
    allowed = -(-per_minute // 6)  # ceil: a limit under 6 still lets one through
    if await customer_pages.past_limit(
        db, "openings", datetime.now(UTC), timedelta(seconds=10), allowed
    ):
        raise TooMany(
            f"this shop is opening more than {per_minute} cases a minute: try again in a "
            "minute (the limit is COMPLAINTS_SHOP_OPENINGS_PER_MINUTE)"
        )


async def _opened_earlier(client: Client, case_id: str, wait: float) -> CaseState | None:
    """The case a key opened before, or None when the key is new."""
    handle: Handle = client.get_workflow_handle(workflow_id(case_id))
    try:
        await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise Unavailable(f"case {case_id} could not be looked up: {err.message}") from err
    return await _stored_opening(handle, case_id, wait)


# -- reading one case -------------------------------------------------------------------
async def query_case(client: Client, case_id: str, ctx: Context | None = None) -> CaseState:
    """The case as its workflow knows it; with no worker answering, the read model's copy."""
    handle: Handle = client.get_workflow_handle(workflow_id(case_id))
    try:
        state: CaseState | None = await handle.query(
            STATE, result_type=_STATE_TYPE, rpc_timeout=timedelta(seconds=5)
        )
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise NotFound(f"no case {case_id!r}: check the id with `complaints list`") from err
        stored = await _stored_state(ctx, case_id) if ctx else None
        if stored is None:
            raise Unavailable(
                f"case {case_id}: no worker answered ({err.message}); is `make run` running?"
            ) from err
        return stored
    except WorkflowQueryFailedError as err:
        raise Unavailable(f"case {case_id}: {err.message}") from err
    if state is None:
        raise NotStoredYet(f"case {case_id} is still being opened; try again in a moment")
    return state


async def _stored_state(ctx: Context, case_id: str) -> CaseState | None:
    try:
        pool = await ctx.pool()
    except Refusal:
        return None
    return await case_store.case_state(pool, case_id)


# -- staff actions ----------------------------------------------------------------------
async def send(handle: Handle, update: str, command: BaseModel, settings: Settings) -> CaseSummary:
    """Run one staff action's Update (by its name); every way it can fail becomes a refusal."""
    try:
        result = await handle.execute_update(update, command, result_type=CaseSummary)
        return cast(CaseSummary, result)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if not isinstance(cause, ApplicationError):
            raise Conflict(str(cause)) from err
        kind = InvalidInput if cause.type in _INVALID else Conflict
        raise kind(cause.message) from err
    except RPCError as err:
        ended = await _ended(handle, settings) if err.status == RPCStatusCode.NOT_FOUND else None
        raise (ended or _rpc_refusal(handle, err)) from err


def _rpc_refusal(handle: Handle, err: RPCError) -> Refusal:
    case_id = shop_ids.case_of(handle.id)
    if err.status == RPCStatusCode.NOT_FOUND:
        if "update" in err.message.lower() and "not found" not in err.message.lower():
            return Conflict(err.message)
        return NotFound(f"no open case {case_id!r}: check the id with `complaints list`")
    if err.status == RPCStatusCode.INVALID_ARGUMENT:
        return InvalidInput(f"case {case_id}: {err.message}")
    return Unavailable(f"case {case_id}: {err.message}")


async def _ended(handle: Handle, settings: Settings) -> Refusal | None:
    """Why an action found no running case: it ended (and when), or there is none."""
    case_id = shop_ids.case_of(handle.id)
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return NotFound(f"no case {case_id!r}: check the id with `complaints list`")
        return None
    if description.status == WorkflowExecutionStatus.RUNNING:
        return None
    status = description.typed_search_attributes.get(search_attributes.STATUS)
    how = status if status in ("closed", "withdrawn") else "ended"
    when = description.close_time.astimezone(settings.zone) if description.close_time else None
    since = f" on {when:%Y-%m-%d %H:%M %Z}" if when else ""
    return Conflict(
        f"case {case_id} is {how}{since}: nothing more can be recorded "
        f"(see it with `complaints show {case_id}`)"
    )


async def _act(
    ctx: Context, case_id: str, update: str, build: Callable[[], BaseModel]
) -> CaseSummary:
    case_id = case_id_of(case_id)
    command = validated(build)
    client = await ctx.client()
    handle: Handle = client.get_workflow_handle(workflow_id(case_id))
    return await send(handle, update, command, await ctx.shop_settings())


def remedy(kind: str, terms: str | None = None) -> OfferedRemedy:
    """A remedy by its name, e.g. `partial_refund`, with the terms offered (if any)."""
    try:
        chosen = RemedyKind(kind.strip())
    except ValueError:
        known = ", ".join(k.value for k in RemedyKind)
        raise InvalidInput(f"unknown remedy {kind.strip()!r}; known: {known}") from None
    return validated(lambda: OfferedRemedy(kind=chosen, terms=(terms or "").strip() or None))


async def apologize(ctx: Context, actor: Actor, case_id: str, what: str) -> CaseSummary:
    require(actor, WALK)
    return await _act(ctx, case_id, "apologize", lambda: Apologize(what=what, by=actor.name))


async def empathize(ctx: Context, actor: Actor, case_id: str, customer_words: str) -> CaseSummary:
    require(actor, WALK)
    return await _act(
        ctx,
        case_id,
        "empathize",
        lambda: Empathize(customer_words=customer_words, by=actor.name),
    )


async def analyze_cause(
    ctx: Context, actor: Actor, case_id: str, cause: str, fault: str
) -> CaseSummary:
    require(actor, WALK)
    return await _act(
        ctx,
        case_id,
        "analyze_cause",
        lambda: AnalyzeCause.model_validate({"cause": cause, "fault": fault, "by": actor.name}),
    )


async def offer_resolution(
    ctx: Context,
    actor: Actor,
    case_id: str,
    plan: str,
    options: Sequence[OfferedRemedy],
    override_reason: str | None = None,
) -> CaseSummary:
    require(actor, WALK)
    if override_reason is not None:
        require(actor, OVERRIDE)
    return await _act(
        ctx,
        case_id,
        "offer_resolution",
        lambda: OfferResolution(
            options=list(options), plan=plan, override_reason=override_reason, by=actor.name
        ),
    )


async def record_customer_response(
    ctx: Context,
    actor: Actor,
    case_id: str,
    choice: str | None = None,
    decline_reason: str | None = None,
) -> CaseSummary:
    require(actor, ANSWER)
    require_case(actor, case_id_of(case_id))
    chosen = remedy(choice).kind if choice is not None else None
    return await _act(
        ctx,
        case_id,
        "record_customer_response",
        lambda: RecordCustomerResponse(choice=chosen, decline_reason=decline_reason, by=actor.name),
    )


async def show_prevention(ctx: Context, actor: Actor, case_id: str, measure: str) -> CaseSummary:
    require(actor, WALK)
    return await _act(
        ctx,
        case_id,
        "show_prevention",
        lambda: ShowPrevention(measure=measure, by=actor.name),
    )


async def record_satisfaction(
    ctx: Context, actor: Actor, case_id: str, score: int, comment: str | None = None
) -> CaseSummary:
    require(actor, ANSWER)
    require_case(actor, case_id_of(case_id))
    return await _act(
        ctx,
        case_id,
        "record_satisfaction",
        lambda: RecordSatisfaction(score=score, comment=comment, by=actor.name),
    )


def delay_until(text: str | datetime, settings: Settings) -> datetime:
    """The new due time staff gave: in the shop's zone unless it names its own offset."""
    if isinstance(text, datetime):
        at = text
    else:
        try:
            at = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
        except ValueError:
            raise InvalidInput.about(
                [("until", f"{text.strip()!r} is not a time; write e.g. 2026-12-08 15:00")]
            ) from None
    return at if at.tzinfo else at.replace(tzinfo=settings.zone)


async def record_delay(
    ctx: Context, actor: Actor, case_id: str, until: str | datetime, reason: str
) -> CaseSummary:
    """Bad news before the deadline: the step now due will be late, until `until`, because
    of `reason`. The customer is told at once (the case's message), the due time moves, and
    the first delay grants the policy's delay compensation."""
    require(actor, WALK)
    at = delay_until(until, await ctx.shop_settings())
    return await _act(
        ctx,
        case_id,
        "record_delay",
        lambda: RecordDelay(until=at, reason=reason, by=actor.name),
    )


async def request_override(
    ctx: Context, actor: Actor, case_id: str, kinds: Sequence[str], reason: str
) -> CaseSummary:
    """Ask the owner to offer what the policy does not allow now (`kinds`), and why: for
    staff who may not override themselves. The owner's view lists it until an offer."""
    require(actor, WALK)
    wanted = tuple(remedy(k).kind for k in kinds)
    if not wanted:
        raise InvalidInput.about([("wanted", "choose the remedy the customer wants")])
    return await _act(
        ctx,
        case_id,
        "request_override",
        lambda: RequestOverride(kinds=wanted, reason=reason, by=actor.name),
    )


async def withdraw(ctx: Context, actor: Actor, case_id: str, reason: str) -> CaseSummary:
    require(actor, WITHDRAW)
    return await _act(ctx, case_id, "withdraw", lambda: Withdraw(reason=reason, by=actor.name))

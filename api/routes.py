"""The routes: each one calls the application layer and answers JSON with times in the
shop's offset (or problem+json: api.problems)."""

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, WithJsonSchema
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

from api import bodies
from api.auth import Caller, Ctx
from api.problems import problem, responses
from app import cases, customers, keeping, reads, sessions
from app.context import Context
from app.ids import header_text
from app.refusals import Unavailable
from app.times import in_zone
from domain.model import CaseState, CaseStatus, Motive
from domain.summary import CaseSummary
from store.consents import ConsentState
from store.report import Report

router = APIRouter()
ACTION = responses(400, 401, 403, 404, 409, 413, 422, 503)
Stage = Annotated[
    str | None,
    Query(
        description="where the case stands: the step due, customer_response, follow_up or done",
        json_schema_extra={"enum": list(reads.STAGES)},
    ),
]

# Dates as the schema says them (`format: date`, years 1900 to 9998): never a number of
# seconds (`to=0` was once the first day of 1970).
_DATE = re.compile(
    r"^(19[0-9]{2}|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-[0-9]{2}-[0-9]{2}$"
)


def _iso_date(value: object) -> object:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("give a date as YYYY-MM-DD, from 1900-01-01 to 9998-12-31")
    return value


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _DATE.pattern}),
]

# The same key always names the same case: printable, not blank, at most 200 characters.
KEY_PATTERN = r"^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$"


def _key(value: str | None) -> str | None:
    if value is not None and (len(value) > 200 or not re.fullmatch(KEY_PATTERN, value)):
        raise ValueError("give 1 to 200 printable characters, not all spaces")
    return value


IdempotencyKey = Annotated[
    str | None,
    AfterValidator(_key),
    Header(
        description="names the case: a retry with the same key answers the same case",
        json_schema_extra={"minLength": 1, "maxLength": 200, "pattern": KEY_PATTERN},
    ),
]


def _links(*operations: str) -> dict[str, Any]:
    """OpenAPI links from an answer about a case to what can be done with it next."""
    return {
        op: {"operationId": op, "parameters": {"case_id": "$response.body#/case_id"}}
        for op in operations
    }


NEXT = (
    "show_case",
    "apologize",
    "empathize",
    "analyze_cause",
    "offer_resolution",
    "record_customer_response",
    "show_prevention",
    "record_satisfaction",
    "record_delay",
    "withdraw",
)


async def answer(
    ctx: Context, value: BaseModel | dict[str, Any], status: int = 200
) -> JSONResponse:
    """`value` as JSON, its times in the shop's zone (the owner's rulebook's, cached)."""
    zone = (await ctx.shop_settings()).zone
    return JSONResponse(in_zone(value, zone), status_code=status)


@router.post(
    "/cases",
    status_code=201,
    response_model=cases.Opened,
    responses={
        201: {
            "description": "The case, opened (or the one this key opened before)",
            "headers": {
                "Location": {"required": True, "schema": {"type": "string"}},
            },
            "links": _links(*NEXT),
        },
        **responses(400, 401, 403, 409, 413, 422, 429, 503),
    },
    operation_id="open_case",
    summary="Open a case",
    description="The same `Idempotency-Key` always names the same case: a retried request "
    "never opens a second one; reused with other details it is refused (409).",
    tags=["cases"],
)
async def open_case(
    body: bodies.NewCase,
    ctx: Ctx,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    summary = await cases.open_case(
        ctx,
        caller,
        name=body.name,
        phone=body.phone,
        channel=body.channel.value,
        motive=body.motive.value,
        what=body.what,
        key=header_text(idempotency_key) if idempotency_key is not None else None,
        rename=body.rename,
    )
    response = await answer(ctx, summary, 201)
    response.headers["Location"] = f"/cases/{summary.case_id}"
    return response


@router.get(
    "/cases",
    response_model=reads.CasePage,
    responses=responses(401, 403, 422, 503),
    operation_id="list_cases",
    summary="List cases, newest first",
    tags=["cases"],
)
async def list_cases(
    ctx: Ctx,
    caller: Caller,
    status: CaseStatus | None = None,
    step: Stage = None,
    motive: Motive | None = None,
    overdue: bool = False,
    since: Annotated[IsoDate | None, Query(description="opened on or after (shop's date)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> JSONResponse:
    filters = reads.Filters(
        status=status.value if status else None,
        step=step,
        motive=motive.value if motive else None,
        overdue=overdue,
        since=since,
    )
    return await answer(ctx, await reads.list_cases(ctx, caller, filters, limit, page))


@router.get(
    "/cases/{case_id}",
    response_model=CaseState,
    responses=responses(401, 403, 404, 503),
    operation_id="show_case",
    summary="The whole case",
    tags=["cases"],
)
async def show_case(case_id: str, ctx: Ctx, caller: Caller) -> JSONResponse:
    return await answer(ctx, await reads.show(ctx, caller, case_id))


Route = TypeVar("Route", bound=Callable[..., Any])
T = TypeVar("T")


# An action is one Temporal Update, answered in milliseconds by a running worker. With none
# polling the case's task queue it would wait for one forever: past this, 503 instead.
ACTION_DEADLINE = 10.0  # seconds


async def within_deadline(work: Awaitable[T]) -> T:
    try:
        async with asyncio.timeout(ACTION_DEADLINE):
            return await work
    # The SDK reports an Update call cancelled by the deadline as its own error.
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise Unavailable(
            f"no worker answered within {ACTION_DEADLINE:.0f} s (is the worker running?); the "
            "action may still be recorded once one runs: check the case before sending it again"
        ) from None


def _action(path: str, operation: str, summary: str) -> Callable[[Route], Route]:
    return router.post(
        f"/cases/{{case_id}}/{path}",
        response_model=CaseSummary,
        responses={
            200: {"description": "Where the case stands now", "links": _links(*NEXT)},
            **ACTION,
        },
        operation_id=operation,
        summary=summary,
        tags=["actions"],
    )


@_action("apology", "apologize", "Step 1: apologize for the specific thing that went wrong")
async def apologize(case_id: str, body: bodies.Apology, ctx: Ctx, caller: Caller) -> JSONResponse:
    return await answer(
        ctx, await within_deadline(cases.apologize(ctx, caller, case_id, body.what))
    )


@_action("empathy", "empathize", "Step 2: what the customer said, in their words")
async def empathize(case_id: str, body: bodies.Empathy, ctx: Ctx, caller: Caller) -> JSONResponse:
    return await answer(
        ctx, await within_deadline(cases.empathize(ctx, caller, case_id, body.customer_words))
    )


@_action("cause", "analyze_cause", "Step 3: the cause, and whose fault it was")
async def analyze_cause(case_id: str, body: bodies.Cause, ctx: Ctx, caller: Caller) -> JSONResponse:
    summary = await within_deadline(
        cases.analyze_cause(ctx, caller, case_id, body.cause, body.fault.value)
    )
    return await answer(ctx, summary)


@_action("offers", "offer_resolution", "Step 4: offer remedies (an override is the owner's alone)")
async def offer_resolution(
    case_id: str, body: bodies.NewOffer, ctx: Ctx, caller: Caller
) -> JSONResponse:
    options = [cases.remedy(o.kind, o.terms) for o in body.options]
    summary = await within_deadline(
        cases.offer_resolution(ctx, caller, case_id, body.plan, options, body.override_reason)
    )
    return await answer(ctx, summary)


@_action(
    "customer-response",
    "record_customer_response",
    "The customer's answer: a chosen remedy, or why they decline",
)
async def record_customer_response(
    case_id: str, body: bodies.CustomerResponse, ctx: Ctx, caller: Caller
) -> JSONResponse:
    summary = await within_deadline(
        cases.record_customer_response(ctx, caller, case_id, body.choice, body.decline_reason)
    )
    return await answer(ctx, summary)


@_action("prevention", "show_prevention", "Step 5: what changes so it does not happen again")
async def show_prevention(
    case_id: str, body: bodies.Prevention, ctx: Ctx, caller: Caller
) -> JSONResponse:
    return await answer(
        ctx, await within_deadline(cases.show_prevention(ctx, caller, case_id, body.measure))
    )


@_action("satisfaction", "record_satisfaction", "The follow-up call's score, 1 to 5")
async def record_satisfaction(
    case_id: str, body: bodies.Satisfaction, ctx: Ctx, caller: Caller
) -> JSONResponse:
    summary = await within_deadline(
        cases.record_satisfaction(ctx, caller, case_id, body.score, body.comment)
    )
    return await answer(ctx, summary)


@_action(
    "delay",
    "record_delay",
    "Before the deadline: the step now due will be late (the customer is told at once)",
)
async def record_delay(case_id: str, body: bodies.Delay, ctx: Ctx, caller: Caller) -> JSONResponse:
    summary = await within_deadline(
        cases.record_delay(ctx, caller, case_id, body.until, body.reason)
    )
    return await answer(ctx, summary)


@_action("withdrawal", "withdraw", "End the case with a reason (managers and the owner)")
async def withdraw(case_id: str, body: bodies.Withdrawal, ctx: Ctx, caller: Caller) -> JSONResponse:
    return await answer(
        ctx, await within_deadline(cases.withdraw(ctx, caller, case_id, body.reason))
    )


@router.get(
    "/reports",
    response_model=Report,
    responses=responses(401, 403, 422, 503),
    operation_id="report",
    summary="The figures for a period (default: the last 30 days)",
    description="The days from `from` to `to`, both included, in the shop's calendar; given "
    "the other way round, the same days.",
    tags=["reports"],
)
async def report(
    ctx: Ctx,
    caller: Caller,
    start: Annotated[IsoDate | None, Query(alias="from")] = None,
    end: Annotated[IsoDate | None, Query(alias="to", description="inclusive")] = None,
) -> JSONResponse:
    return await answer(ctx, await reads.period_report(ctx, caller, start, end))


@router.get(
    "/exports/cases.csv",
    response_class=Response,
    responses={
        200: {
            "description": "The case rows",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **responses(401, 403, 422, 503),
    },
    operation_id="export_cases",
    summary="The case rows as CSV (no customer names or phones), times in the shop's offset",
    tags=["reports"],
)
async def export(
    ctx: Ctx,
    caller: Caller,
    status: CaseStatus | None = None,
    step: Stage = None,
    motive: Motive | None = None,
    overdue: bool = False,
    since: Annotated[IsoDate | None, Query(description="opened on or after (shop's date)")] = None,
) -> Response:
    filters = reads.Filters(
        status=status.value if status else None,
        step=step,
        motive=motive.value if motive else None,
        overdue=overdue,
        since=since,
    )
    text = await reads.export_csv(ctx, caller, filters)
    return Response(text, media_type="text/csv")


@router.post(
    "/visits",
    response_model=customers.VisitRecorded,
    responses=responses(400, 401, 403, 409, 413, 422, 503),
    operation_id="record_visit",
    summary="Record a customer's visit (it sets their tier; a referral rewards both sides)",
    description="The phones travel in the body, never in a path: paths end up in logs.",
    tags=["customers"],
)
async def record_visit(body: bodies.Visit, ctx: Ctx, caller: Caller) -> JSONResponse:
    visit = await customers.record_visit(ctx, caller, body.phone, body.name, body.referred_by)
    return await answer(ctx, visit)


@router.post(
    "/consents",
    response_model=ConsentState,
    responses=responses(400, 401, 403, 413, 422, 503),
    operation_id="record_consent",
    summary="Record a customer's consent to advertising messages, or its withdrawal",
    description="The phone travels in the body, never in a path. `night` is the separate "
    "consent for 21:00-08:00.",
    tags=["customers"],
)
async def record_consent(body: bodies.ConsentChange, ctx: Ctx, caller: Caller) -> JSONResponse:
    state = await keeping.consent(ctx, caller, body.phone, body.given, body.night, keeping.API)
    return await answer(ctx, state)


class SignInLink(BaseModel):
    name: str
    url: str
    expires_in: int


@router.post(
    "/sign-in-links",
    status_code=201,
    response_model=SignInLink,
    responses=responses(400, 401, 403, 404, 413, 422, 503),
    operation_id="make_sign_in_link",
    summary="A staff member's one-time sign-in link to the pages (the owner only)",
    description="The same link as `complaints staff link NAME`: it signs that active member "
    "in once, on the device that opens it, within `expires_in` seconds (15 minutes). Hand it "
    "to them in person or by a message only they read. 404: no active member of that name.",
    tags=["staff"],
)
async def make_sign_in_link(
    body: bodies.SignInLinkRequest, ctx: Ctx, caller: Caller
) -> JSONResponse:
    url = await sessions.sign_in_link(ctx, body.name, caller)
    lasts = int(sessions.LINK_LASTS.total_seconds())
    return await answer(ctx, SignInLink(name=body.name.strip(), url=url, expires_in=lasts), 201)


@router.api_route(
    "/customers/{phone}/visits", methods=["POST"], include_in_schema=False, status_code=410
)
async def moved_visit() -> JSONResponse:
    """Gone: a phone number in a path is written to every proxy's log. The answer says where
    the call went; the number is not looked at, stored or logged here."""
    return problem(
        410,
        "gone",
        "Gone",
        "visits are recorded with POST /visits and the phone in the JSON body "
        '({"phone": ..., "name": ...}); the phone never goes in a path',
    )

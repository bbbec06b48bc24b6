"""The routes: each one calls the application layer and answers JSON with times in the
shop's offset (or problem+json: api.problems)."""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api import bodies
from api.auth import Caller, Ctx
from api.problems import responses
from app import cases, customers, reads
from app.context import Context
from app.ids import header_text
from app.times import in_zone
from domain.model import CaseState, CaseStatus, CustomerProfile, Motive
from domain.summary import CaseSummary
from store.report import Report

router = APIRouter()
ACTION = responses(401, 403, 404, 409, 422, 503)
Stage = Annotated[str | None, Query(description="one of " + ", ".join(reads.STAGES))]


def answer(ctx: Context, value: BaseModel | dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(in_zone(value, ctx.settings.zone), status_code=status)


@router.post(
    "/cases",
    status_code=201,
    response_model=cases.Opened,
    responses=responses(401, 403, 409, 422, 503),
    summary="Open a case",
    description="The same `Idempotency-Key` always names the same case: a retried request "
    "never opens a second one; reused with other details it is refused (409).",
    tags=["cases"],
)
async def open_case(
    body: bodies.NewCase,
    ctx: Ctx,
    caller: Caller,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
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
    response = answer(ctx, summary, 201)
    response.headers["Location"] = f"/cases/{summary.case_id}"
    return response


@router.get(
    "/cases",
    response_model=reads.CasePage,
    responses=responses(401, 403, 422, 503),
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
    since: Annotated[date | None, Query(description="opened on or after (shop's date)")] = None,
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
    return answer(ctx, await reads.list_cases(ctx, caller, filters, limit, page))


@router.get(
    "/cases/{case_id}",
    response_model=CaseState,
    responses=responses(401, 403, 404, 503),
    summary="The whole case",
    tags=["cases"],
)
async def show_case(case_id: str, ctx: Ctx, caller: Caller) -> JSONResponse:
    return answer(ctx, await cases.show(ctx, caller, case_id))


Route = TypeVar("Route", bound=Callable[..., Any])


def _action(path: str, summary: str) -> Callable[[Route], Route]:
    return router.post(
        f"/cases/{{case_id}}/{path}",
        response_model=CaseSummary,
        responses=ACTION,
        summary=summary,
        tags=["actions"],
    )


@_action("apology", "Step 1: apologize for the specific thing that went wrong")
async def apologize(case_id: str, body: bodies.Apology, ctx: Ctx, caller: Caller) -> JSONResponse:
    return answer(ctx, await cases.apologize(ctx, caller, case_id, body.what))


@_action("empathy", "Step 2: what the customer said, in their words")
async def empathize(case_id: str, body: bodies.Empathy, ctx: Ctx, caller: Caller) -> JSONResponse:
    return answer(ctx, await cases.empathize(ctx, caller, case_id, body.customer_words))


@_action("cause", "Step 3: the cause, and whose fault it was")
async def analyze_cause(case_id: str, body: bodies.Cause, ctx: Ctx, caller: Caller) -> JSONResponse:
    summary = await cases.analyze_cause(ctx, caller, case_id, body.cause, body.fault.value)
    return answer(ctx, summary)


@_action("offers", "Step 4: offer remedies (an override is the owner's alone)")
async def offer_resolution(
    case_id: str, body: bodies.Offer, ctx: Ctx, caller: Caller
) -> JSONResponse:
    options = [cases.remedy(o.kind, o.terms) for o in body.options]
    summary = await cases.offer_resolution(
        ctx, caller, case_id, body.plan, options, body.override_reason
    )
    return answer(ctx, summary)


@_action("customer-response", "The customer's answer: a chosen remedy, or why they decline")
async def record_customer_response(
    case_id: str, body: bodies.CustomerResponse, ctx: Ctx, caller: Caller
) -> JSONResponse:
    summary = await cases.record_customer_response(
        ctx, caller, case_id, body.choice, body.decline_reason
    )
    return answer(ctx, summary)


@_action("prevention", "Step 5: what changes so it does not happen again")
async def show_prevention(
    case_id: str, body: bodies.Prevention, ctx: Ctx, caller: Caller
) -> JSONResponse:
    return answer(ctx, await cases.show_prevention(ctx, caller, case_id, body.measure))


@_action("satisfaction", "The follow-up call's score, 1 to 5")
async def record_satisfaction(
    case_id: str, body: bodies.Satisfaction, ctx: Ctx, caller: Caller
) -> JSONResponse:
    summary = await cases.record_satisfaction(ctx, caller, case_id, body.score, body.comment)
    return answer(ctx, summary)


@_action("withdrawal", "End the case with a reason (managers and the owner)")
async def withdraw(case_id: str, body: bodies.Withdrawal, ctx: Ctx, caller: Caller) -> JSONResponse:
    return answer(ctx, await cases.withdraw(ctx, caller, case_id, body.reason))


@router.get(
    "/reports",
    response_model=Report,
    responses=responses(401, 403, 422, 503),
    summary="The figures for a period (default: the last 30 days)",
    tags=["reports"],
)
async def report(
    ctx: Ctx,
    caller: Caller,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to", description="inclusive")] = None,
) -> JSONResponse:
    return answer(ctx, await reads.period_report(ctx, caller, start, end))


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
    summary="The case rows as CSV (no customer names or phones)",
    tags=["reports"],
)
async def export(
    ctx: Ctx,
    caller: Caller,
    status: CaseStatus | None = None,
    step: Stage = None,
    motive: Motive | None = None,
    overdue: bool = False,
    since: date | None = None,
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
    "/customers/{phone}/visits",
    response_model=CustomerProfile,
    responses=responses(401, 403, 422, 503),
    summary="Record a customer's visit (it sets their tier)",
    tags=["customers"],
)
async def record_visit(
    phone: str, ctx: Ctx, caller: Caller, body: bodies.Visit | None = None
) -> JSONResponse:
    name = body.name if body else None
    return answer(ctx, await customers.record_visit(ctx, caller, phone, name))

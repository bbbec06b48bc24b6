"""The shop's rulebook over HTTP: read it (staff), change it (the owner), close or open a day
(managers), list every change. The same application layer as the CLI and the pages."""

from datetime import datetime
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, Ctx
from api.bodies import Text
from api.problems import responses
from api.routes import IsoDate, answer
from app import rules
from app.identity import READ, require
from infra.rulebook import RULE_KEYS

router = APIRouter(tags=["rulebook"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleOut(BaseModel):
    key: str
    value: str
    set_by: str | None = Field(description="who set it; null: the environment's value")


class ChangeOut(BaseModel):
    at: datetime
    by: str
    what: str
    before: str | None
    after: str | None


class RulesOut(BaseModel):
    rules: list[RuleOut]


class ChangesOut(BaseModel):
    changes: list[ChangeOut]


class AppliedOut(BaseModel):
    changes: list[ChangeOut]
    reached: int = Field(description="open cases that take the new rules")
    unreached: int = Field(
        description="open cases not reached yet (the notification sweep brings them the "
        "change within 5 minutes)"
    )


_DAY = (
    "(mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    "|월|화|수|목|금|토|일|월요일|화요일|수요일|목요일|금요일|토요일|일요일|[0-6])"
)
_NTH = (
    "(1st|2nd|3rd|4th|5th|first|second|third|fourth|fifth|last"
    "|첫째|둘째|셋째|넷째|다섯째|마지막|[1-5])"
)
_TIME = "([01]?[0-9]|2[0-3]):[0-5][0-9]"
_PERIODS = f"{_TIME}-{_TIME}(,{_TIME}-{_TIME})*"
DAYS = f"^{_DAY}(-{_DAY})?(,{_DAY}(-{_DAY})?)*$"
PERIODS = f"^(closed|{_PERIODS})$"
OPENING = f"^(none|{_PERIODS})$"
_EVERY = f"({_NTH}(,{_NTH})* )?{_DAY}"
CLOSED_EVERY = f"^(none|{_EVERY}(; ?{_EVERY})*)$"
RuleKey = Enum("RuleKey", {k: k for k in RULE_KEYS}, type=str)  # type: ignore[misc]


class RulesChange(_Body):
    rules: dict[RuleKey, str | None] = Field(
        min_length=1,
        max_length=30,
        description="rule -> value as its environment variable takes it; null: back to it",
        examples=[{"response_target": "48h", "closed_every": "2nd,4th mon"}],
    )


class Hours(_Body):
    days: str = Field(max_length=100, pattern=DAYS, examples=["mon-sun"])
    periods: str = Field(
        max_length=200, pattern=PERIODS, examples=["11:00-15:00,17:00-22:00", "closed"]
    )


class ClosedEvery(_Body):
    days: str = Field(max_length=200, pattern=CLOSED_EVERY, examples=["2nd,4th mon", "none"])


class Closure(_Body):
    day: IsoDate
    reason: Text = Field(examples=["a funeral in the family"])


class Opening(_Body):
    day: IsoDate
    hours: str = Field(max_length=200, pattern=OPENING, examples=["12:00-16:00"])
    reason: Text = Field(examples=["open before the holiday"])


def _applied(done: rules.Applied) -> AppliedOut:
    return AppliedOut(
        changes=[ChangeOut(**c.__dict__) for c in done.changes],
        reached=done.reached,
        unreached=done.unreached,
    )


CHANGE = responses(400, 401, 403, 409, 413, 422, 503)


@router.get(
    "/rules",
    response_model=RulesOut,
    responses=responses(401, 403, 503),
    operation_id="show_rules",
    summary="Every rule of the shop's rulebook and its value",
)
async def show_rules(ctx: Ctx, caller: Caller) -> JSONResponse:
    require(caller, READ)
    found = await rules.show(ctx)
    return await answer(ctx, RulesOut(rules=[RuleOut(**r.__dict__) for r in found]))


@router.patch(
    "/rules",
    response_model=AppliedOut,
    responses=CHANGE,
    operation_id="set_rules",
    summary="Change rules (the owner); a contradictory rulebook is refused, nothing changed",
)
async def set_rules(body: RulesChange, ctx: Ctx, caller: Caller) -> JSONResponse:
    values = {key.value: value for key, value in body.rules.items()}
    return await answer(ctx, _applied(await rules.set_rules(ctx, caller, values)))


@router.get(
    "/rules/changes",
    response_model=ChangesOut,
    responses=responses(401, 403, 422, 503),
    operation_id="rule_changes",
    summary="Every change of the rulebook and calendar, newest first: who, when, before, after",
)
async def rule_changes(
    ctx: Ctx, caller: Caller, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> JSONResponse:
    require(caller, READ)
    found = await rules.changes(ctx, limit)
    return await answer(ctx, ChangesOut(changes=[ChangeOut(**c.__dict__) for c in found]))


@router.post(
    "/calendar/hours",
    response_model=AppliedOut,
    responses=CHANGE,
    operation_id="set_hours",
    summary="Opening hours of some weekdays (the owner): periods, a break, past midnight",
)
async def set_hours(body: Hours, ctx: Ctx, caller: Caller) -> JSONResponse:
    return await answer(ctx, _applied(await rules.set_hours(ctx, caller, body.days, body.periods)))


@router.post(
    "/calendar/closed-every",
    response_model=AppliedOut,
    responses=CHANGE,
    operation_id="set_closed_every",
    summary='Regular closing days (the owner): "mon", "2nd,4th sun"; "none" clears them',
)
async def set_closed_every(body: ClosedEvery, ctx: Ctx, caller: Caller) -> JSONResponse:
    return await answer(ctx, _applied(await rules.set_closed_every(ctx, caller, body.days)))


@router.post(
    "/calendar/closures",
    response_model=AppliedOut,
    responses=CHANGE,
    operation_id="close_day",
    summary="Close a day once (managers and the owner); open cases move their due times",
)
async def close_day(body: Closure, ctx: Ctx, caller: Caller) -> JSONResponse:
    _, done = await rules.close_day(ctx, caller, body.day, body.reason)
    return await answer(ctx, _applied(done))


@router.post(
    "/calendar/openings",
    response_model=AppliedOut,
    responses=CHANGE,
    operation_id="open_day",
    summary='Open a day once with its hours (managers and the owner); "none" removes it',
)
async def open_day(body: Opening, ctx: Ctx, caller: Caller) -> JSONResponse:
    return await answer(
        ctx, _applied(await rules.open_day(ctx, caller, body.day, body.hours, body.reason))
    )

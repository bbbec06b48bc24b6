"""The read side: case lists, the CSV export and period reports, from PostgreSQL (they
work with no worker running)."""

import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
from pydantic import BaseModel

from app.context import Context
from app.identity import READ, REPORT, Actor, require
from app.ids import case_id_of
from app.refusals import InvalidInput, Unavailable
from domain.model import STEPS, CaseState, CaseStatus, Customer, Motive
from infra.settings import Settings
from store import cases as case_store
from store import report as report_store
from store.customers import CustomerDirectory
from store.report import Report
from store.timeline import Entry, case_events

STAGES = (*(s.value for s in STEPS), "customer_response", "follow_up", "done")


class CaseRow(BaseModel):
    """One case in a list: no customer name, phone or free text."""

    case_id: str
    status: str
    step: str | None
    motive: str
    channel: str
    tier: str | None
    fault: str | None
    escalation_level: int
    escalations: int
    response_due_at: datetime | None
    opened_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None


class CasePage(BaseModel):
    total: int
    page: int
    cases: list[CaseRow]


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    step: str | None = None
    motive: str | None = None
    overdue: bool = False  # staff owe something already due
    since: date | None = None  # opened on or after this day of the shop's


# The days the API's schema takes (`format: date`, its pattern): both ends convert to UTC
# and back in any zone.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def start_of(day: date, settings: Settings, field: str) -> datetime:
    """The first instant of `day` in the shop's zone; `field` names it in a refusal as the
    API does (`since`, `from`, `to`: the CLI spells them as its flags)."""
    if not FIRST_DAY <= day <= LAST_DAY + timedelta(days=1):  # the end of a period to LAST_DAY
        reason = f"{day.isoformat()} is out of range: give a day from {FIRST_DAY} to {LAST_DAY}"
        raise InvalidInput.about([(field, reason)])
    return datetime.combine(day, time.min, tzinfo=settings.zone)


async def _where(filters: Filters, ctx: Context) -> case_store.CaseFilter:
    """The filter, checked before anything is read; a day in the shop's zone (the owner's)."""
    for name, value, known in (
        ("status", filters.status, [s.value for s in CaseStatus]),
        ("step", filters.step, list(STAGES)),
        ("motive", filters.motive, [m.value for m in Motive]),
    ):
        if value is not None and value not in known:
            raise InvalidInput(f"{name}: {value!r} is not one of {', '.join(known)}")
    return case_store.CaseFilter(
        status=filters.status,
        step=filters.step,
        motive=filters.motive,
        overdue_at=datetime.now(UTC) if filters.overdue else None,
        opened_since=(
            start_of(filters.since, await ctx.shop_settings(), "since") if filters.since else None
        ),
    )


async def show(ctx: Context, actor: Actor, case_id: str) -> CaseState:
    """The case with whom to call, from PostgreSQL: the read model's copy of its state (the
    append writes it in the transaction that stores the events, so it is the case exactly as
    stored, as the workflow folds it) and the customer's name and phone, the one place they
    live (Temporal only knows the reference). The workflow is asked only when the row is not
    there (a case still being opened, or no such case) or PostgreSQL cannot be reached: a
    look at a case needs neither Temporal's client nor a worker."""
    require(actor, READ)
    case_id = case_id_of(case_id)
    state: CaseState | None = None
    # Unreachable: Temporal's copy below (the customer's details, if the database is back).
    with contextlib.suppress(Unavailable, OSError, asyncpg.PostgresError):
        state = await case_store.case_state(await ctx.pool(), case_id)
    if state is None:
        from app.cases import query_case  # Temporal's client, only on this path

        # No context: its fallback would ask the read model again, which just answered.
        state = await query_case(await ctx.client(), case_id)
    if state.customer_id is None or state.customer is not None:
        return state  # an old case carries its customer itself
    contact = await CustomerDirectory(await ctx.pool()).contact(state.customer_id)
    if contact is None or contact.name is None:
        return state  # forgotten: nobody to call
    customer = Customer.model_construct(name=contact.name, phone=contact.phone)
    return state.model_copy(update={"customer": customer})


async def history(ctx: Context, actor: Actor, case_id: str) -> list[Entry]:
    """The case's events as stored, oldest first; none when PostgreSQL cannot be reached (the
    case itself still shows, from Temporal)."""
    require(actor, READ)
    with contextlib.suppress(Unavailable, OSError, asyncpg.PostgresError):
        return await case_events(await ctx.pool(), case_id_of(case_id))
    return []


async def list_cases(
    ctx: Context, actor: Actor, filters: Filters, limit: int = 20, page: int = 1
) -> CasePage:
    require(actor, READ)
    if limit < 1 or page < 1:
        raise InvalidInput("--limit and --page start at 1")
    where = await _where(filters, ctx)
    rows, total = await case_store.list_cases(await ctx.pool(), where, limit, page)
    return CasePage(total=total, page=page, cases=[CaseRow.model_validate(r) for r in rows])


async def export_csv(ctx: Context, actor: Actor, filters: Filters) -> str:
    require(actor, REPORT)
    where = await _where(filters, ctx)
    return await case_store.export_csv(await ctx.pool(), where, (await ctx.shop_settings()).zone)


async def period_report(
    ctx: Context, actor: Actor, start: date | None = None, end: date | None = None
) -> Report:
    """The figures from `start` to `end` inclusive, in the shop's days (default: 30 days).
    Given the other way round, the same days: the period between the two dates."""
    require(actor, REPORT)
    shop = await ctx.shop_settings()  # the shop's days in its zone (the owner's)
    today = datetime.now(shop.zone).date()
    last = end or max(today, start or today)
    first = start or max(last - timedelta(days=29), FIRST_DAY)
    for field, day in (("from", start), ("to", end)):
        if day is not None:
            start_of(day, shop, field)  # each end refused by the name it was given
    first, last = min(first, last), max(first, last)
    return await report_store.period_report(
        await ctx.pool(),
        start_of(first, shop, "from"),
        start_of(last + timedelta(days=1), shop, "to"),
    )

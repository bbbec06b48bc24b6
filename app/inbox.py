"""What the staff pages read besides one case: the inbox (open cases by the next due time),
what waits on the owner, and a case's timeline from the event store."""

from dataclasses import dataclass
from datetime import datetime

from app.cases import case_id_of
from app.context import Context
from app.identity import READ, Actor, require
from app.reads import STAGES
from app.refusals import InvalidInput
from domain.model import CaseStatus, Motive
from store import inbox as inbox_store
from store import timeline as timeline_store
from store.inbox import InboxFilter
from store.timeline import Entry

OPEN_STATUSES = tuple(s.value for s in CaseStatus if not s.is_final)
OPEN_STAGES = tuple(s for s in STAGES if s != "done")


@dataclass(frozen=True)
class InboxRow:
    case_id: str
    status: str
    step: str | None
    motive: str
    channel: str
    tier: str | None
    escalation_level: int
    response_due_at: datetime | None
    opened_at: datetime
    declines: int


@dataclass(frozen=True)
class InboxPage:
    total: int
    page: int
    pages: int
    rows: list[InboxRow]


def inbox_filter(
    status: str | None = None,
    step: str | None = None,
    motive: str | None = None,
    owner: bool = False,
    case_id: str | None = None,
) -> InboxFilter:
    """The inbox's filters as typed; an unknown value is refused, as the list's are."""
    for name, value, known in (
        ("status", status, OPEN_STATUSES),
        ("step", step, OPEN_STAGES),
        ("motive", motive, tuple(m.value for m in Motive)),
    ):
        if value is not None and value not in known:
            raise InvalidInput(f"{name}: {value!r} is not one of {', '.join(known)}")
    typed = case_id_of(case_id) if case_id and case_id.strip() else None
    return InboxFilter(status, step, motive, owner, typed)


async def inbox(
    ctx: Context, actor: Actor, where: InboxFilter, limit: int = 20, page: int = 1
) -> InboxPage:
    require(actor, READ)
    if limit < 1 or page < 1:
        raise InvalidInput("limit and page start at 1")
    rows, total = await inbox_store.open_cases(await ctx.pool(), where, limit, page)
    pages = max(1, -(-total // limit))
    return InboxPage(total, page, pages, [InboxRow(**r) for r in rows])


async def owner_waits(ctx: Context, actor: Actor) -> list[InboxRow]:
    require(actor, READ)
    return [InboxRow(**r) for r in await inbox_store.owner_waits(await ctx.pool())]


async def timeline(ctx: Context, actor: Actor, case_id: str) -> list[Entry]:
    require(actor, READ)
    return await timeline_store.case_events(await ctx.pool(), case_id_of(case_id))

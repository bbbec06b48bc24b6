"""What the staff pages read besides one case: the inbox (open cases by the next due time),
what waits on the owner, and a case's timeline from the event store."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.cases import phone_in
from app.context import Context
from app.identity import NOTICES, READ, Actor, require
from app.ids import case_id_of
from app.reads import STAGES
from app.refusals import InvalidInput
from domain.errors import InvalidPhone
from domain.model import CaseStatus, Motive
from domain.phone import normalize_phone
from store import inbox as inbox_store
from store import timeline as timeline_store
from store.customers import CustomerDirectory, TierThresholds
from store.inbox import InboxFilter
from store.outbox import case_messages, held_notices
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
    override_requested: bool = False  # staff asked the owner for an override


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
    mine: str | None = None,
) -> InboxFilter:
    """The inbox's filters as typed; an unknown value is refused, as the list's are.
    `mine`: the name of the person asking, for the cases they opened or handle now."""
    for name, value, known in (
        ("status", status, OPEN_STATUSES),
        ("step", step, OPEN_STAGES),
        ("motive", motive, tuple(m.value for m in Motive)),
    ):
        if value is not None and value not in known:
            raise InvalidInput(f"{name}: {value!r} is not one of {', '.join(known)}")
    typed = case_id_of(case_id) if case_id and case_id.strip() else None
    return InboxFilter(status, step, motive, owner, typed, mine)


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


@dataclass(frozen=True)
class Held:
    """The notices held for quiet or closed hours, as the inbox's strip counts them."""

    count: int
    first: datetime | None  # when the first of them may go


async def held(ctx: Context, actor: Actor) -> Held:
    require(actor, NOTICES)
    return Held(*await held_notices(await ctx.pool()))


async def timeline(ctx: Context, actor: Actor, case_id: str) -> list[Entry]:
    require(actor, READ)
    return await timeline_store.case_events(await ctx.pool(), case_id_of(case_id))


@dataclass(frozen=True)
class Message:
    """A customer message of a case as staff see it: which, and what became of it."""

    kind: str
    written_at: datetime
    state: str  # waiting, held, sending, retrying, accepted, sent, fallback_sms, failed, not_sent
    at: datetime | None  # when it went out, or when a held one may
    detail: str = ""  # a provider's reason for a failure, or why it was not sent


def message_of(row: dict[str, Any], now: datetime) -> Message:
    """A customer message's outbox row as staff see it: what became of it."""
    d, error, kind, written = (
        row["delivery"] or {},
        row["last_error"] or "",
        row["kind"],
        row["created_at"],
    )
    if row["sent_at"] is not None:
        result = d.get("result") or ("not_sent" if error else "sent")
        detail = (d.get("detail") or error) if result in ("failed", "not_sent") else ""
        return Message(kind, written, result, row["sent_at"], detail)
    if row["not_before"] is not None and row["not_before"] > now:
        return Message(kind, written, "held", row["not_before"])
    if row["sending"]:
        return Message(kind, written, "sending", None)
    if error:
        return Message(kind, written, "retrying", None, error)
    return Message(kind, written, "waiting", None)


async def messages(ctx: Context, actor: Actor, case_id: str) -> list[Message]:
    """What the case told its customer (KakaoTalk or SMS), each with its delivery state."""
    require(actor, READ)
    now = datetime.now(UTC)
    return [message_of(r, now) for r in await case_messages(await ctx.pool(), case_id_of(case_id))]


@dataclass(frozen=True)
class Returning:
    """A customer on file, as the open-a-case form shows them while the phone is typed."""

    name: str | None
    tier: str
    visits: int
    previous_cases: int
    open_cases: list[InboxRow]


def _phone(ctx: Context, text: str) -> str | None:
    try:
        return normalize_phone(text, ctx.settings.phone_region)
    except InvalidPhone:
        return None


async def returning_customer(ctx: Context, actor: Actor, phone: str) -> Returning | None:
    """The customer this number belongs to, if the shop knows them; None for a number not
    on file or not (yet) a whole number. Nothing is written."""
    require(actor, READ)
    number = _phone(ctx, phone)
    if number is None:
        return None
    pool = await ctx.pool()
    directory = CustomerDirectory(
        pool,
        TierThresholds(
            silver_from=ctx.settings.silver_from_visits, gold_from=ctx.settings.gold_from_visits
        ),
    )
    contact = await directory.find(number)
    if contact is None:
        return None
    profile = await directory.profile(contact.customer_id)
    rows = [InboxRow(**r) for r in await inbox_store.cases_of_phone(pool, number)]
    return Returning(
        name=contact.name,
        tier=profile.tier.value,
        visits=profile.visits,
        previous_cases=profile.previous_cases,
        open_cases=[r for r in rows if r.status in OPEN_STATUSES],
    )


async def cases_of_phone(ctx: Context, actor: Actor, phone: str) -> list[InboxRow]:
    """Every case of the customer with this number (the phone comes in a form's body,
    never in a URL)."""
    require(actor, READ)
    number = phone_in(phone, ctx.settings.phone_region)
    return [InboxRow(**r) for r in await inbox_store.cases_of_phone(await ctx.pool(), number)]

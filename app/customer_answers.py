"""The customer's side of a case, through the signed link in their message (`/c/<token>`).

The link is the customer's whole identity: it names one case and one purpose (choose, rate,
status) until it expires, and makes them an actor of role `customer` bound to that case.
Their answers are the staff's own application-layer calls (cases.record_customer_response,
cases.record_satisfaction), so the same rules and refusals apply, with "customer" as `by`
on the event.

A second submission of an answer changes nothing: each form carries the offer round (or,
for a rating, how often the case was reopened) it was shown for, and an answer for a round
that is no longer open is "already received", whether it comes from a reload, a double tap
or the same link opened again. Two submissions racing past that check meet the workflow's
own validator, which refuses the second; that refusal is read as "already received" too.

Writing back is a note kept in PostgreSQL (store.customer_pages) with a staff notice to read
it on the case page: not an event, since it moves no step and the domain has no command for
it, and the text stays where the customer's other personal data lives, out of Temporal.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import TypeAdapter, ValidationError

from app import cases
from app.context import Context
from app.identity import READ, Actor, Role, acting, require
from app.refusals import Conflict, Forbidden, InvalidInput
from domain.model import CaseState, CaseStatus, Text
from infra.links import LinkClaim, LinkExpired, LinkRefused, LinkSigner, link_signer
from infra.settings import explain
from store import cases as case_store
from store import customer_pages, scope, shops
from store.customer_pages import Note
from store.customers import CustomerDirectory

# The `by` on events the customer records: a role's word, not their name (Temporal never
# holds the customer's name).
CUSTOMER_BY = "customer"
_TEXT = TypeAdapter(Text)
MAX_NOTE = 2000


class Outcome(StrEnum):
    RECORDED = "recorded"  # this submission was the answer
    ALREADY = "already"  # an answer for that round was received before: nothing changed


@dataclass(frozen=True)
class Visit:
    """One opening of a link: who the customer is and their case as it stands."""

    token: str
    claim: LinkClaim
    actor: Actor
    state: CaseState


def signer(ctx: Context) -> LinkSigner:
    return link_signer(ctx.settings)


def customer_actor(claim: LinkClaim, shop: str) -> Actor:
    return acting(Actor(CUSTOMER_BY, Role.CUSTOMER, claim.case_id, shop=shop))


async def visit(ctx: Context, token: str, now: datetime | None = None) -> Visit:
    """The case a link is for; LinkRefused or LinkExpired for one that is not ours or old.
    The link names its case; the case its shop, which the visit then acts for alone."""
    try:
        claim = signer(ctx).read(token, now or datetime.now(UTC))
    except LinkExpired as expired:  # the page names the shop to call: its own rulebook
        shop = await shops.shop_of_case(await ctx.pool(), expired.claim.case_id)
        if shop is not None:
            scope.enter(shop)
        raise
    shop = await shops.shop_of_case(await ctx.pool(), claim.case_id)
    if shop is None:
        raise LinkRefused("this link names no case")
    actor = customer_actor(claim, shop)
    state = await cases.query_case(await ctx.client(), claim.case_id, ctx)
    if (
        state.customer_id
        and await CustomerDirectory(await ctx.pool()).contact(state.customer_id) is None
    ):
        # Forgotten: the workflow still holds the texts `forget` removed; the row does not.
        state = await case_store.case_state(await ctx.pool(), claim.case_id) or state
    return Visit(token, claim, actor, state)


def csrf_token(ctx: Context, token: str) -> str:
    """The forms' CSRF token, bound to the link: another site cannot make one without the
    link itself, and one link's token is no good on another's forms."""
    key = signer(ctx).secrets[0]
    return hmac.new(key, b"customer form|" + token.encode(), hashlib.sha256).hexdigest()


def csrf_ok(ctx: Context, token: str, sent: str) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(ctx, token), sent)


def _purpose(v: Visit, purpose: str) -> None:
    if v.claim.purpose != purpose:
        raise Forbidden(f"this link is for {v.claim.purpose!r}, not {purpose!r}")


def offer_open(state: CaseState, round_seen: int | None = None) -> bool:
    offer = state.current_offer
    waiting = state.status == CaseStatus.AWAITING_CUSTOMER and offer is not None
    return waiting and (round_seen is None or (offer is not None and offer.round == round_seen))


def rating_open(state: CaseState, round_seen: int | None = None) -> bool:
    resolved = state.status == CaseStatus.RESOLVED
    return resolved and (round_seen is None or state.reopened == round_seen)


async def _again(ctx: Context, v: Visit) -> CaseState:
    return await cases.query_case(await ctx.client(), v.claim.case_id, ctx)


async def choose(
    ctx: Context, v: Visit, round_seen: int, choice: str | None, decline_reason: str | None
) -> Outcome:
    """The customer's answer to the offer they were shown: an option, or why they decline."""
    _purpose(v, "choose")
    if not offer_open(v.state, round_seen):
        return Outcome.ALREADY
    if choice is None and not (decline_reason or "").strip():
        field = "decline_reason" if decline_reason is not None else "answer"
        raise InvalidInput.about([(field, "required")])
    try:
        await cases.record_customer_response(
            ctx, v.actor, v.claim.case_id, choice=choice, decline_reason=decline_reason
        )
    except Conflict:
        if offer_open(await _again(ctx, v), round_seen):
            raise  # refused for another reason (an option not offered): say so
        return Outcome.ALREADY
    return Outcome.RECORDED


async def rate(ctx: Context, v: Visit, round_seen: int, score: int, comment: str | None) -> Outcome:
    """The customer's score at the follow-up (1-5) and what they add."""
    _purpose(v, "rate")
    if not rating_open(v.state, round_seen):
        return Outcome.ALREADY
    try:
        await cases.record_satisfaction(ctx, v.actor, v.claim.case_id, score, comment)
    except Conflict:
        if rating_open(await _again(ctx, v), round_seen):
            raise
        return Outcome.ALREADY
    return Outcome.RECORDED


async def write_back(ctx: Context, v: Visit, text: str, notice: str) -> Outcome:
    """A message to the shop about this case: kept for staff (the case page) and a staff
    notice sent to read it (`notice`, in the shop's language, carries no text)."""
    try:
        body = _TEXT.validate_python(text)
    except ValidationError as err:
        raise InvalidInput.about([("message", explain(err))]) from None
    if len(body) > MAX_NOTE:
        raise InvalidInput.about([("message", f"at most {MAX_NOTE} characters")])
    kept = await customer_pages.add_note(await ctx.pool(), v.claim.case_id, body, notice)
    return Outcome.RECORDED if kept else Outcome.ALREADY


async def notes(ctx: Context, actor: Actor, case_id: str) -> list[Note]:
    """What the customer wrote back on a case, oldest first (for the staff case page)."""
    require(actor, READ)
    return await customer_pages.notes(await ctx.pool(), case_id)

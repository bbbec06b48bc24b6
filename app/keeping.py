"""Keeping customers: marketing consent and its withdrawal (staff at the counter, or the
customer through the opt-out link in an advertising message)."""

from datetime import UTC, datetime

from app.cases import phone_in, validated
from app.context import Context
from app.identity import REPORT, VISIT, Actor, require
from app.refusals import Forbidden
from app.rules import effective
from domain.model import Customer
from infra.links import OPT_OUT, LinkClaim, link_signer
from notify.keep_in_touch import KeepInTouchRun, keep_in_touch_for
from store import scope, shops
from store.consents import ConsentBook, ConsentCard, ConsentState

# The `by` of a withdrawal made through the opt-out link: the customer, never their name.
CUSTOMER_BY = "customer"
# How consent was recorded, by door (the `via` of each change).
CLI, API, STAFF_PAGE = "cli", "api", "staff_page"
# What staff choose on the case page: (given, night) as ConsentBook.record takes them.
PAGE_CHOICES: dict[str, tuple[bool, bool]] = {
    "yes": (True, False),  # consent to advertising, by day
    "yes_night": (True, True),  # and between 21:00 and 08:00
    "no_night": (False, True),  # withdraw the night-time consent only
    "no": (False, False),  # withdraw all (an opt-out)
}


async def consent(
    ctx: Context, actor: Actor, phone: str, given: bool, night: bool, via: str
) -> ConsentState:
    """Record consent given or withdrawn, as the customer told staff (`via`: cli, api,
    staff_page), with the staff member's name as who recorded it."""
    require(actor, VISIT)
    region = ctx.settings.phone_region
    customer = validated(lambda: Customer(name="-", phone=phone_in(phone, region)))
    return await ConsentBook(await ctx.pool()).record(customer.phone, given, night, via, actor.name)


async def consent_card(ctx: Context, actor: Actor, phone: str) -> ConsentCard:
    """A customer's consent as it stands, with its last change, for the staff pages (the
    phone as stored, from the case)."""
    require(actor, VISIT)
    return await ConsentBook(await ctx.pool()).card(phone)


def opt_out_claim(ctx: Context, token: str, now: datetime | None = None) -> LinkClaim:
    """The customer an opt-out link is for; LinkRefused or LinkExpired for one that is not
    ours or old, Forbidden for a link made for something else (a case's link)."""
    claim = link_signer(ctx.settings).read(token, now or datetime.now(UTC))
    if claim.purpose != OPT_OUT:
        raise Forbidden(f"this link is for {claim.purpose!r}, not for opting out")
    return claim


async def opt_out(ctx: Context, token: str) -> ConsentState | None:
    """The customer withdraws consent through the link: no sign-in, free, at once. A
    second use changes nothing; a forgotten customer has nothing left to withdraw."""
    claim = opt_out_claim(ctx, token)
    if not await for_customer(ctx, claim):
        return None
    return await ConsentBook(await ctx.pool()).withdraw(claim.case_id, "opt_out_link", CUSTOMER_BY)


async def for_customer(ctx: Context, claim: LinkClaim) -> bool:
    """The link names its customer (their reference, unique across shops), the customer their
    shop, which the visit then acts for alone; False for a customer no shop has (any more)."""
    shop = await shops.shop_of_customer(await ctx.pool(), claim.case_id)
    if shop is not None:
        scope.enter(shop)
    return shop is not None


async def keep_in_touch(
    ctx: Context, actor: Actor, dry_run: bool, now: datetime | None = None
) -> KeepInTouchRun:
    """Who is due a keep-in-touch message now, and (unless a dry run) send theirs, as the
    hourly schedule does. Managers and the owner: it speaks for the shop."""
    require(actor, REPORT)
    settings, _ = await effective(ctx)  # the owner's language, zone and opening hours
    runner = keep_in_touch_for(await ctx.pool(), settings)
    return await runner.run(now or datetime.now(UTC), dry_run)

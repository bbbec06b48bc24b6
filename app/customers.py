"""Customers at the counter: visits (they set the tier) and forgetting one."""

from collections.abc import Sequence

from pydantic import Field

from app.cases import phone_in, validated
from app.context import Context
from app.identity import FORGET, VISIT, Actor, require
from app.refusals import Conflict
from domain.model import Customer, CustomerProfile
from store import referrals
from store.customers import CustomerDirectory, Forgotten, TierThresholds
from store.referrals import ReferrerStanding, Reward, RewardTerms


class VisitRecorded(CustomerProfile):
    """The customer's profile after the visit, the rewards waiting for them (a referred
    customer's discount), and for a referral the referrer's standing."""

    customer_id: str
    rewards: list[Reward] = Field(default_factory=list)
    redeemed: list[Reward] = Field(default_factory=list)
    referrer: ReferrerStanding | None = None


def reward_terms(ctx: Context) -> RewardTerms:
    s = ctx.settings
    return RewardTerms(
        referred_percent=s.referral_discount_percent,
        referrer_percent=s.referrer_discount_percent,
        free_check_every=s.referrals_for_free_check,
    )


async def record_visit(
    ctx: Context,
    actor: Actor,
    phone: str,
    name: str | None,
    referred_by: str | None = None,
    redeem: Sequence[int] = (),
) -> VisitRecorded:
    require(actor, VISIT)
    region = ctx.settings.phone_region
    customer = validated(lambda: Customer(name=name or "-", phone=phone_in(phone, region)))
    referrer_phone = None
    if referred_by is not None:
        referrer_phone = phone_in(referred_by, region)
    tiers = TierThresholds(
        silver_from=ctx.settings.silver_from_visits, gold_from=ctx.settings.gold_from_visits
    )
    pool = await ctx.pool()
    directory = CustomerDirectory(pool, tiers)
    try:
        # Rewards used at this visit first: a refused one records no visit.
        known = await directory.find(customer.phone)
        if redeem and known is None:
            raise referrals.ReferralRefused("redeem: this customer has no rewards yet")
        used = [await referrals.redeem(pool, known.customer_id, r) for r in redeem if known]
        profile = await directory.record_visit(
            customer.phone, customer.name if name else None, referrer_phone, reward_terms(ctx)
        )
    except referrals.ReferralRefused as err:  # valid input, not possible now: a conflict
        raise Conflict(str(err)) from None
    contact = await directory.find(customer.phone)
    assert contact is not None
    referrer = None
    if referrer_phone is not None:
        found = await directory.find(referrer_phone)
        referrer = await referrals.standing(pool, found.customer_id) if found else None
    return VisitRecorded(
        **profile.model_dump(),
        customer_id=contact.customer_id,
        rewards=await referrals.open_rewards(pool, contact.customer_id),
        redeemed=used,
        referrer=referrer,
    )


async def rewards_waiting(ctx: Context, actor: Actor, phone: str) -> list[referrals.Reward]:
    """The rewards a customer has not used yet (the phone as stored, from the case): what
    staff offer at the counter on the next visit."""
    require(actor, VISIT)
    pool = await ctx.pool()
    known = await CustomerDirectory(pool).find(phone)
    return await referrals.open_rewards(pool, known.customer_id) if known else []


async def forget(ctx: Context, actor: Actor, phone: str) -> Forgotten:
    require(actor, FORGET)
    region = ctx.settings.phone_region
    customer = validated(lambda: Customer(name="-", phone=phone_in(phone, region)))
    hold = ctx.settings.records_hold_years
    return await CustomerDirectory(await ctx.pool(), TierThresholds()).forget(customer.phone, hold)

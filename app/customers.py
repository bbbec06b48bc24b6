"""Customers at the counter: visits (they set the tier) and forgetting one."""

from app.cases import phone_in, validated
from app.context import Context
from app.identity import FORGET, VISIT, Actor, require
from domain.model import Customer, CustomerProfile
from store.customers import CustomerDirectory, Forgotten, TierThresholds


async def record_visit(ctx: Context, actor: Actor, phone: str, name: str | None) -> CustomerProfile:
    require(actor, VISIT)
    region = ctx.settings.phone_region
    customer = validated(lambda: Customer(name=name or "-", phone=phone_in(phone, region)))
    tiers = TierThresholds(
        silver_from=ctx.settings.silver_from_visits, gold_from=ctx.settings.gold_from_visits
    )
    directory = CustomerDirectory(await ctx.pool(), tiers)
    return await directory.record_visit(customer.phone, customer.name if name else None)


async def forget(ctx: Context, actor: Actor, phone: str) -> Forgotten:
    require(actor, FORGET)
    region = ctx.settings.phone_region
    customer = validated(lambda: Customer(name="-", phone=phone_in(phone, region)))
    return await CustomerDirectory(await ctx.pool(), TierThresholds()).forget(customer.phone)

"""Shops: an operator adds them; each holds its own staff, customers, cases and rulebook,
sealed from the others (store.scope, and row-level security under it)."""

from app.context import Context
from app.identity import SHOPS, Actor, require
from app.refusals import InvalidInput, NotFound, Unauthorized
from app.staff import staff_name
from infra.keys import add_shop_key
from infra.settings import Settings
from infra.shop_ids import is_shop_id, new_shop_id, read_shop_id
from store import scope
from store import shops as shop_store
from store import staff as staff_store
from store.shops import ShopRow


async def add(ctx: Context, actor: Actor, name: str) -> ShopRow:
    require(actor, SHOPS)
    try:
        name = staff_name(name)  # one printable line, as a person's name is
    except InvalidInput as err:
        raise InvalidInput(err.message.replace("name:", "shop name:", 1)) from None
    shop = new_shop_id()
    # Its key first: a shop whose rows exist but whose cases cannot be sealed would refuse
    # every opening; a key with no shop is harmless.
    add_shop_key(ctx.settings.shop_keys_folder, shop)
    return await shop_store.add(await ctx.pool(), shop, name)


async def everyone(ctx: Context, actor: Actor) -> list[ShopRow]:
    require(actor, SHOPS)
    return await shop_store.everyone(await ctx.pool())


async def act_for(ctx: Context, typed: str | None) -> str:
    """For the commands whose trust line is the database connection (staff accounts, the
    rulebook as it reads): the shop `typed` (or COMPLAINTS_SHOP) names, else the only shop
    of the member COMPLAINTS_STAFF names, else the only shop there is; from here on the
    command sees that shop alone."""
    shop = await chosen_shop(ctx, ctx.settings, typed)
    scope.enter(shop)
    return shop


async def chosen_shop(ctx: Context, settings: Settings, typed: str | None) -> str:
    text = (typed or settings.shop or "").strip()
    pool = await ctx.pool()
    if text:
        shop = read_shop_id(text)
        if not is_shop_id(shop) or await shop_store.by_id(pool, shop) is None:
            raise NotFound(f"no shop {text!r}: `complaints shop list` shows them")
        return shop
    if settings.staff:  # the shop of the member COMPLAINTS_STAFF names, if only one
        theirs = {
            r.shop_id
            for r in await staff_store.named(pool, settings.staff.strip())
            if r.revoked_at is None and r.shop_id is not None
        }
        if len(theirs) == 1:
            return theirs.pop()
    every = await shop_store.ids(pool)
    if len(every) != 1:
        raise Unauthorized(
            f"there are {len(every)} shops: say which with --shop ID or COMPLAINTS_SHOP "
            "(`complaints shop list` shows them)"
        )
    return every[0]

"""The public complaint form (`/c/new`): a way in before a complaint goes public.

Anyone may send it (the shop links it from its KakaoTalk channel or prints its QR code), so
it opens a case as the intake actor "web form" through cases.open_case, on channel `web`,
and the "received" message goes out as for any case. What guards it:
- a honeypot field people never see: a form that fills it is thanked and nothing is opened;
- a flood limit per client address and per phone, counted in PostgreSQL (every API process
  counts the same windows), on keyed hashes, never the address or number themselves;
- the form's idempotency key: a double tap opens one case.
"""

import hashlib
import hmac
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import segno

from app import cases, photos, refusals
from app.context import Context
from app.identity import Actor, Role, acting
from app.refusals import InvalidInput, NotFound
from domain.model import Customer, Motive
from infra.links import link_signer
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP, read_shop_id
from store import customer_pages, shops

WEB_FORM = "web form"  # who opened the case, as its events record it
# At most this many complaints in the window: a household sharing an address (or a shop's
# own Wi-Fi) fits well under 5 an hour; one person has no reason for a 4th in a day.
PER_ADDRESS = (5, timedelta(hours=1))
PER_PHONE = (3, timedelta(days=1))


class TooMany(refusals.TooMany):
    """The flood limit: `field` is what it is about (the phone, or the form as a whole)."""

    title = "Too many complaints"

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


def _bucket(ctx: Context, kind: str, value: str) -> str:
    key = link_signer(ctx.settings).secrets[0]
    digest = hmac.new(key, f"intake|{kind}|{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:32]}"


async def _within_limits(ctx: Context, phone: str, address: str, now: datetime) -> None:
    pool = await ctx.pool()
    limit, window = PER_ADDRESS
    if await customer_pages.past_limit(pool, _bucket(ctx, "address", address), now, window, limit):
        raise TooMany(f"more than {limit} complaints from one address within {window}", None)
    limit, window = PER_PHONE
    if await customer_pages.past_limit(pool, _bucket(ctx, "phone", phone), now, window, limit):
        raise TooMany(f"more than {limit} complaints for one phone within {window}", "phone")


def web_form(shop: str) -> Actor:
    return acting(Actor(WEB_FORM, Role.INTAKE, shop=shop))


async def form_heading(ctx: Context, typed: str | None) -> tuple[str, str | None]:
    """The shop of the form a visitor opened, and the name its customers know it by (the
    first shop's: COMPLAINTS_SHOP_NAME; another's: the name it was added with), so a form
    reached through a QR code says whose it is. NotFound for an id that names no shop."""
    if typed is None:
        return FIRST_SHOP, ctx.settings.shop_name or None
    found = await shops.by_id(await ctx.pool(), read_shop_id(typed))
    if found is None:
        raise NotFound("no such shop")
    if found.shop_id == FIRST_SHOP:
        return FIRST_SHOP, ctx.settings.shop_name or None
    return found.shop_id, found.name


async def complain(
    ctx: Context,
    *,
    shop: str,
    name: str,
    phone: str,
    what: str,
    motive: str,
    key: str | None,
    address: str,
    honeypot: str = "",
    now: datetime | None = None,
    photo: photos.Upload | None = None,
) -> cases.Opened | None:
    """Open the case the form describes, with its photo if one came; None when the honeypot
    was filled (a bot). A photo that is no photo or too large refuses the form: nothing is
    opened nor counted."""
    if honeypot.strip():
        return None
    actor = web_form(shop)
    chosen = motive if motive in {m.value for m in Motive} else Motive.COMPENSATION.value
    # The form's own check first, so a refused form is not counted against anyone.
    normalized = cases.validated(
        lambda: Customer(name=name, phone=cases.phone_in(phone, ctx.settings.phone_region))
    ).phone
    if not what.strip():
        raise InvalidInput.about([("what", "required")])
    if photo is not None:
        photos.checked(photo)
    await _within_limits(ctx, normalized, address or "unknown", now or datetime.now(UTC))
    opened = await cases.open_case(
        ctx,
        actor,
        name=name,
        phone=phone,
        channel="web",
        motive=chosen,
        what=what,
        key=key or None,
    )
    if photo is not None:  # a double tap's second form finds the case and the photo kept
        await photos.keep(ctx, opened.case_id, photo)
    return opened


def status_link(ctx: Context, case_id: str, now: datetime | None = None) -> str:
    """The path of the case's status page, for the customer who just opened it."""
    token = link_signer(ctx.settings).issue(
        case_id, "status", ctx.settings.link_ttl, now or datetime.now(UTC)
    )
    return f"/c/{token}"


FORM_PATH = "/c/new"


def form_path(shop: str) -> str:
    return FORM_PATH if shop == FIRST_SHOP else f"{FORM_PATH}/{shop}"


def form_url(settings: Settings, shop: str) -> str:
    """The shop's public form as people reach it: COMPLAINTS_PUBLIC_URL + /c/new (the first
    shop's) or /c/new/<shop id>."""
    return settings.public_url.rstrip("/") + form_path(shop)


def qr_text(url: str) -> str:
    """The QR code drawn in text, for a terminal (`complaints qr` without --output)."""
    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True)
    return out.getvalue().rstrip("\n")


def write_qr(url: str, path: Path, scale: int = 8) -> Path:
    """The QR code as an SVG or PNG file (by the name's ending), with the quiet zone
    scanners need; segno draws PNG itself, no imaging library."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("svg", "png"):
        raise InvalidInput.about([("output", "name a .svg or .png file")])
    if not 1 <= scale <= 64:
        raise InvalidInput.about([("scale", "from 1 to 64 pixels per module")])
    try:
        segno.make(url, error="m").save(str(path), kind=kind, scale=scale, border=4)
    except OSError as err:
        raise InvalidInput.about([("output", f"cannot write {path}: {err.strerror}")]) from None
    return path

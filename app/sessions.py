"""Staff signed in as people on the pages: a one-time link (from `complaints staff link`)
starts a session on one device; the session's cookie names the actor from then on.

Tokens are 256 random bits and only their SHA-256 is stored (as with API tokens). The CSRF
token of a session is derived from its token, so it needs no storage and an attacker who
cannot read the HttpOnly cookie cannot compute it.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from app.context import Context
from app.identity import Actor, Permission, Role, acting, require, token_hash
from app.refusals import NotFound, Unauthorized
from app.staff import staff_name
from store import scope
from store import sessions as session_store
from store.sessions import LinkRefusal, SessionRow

LINK_LASTS = timedelta(minutes=15)
SESSION_LASTS = timedelta(days=30)
SIGN_IN_PATH = "/staff/sign-in/"
SESSIONS = Permission("see and end sign-in sessions", frozenset({Role.OWNER}))
LINKS = Permission("make a staff member's sign-in link", frozenset({Role.OWNER}))
_DEVICE = 120  # characters of the User-Agent kept to tell sessions apart


class LinkRefused(Unauthorized):
    """A sign-in link that is unknown, used, expired or its member's revoked."""

    kind: ClassVar[str] = "link-refused"

    def __init__(self, why: LinkRefusal) -> None:
        self.why = why
        super().__init__(
            {
                "unknown": "this sign-in link is not one we made: ask for a new one",
                "used": "this sign-in link was used already (each works once): ask for a new one",
                "expired": "this sign-in link has expired (links last 15 minutes): "
                "ask for a new one",
                "revoked": "this sign-in link's staff member was revoked",
            }[why]
        )


@dataclass(frozen=True)
class Session:
    actor: Actor
    token: str  # the cookie's value: kept by the browser, never stored here

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


async def sign_in_link(ctx: Context, name: str, actor: Actor | None = None) -> str:
    """A link that signs the active member of that name in once, within 15 minutes. Like
    `staff add`, the CLI needs the database connection only: that is the trust line. Through
    the API (`actor` given) only the owner may ask for one."""
    if actor is not None:
        require(actor, LINKS)
    name = staff_name(name)
    token = "lnk_" + secrets.token_urlsafe(32)
    if not await session_store.add_link(await ctx.pool(), name, token_hash(token), LINK_LASTS):
        raise NotFound(f"no active staff member {name!r}: see `complaints staff list`")
    return ctx.settings.public_url.rstrip("/") + SIGN_IN_PATH + token


async def sign_in(ctx: Context, link_token: str, device: str) -> Session:
    """Spend the link and start a session; the session's token is for the cookie."""
    token = "ses_" + secrets.token_urlsafe(32)
    pool = await ctx.pool()
    with scope.every_shop():  # the link names its shop
        refused = await session_store.use_link(
            pool, token_hash(link_token.strip()), token_hash(token), SESSION_LASTS, device[:_DEVICE]
        )
        if refused is not None:
            raise LinkRefused(refused)
        row = await session_store.live_session(pool, token_hash(token))
    assert row is not None
    return Session(_actor(row), token)


def _actor(row: SessionRow) -> Actor:
    return acting(Actor(row.name, Role(row.role), shop=row.shop_id))


async def link_holder(ctx: Context, link_token: str) -> str:
    """The name of the member a link would sign in (nothing spent: a link preview that
    fetches the page must not use the link up); refused if it cannot be used."""
    with scope.every_shop():
        name, refused = await session_store.link_holder(await ctx.pool(), token_hash(link_token))
    if refused is not None or name is None:
        raise LinkRefused(refused or "unknown")
    return name


# The session's cookie: HttpOnly, SameSite=Lax, path /, on the API's host (pages/routes).
COOKIE = "complaints_session"


async def session_for(ctx: Context, token: str | None) -> Session:
    """The session this cookie names, if it is live."""
    if not token:
        raise Unauthorized("not signed in: open a sign-in link from `complaints staff link NAME`")
    with scope.every_shop():  # the session names its shop
        row = await session_store.live_session(await ctx.pool(), token_hash(token))
    if row is None:
        raise Unauthorized("this session has ended (expired, signed out or revoked)")
    return Session(_actor(row), token)


def csrf_token(session_token: str) -> str:
    return hashlib.sha256(f"complaints/csrf/{session_token}".encode()).hexdigest()


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf, str(sent))


async def sign_out(ctx: Context, session: Session) -> None:
    await session_store.end_session_by_token(await ctx.pool(), token_hash(session.token))


async def live_sessions(ctx: Context, actor: Actor) -> list[SessionRow]:
    require(actor, SESSIONS)
    return await session_store.live_sessions(await ctx.pool())


async def end_session(ctx: Context, actor: Actor, session_id: int) -> None:
    require(actor, SESSIONS)
    if not await session_store.end_session(await ctx.pool(), session_id):
        raise NotFound(f"no live session {session_id}")

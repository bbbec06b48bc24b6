"""Who is acting, and what their role lets them do: one rule set for both doors.

The CLI acts as the staff member COMPLAINTS_STAFF names; the API as the owner of the bearer
token. Either way the actor's name is what each event records as `by`.
"""

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from app.context import Context
from app.refusals import Forbidden, Unauthorized
from store import scope
from store import staff as staff_store
from store.staff import StaffRow


class Role(StrEnum):
    STAFF = "staff"  # walks cases
    MANAGER = "manager"  # also withdraws, sees reports and exports
    OWNER = "owner"  # also offers outside the policy (override)
    INTAKE = "intake"  # another system: opens cases, nothing else
    # Runs the deployment: adds shops, sees no shop's cases, customers or staff.
    OPERATOR = "operator"
    # The customer, through a signed link to their own case (/c/<token>): answers the offer
    # and rates the follow-up of that case, nothing else. Never a staff account's role.
    CUSTOMER = "customer"


_PLURAL = {
    Role.STAFF: "staff",
    Role.MANAGER: "managers",
    Role.OWNER: "the owner",
    Role.INTAKE: "intake systems",
    Role.CUSTOMER: "the customer",
    Role.OPERATOR: "operators",
}
# What an account may have.
STAFF_ROLES = (Role.STAFF, Role.MANAGER, Role.OWNER, Role.INTAKE, Role.OPERATOR)


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    # A customer's actor holds the one case its link is for; staff actors hold none.
    case_id: str | None = None
    # The shop they act for (an operator's: none; they see no shop's rows).
    shop: str | None = None


@dataclass(frozen=True)
class Permission:
    doing: str  # for the refusal: "only a manager or owner may <doing>"
    roles: frozenset[Role]


_WALKERS = frozenset({Role.STAFF, Role.MANAGER, Role.OWNER})
_MANAGERS = frozenset({Role.MANAGER, Role.OWNER})

OPEN = Permission("open a case", _WALKERS | {Role.INTAKE})
WALK = Permission("act on a case", _WALKERS)
READ = Permission("read cases", _WALKERS)
OVERRIDE = Permission("offer outside the policy (override)", frozenset({Role.OWNER}))
WITHDRAW = Permission("withdraw a case", _MANAGERS)
REPORT = Permission("see reports and exports", _MANAGERS)
VISIT = Permission("record a visit", _WALKERS)
FORGET = Permission("forget a customer", _MANAGERS)
CALENDAR = Permission("close the shop's calendar", _MANAGERS)
RULES = Permission("change the shop's rulebook", frozenset({Role.OWNER}))
REBUILD = Permission("rebuild the read model", _MANAGERS)
NOTICES = Permission("see undelivered notices", _WALKERS)
# The customer's answers: staff record them from a call, the customer from their link.
ANSWER = Permission("record the customer's answer", _WALKERS | {Role.CUSTOMER})


SHOPS = Permission("administer the shops", frozenset({Role.OPERATOR}))


def acting(actor: Actor) -> Actor:
    """From here on, the current task (a request, a command) sees the actor's shop alone:
    every database call (store.scope) and every case's workflow id (app.ids)."""
    if actor.shop is not None:
        scope.enter(actor.shop)
    return actor


def from_row(row: StaffRow) -> Actor:
    return acting(Actor(row.name, Role(row.role), shop=row.shop_id))


def require(actor: Actor, permission: Permission) -> None:
    """Refused unless the actor's role may do it; allowed, the task acts for their shop."""
    if actor.role not in permission.roles:
        allowed = [_PLURAL[r] for r in Role if r in permission.roles]
        who = ", ".join(allowed[:-1]) + " and " + allowed[-1] if len(allowed) > 1 else allowed[0]
        raise Forbidden(f"{actor.name} is {actor.role.value}: only {who} may {permission.doing}")
    acting(actor)


def require_case(actor: Actor, case_id: str) -> None:
    """A customer acts on the case their link names, and no other."""
    if actor.role == Role.CUSTOMER and actor.case_id != case_id:
        raise Forbidden("this link is for another case: open the link from your own message")


def new_token() -> str:
    """256 random bits; the prefix makes a leaked token easy to recognise in a scan."""
    return "cmp_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256, not bcrypt: the token is random, not a password a person chose, so nothing
    is gained by slowing a guess down, and a plain hash can be looked up by index."""
    return hashlib.sha256(token.encode()).hexdigest()


async def actor_for_token(ctx: Context, token: str | None) -> Actor:
    """The API's actor: the staff member whose token this is."""
    if not token:
        raise Unauthorized(
            "this call needs a staff token: send `Authorization: Bearer <token>` "
            "(`complaints staff add NAME --role R` makes one)"
        )
    row = await staff_store.by_token(await ctx.pool(), token_hash(token.strip()))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("this token is not a staff member's (unknown or revoked)")
    return from_row(row)


async def actor_named(ctx: Context, name: str | None) -> Actor:
    """The CLI's actor: the staff member COMPLAINTS_STAFF names."""
    if not name or not name.strip():
        raise Unauthorized(
            "set COMPLAINTS_STAFF to your name as `complaints staff list` shows it "
            '(staff are added with `complaints staff add "NAME" --role R`)'
        )
    rows = await staff_store.named(await ctx.pool(), name.strip())
    shop = ctx.settings.shop
    if shop:
        rows = [r for r in rows if r.shop_id in (shop, None)]
    if not rows:
        where = f" in shop {shop}" if shop else ""
        raise Unauthorized(
            f"COMPLAINTS_STAFF names no staff member {name.strip()!r}{where}: "
            "see `complaints staff list`"
        )
    active = [r for r in rows if r.revoked_at is None]
    if len(active) > 1:
        shops = ", ".join(sorted(str(r.shop_id) for r in active))
        raise Unauthorized(
            f"{name.strip()!r} is staff in shops {shops}: set COMPLAINTS_SHOP to the one to act for"
        )
    if not active:
        row = rows[0]
        assert row.revoked_at is not None
        with scope.shop(row.shop_id or scope.NO_SHOP):  # in their shop's zone
            zone = (await ctx.shop_settings()).zone
        when = row.revoked_at.astimezone(zone)
        raise Unauthorized(f"staff member {row.name!r} was revoked on {when:%Y-%m-%d %H:%M %Z}")
    return from_row(active[0])

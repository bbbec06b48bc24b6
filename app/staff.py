"""Staff accounts. They need the database connection and nothing else: whoever can
connect to PostgreSQL as the service could write the staff table directly, so that
connection is the trust boundary (and how the first owner is made)."""

from pydantic import TypeAdapter, ValidationError

from app.context import Context
from app.identity import STAFF_ROLES, Role, new_token, token_hash
from app.refusals import Conflict, InvalidInput, NotFound
from domain.model import Name
from infra.settings import explain
from store import staff as staff_store
from store.staff import StaffRow

_NAME = TypeAdapter(Name)
MAX_NAME = 80


def staff_name(text: str) -> str:
    try:
        name = _NAME.validate_python(text)
    except ValidationError as err:
        raise InvalidInput(f"name: {explain(err)}") from None
    if len(name) > MAX_NAME or "\n" in name:
        raise InvalidInput(f"name: one line of at most {MAX_NAME} characters")
    return name


async def add(ctx: Context, name: str, role: str) -> str:
    """A new staff member; returns their API token, which is shown this once."""
    name = staff_name(name)
    try:
        kind = Role(role)
        if kind not in STAFF_ROLES:
            raise ValueError(role)
    except ValueError:
        known = ", ".join(r.value for r in STAFF_ROLES)
        raise InvalidInput(f"unknown role {role!r}; known: {known}") from None
    token = new_token()
    if kind == Role.OPERATOR:  # of no shop
        if not await staff_store.add_operator(await ctx.pool(), name, token_hash(token)):
            raise Conflict(f"operator {name!r} exists already")
        return token
    if not await staff_store.add(await ctx.pool(), name, kind.value, token_hash(token)):
        raise Conflict(
            f"staff member {name!r} exists already: `complaints staff revoke {name!r}` first "
            "to give them a new token or role"
        )
    return token


async def everyone(ctx: Context) -> list[StaffRow]:
    return await staff_store.everyone(await ctx.pool())


async def revoke(ctx: Context, name: str) -> StaffRow:
    """Revoke the active member of that name: their token and name stop working at once."""
    name = name.strip()
    pool = await ctx.pool()
    if await staff_store.revoke(pool, name) is None:
        raise NotFound(f"no active staff member {name!r}: see `complaints staff list`")
    row = await staff_store.by_name(pool, name)
    assert row is not None
    return row

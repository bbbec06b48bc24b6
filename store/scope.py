"""Whose rows a database call sees: one shop's, every shop's, or (the owner's, for schema
changes alone) none switched.

The shop is held for the task that acts (an HTTP request, a CLI command, an activity of a
case) and set on the connection at every acquire from the pool, with the role the policies
of migration 0021 bind: `complaints_service` sees only the rows of `complaints.shop`,
`complaints_system` every row. A connection is set afresh on each acquire, so one that
served shop A never carries A into shop B's call; and a call made with no shop at all sees
nothing (the service role with no shop), so a forgotten scope fails closed.
"""

import functools
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from store.connections import Conn

SERVICE = "complaints_service"
SYSTEM = "complaints_system"
EVERY_SHOP = "*"  # the system role
OWNER = "owner"  # no role switched: the connecting user, for migrations only
NO_SHOP = ""  # the service role with no shop: sees nothing

_current: ContextVar[str | None] = ContextVar("complaints_shop", default=None)


def current() -> str | None:
    return _current.get()


def shop_now() -> str:
    """The one shop the current task acts for (a programming error when it acts for none)."""
    wanted = _current.get()
    if wanted is None or wanted in (EVERY_SHOP, OWNER, NO_SHOP):
        raise RuntimeError(f"this needs one shop's scope, not {wanted!r}")
    return wanted


def enter(shop: str) -> None:
    """Act for this shop for the rest of the current task (a request, a command)."""
    _current.set(shop)


@contextmanager
def shop(shop_id: str) -> Iterator[None]:
    token = _current.set(shop_id)
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def every_shop() -> Iterator[None]:
    with shop(EVERY_SHOP):
        yield


@contextmanager
def owner() -> Iterator[None]:
    with shop(OWNER):
        yield


P = ParamSpec("P")
R = TypeVar("R")


def as_owner(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """For the schema's own functions: they run as the connecting user."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with owner():
            return await fn(*args, **kwargs)

    return run


class Setup:
    """The pool's per-acquire hook: the scope of the task acquiring (else the pool's
    default) onto the connection, in one round trip, and none when the connection already
    holds that very scope.

    Released connections keep their session (infra.postgres skips asyncpg's reset query),
    and nothing but this hook sets the role or `complaints.shop` for a session (a
    transaction's own SET LOCAL ends with it), so what this hook last set on a connection
    is what it holds. It remembers that per connection object: a new connection (one
    replaced after an error) has no entry and is set. While a set is in flight the entry
    is gone, so a set that fails leaves the connection unknown, set again at its next use.
    """

    def __init__(self, default: str) -> None:
        self.default = default
        self.held: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()

    async def __call__(self, connection: Conn) -> None:
        wanted = _current.get()
        wanted = self.default if wanted is None else wanted
        # The pool hands its proxy; the connection behind it is what lasts across acquires.
        raw = getattr(connection, "_con", None) or connection
        if self.held.pop(raw, None) == wanted:
            self.held[raw] = wanted
            return
        if wanted == OWNER:
            await connection.execute("RESET ROLE; RESET complaints.shop")
        else:
            role = SYSTEM if wanted == EVERY_SHOP else SERVICE
            shop_id = "" if wanted == EVERY_SHOP else wanted
            await connection.execute(
                "SELECT set_config('role', $1, false), set_config('complaints.shop', $2, false)",
                role,
                shop_id,
            )
        self.held[raw] = wanted

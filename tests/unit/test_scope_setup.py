"""The pool's per-acquire hook sets a connection's scope only when it changes (store.scope)."""

from typing import Any

import pytest

from store import scope


class Connection:
    """A pooled connection as far as the hook sees it: what was run on it."""

    def __init__(self, fail: bool = False) -> None:
        self.ran: list[tuple[Any, ...]] = []
        self.fail = fail

    async def execute(self, *args: Any) -> None:
        if self.fail:
            raise ConnectionError("lost")
        self.ran.append(args)


class Proxy:
    """The pool's proxy: a new one per acquire, around the same connection."""

    def __init__(self, con: Connection) -> None:
        self._con = con

    async def execute(self, *args: Any) -> None:
        await self._con.execute(*args)


async def test_a_connection_is_set_once_per_scope_and_again_when_the_scope_changes() -> None:
    setup, con = scope.Setup(scope.NO_SHOP), Connection()
    with scope.shop("aaaa-bbbb"):
        await setup(Proxy(con))  # type: ignore[arg-type]
        await setup(Proxy(con))  # type: ignore[arg-type]
    assert [a[1:] for a in con.ran] == [("complaints_service", "aaaa-bbbb")]
    with scope.shop("cccc-dddd"):
        await setup(Proxy(con))  # type: ignore[arg-type]
    with scope.every_shop():
        await setup(Proxy(con))  # type: ignore[arg-type]
    await setup(Proxy(con))  # type: ignore[arg-type]  # no scope: the pool's default
    with scope.owner():
        await setup(Proxy(con))  # type: ignore[arg-type]
    assert [a[1:] for a in con.ran] == [
        ("complaints_service", "aaaa-bbbb"),
        ("complaints_service", "cccc-dddd"),
        ("complaints_system", ""),
        ("complaints_service", ""),
        (),  # RESET ROLE; RESET complaints.shop
    ]


async def test_each_connection_is_known_on_its_own() -> None:
    setup, one, two = scope.Setup(scope.NO_SHOP), Connection(), Connection()
    with scope.shop("aaaa-bbbb"):
        await setup(Proxy(one))  # type: ignore[arg-type]
        await setup(Proxy(two))  # type: ignore[arg-type]
    assert len(one.ran) == len(two.ran) == 1


async def test_a_set_that_failed_is_tried_again_at_the_next_acquire() -> None:
    setup, con = scope.Setup(scope.NO_SHOP), Connection()
    with scope.shop("aaaa-bbbb"):
        await setup(Proxy(con))  # type: ignore[arg-type]
    con.fail = True
    with scope.shop("cccc-dddd"), pytest.raises(ConnectionError):
        await setup(Proxy(con))  # type: ignore[arg-type]
    con.fail = False
    with scope.shop("aaaa-bbbb"):  # what it held before is no longer trusted
        await setup(Proxy(con))  # type: ignore[arg-type]
    assert [a[1:] for a in con.ran] == [("complaints_service", "aaaa-bbbb")] * 2

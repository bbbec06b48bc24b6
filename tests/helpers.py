"""Small builders shared by the workflow and integration tests."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from typing import TypeVar

import asyncpg
import pytest
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from app.identity import new_token, token_hash
from domain.commands import Command, OpenCase
from domain.decider import decide, evolve
from domain.events import RecordedEvent
from domain.model import CaseState, IntakeChannel, Motive, ResponseTargets
from infra import shop_ids
from infra.shop_ids import FIRST_SHOP
from store import events as event_store
from store import scope
from store import staff as staff_store

T = TypeVar("T")

# The session's staff, one per role (tests/conftest.py adds them); the CLI acts as OWNER
# unless a test says otherwise.
OWNER, MANAGER, STAFF, INTAKE = "Test Owner", "Test Manager", "Test Staff", "Test Intake"
ROLES = {OWNER: "owner", MANAGER: "manager", STAFF: "staff", INTAKE: "intake"}


async def add_staff(pool: asyncpg.Pool, name: str, role: str) -> str:
    """A staff member (revoking any active one of that name first); returns their token."""
    await staff_store.revoke(pool, name)
    token = new_token()
    assert await staff_store.add(pool, name, role, token_hash(token))
    return token


def open_command(
    case_id: str,
    motive: Motive = Motive.COMPENSATION,
    target: timedelta = timedelta(hours=24),
    channel: IntakeChannel = IntakeChannel.PHONE,
) -> OpenCase:
    return OpenCase(
        case_id=case_id,
        customer_id="cus-kim-minji",  # the name and phone would be in PostgreSQL
        channel=channel,
        motive=motive,
        summary="The birthday cake arrived crushed",
        targets=ResponseTargets(target=target),
    )


async def event_types(pool: asyncpg.Pool, case_id: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT seq, type FROM complaint_events WHERE case_id = $1 ORDER BY seq", case_id
    )
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1)), "sequence has a gap"
    return [r["type"] for r in rows]


async def skip_time(env: WorkflowEnvironment, duration: timedelta) -> None:
    """Run the time-skipping server's clock `duration` on, as `env.sleep` does, but patient.
    The clock stands still only while no workflow or activity task is outstanding; while
    one is, it runs in real time, and the SDK's call gives up after 30 s ("Timeout expired":
    CI failed four tests so on a loaded machine). This call waits 5 minutes. If the
    connection drops meanwhile ("h2 protocol error"), the server's sleep goes on (its timer
    locks the clock again when it fires): wait for the clock to get there, never sleep twice."""
    until = await env.get_current_time() + duration
    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    try:
        await env.client.test_service.unlock_time_skipping_with_sleep(
            request, timeout=timedelta(minutes=5)
        )
    except RPCError:

        async def reached() -> None:
            assert await env.get_current_time() >= until, f"the clock did not reach {until}"

        await eventually(reached, timeout=300, retry=(AssertionError, RPCError))


async def eventually(
    check: Callable[[], Awaitable[T]],
    timeout: float = 10.0,
    retry: tuple[type[BaseException], ...] = (AssertionError,),
) -> T:
    """Poll `check` until it returns without AssertionError (the worker runs in real time),
    or without one of `retry`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except retry:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


def recorded(case_id: str, commands: list[tuple[Command, datetime]]) -> list[RecordedEvent]:
    """Decide a walk the way the workflow does, enveloping each event."""
    state: CaseState | None = None
    out: list[RecordedEvent] = []
    for command, at in commands:
        for event in decide(command, state, at):
            state = evolve(state, event)
            out.append(
                RecordedEvent(event_id=uuid.uuid4(), case_id=case_id, seq=len(out) + 1, event=event)
            )
    return out


@contextmanager
def appending_as_before_0022() -> Iterator[None]:
    """EventStore appends as a worker of the release before migration 0022: the append
    function's 34 arguments, no answered steps of its own."""
    with pytest.MonkeyPatch.context() as patch:
        old = "SELECT complaints_append(" + ", ".join(f"${i}" for i in range(1, 35)) + ")"
        patch.setattr(event_store, "_WRITE", old)
        patch.setattr(event_store, "step_arrays", lambda done: ())
        yield


@asynccontextmanager
async def _held(pool: asyncpg.Pool, sql: str, *args: object) -> AsyncIterator[None]:
    """Run `sql` in a transaction that stays open until the block ends, then rolls back."""
    async with pool.acquire() as blocker:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute(sql, *args)
        try:
            yield
        finally:
            await transaction.rollback()


def case_row_locked(pool: asyncpg.Pool, case_id: str) -> AbstractAsyncContextManager[None]:
    """Hold the case's row, so a worker's append waits inside its transaction until the
    block ends."""
    return _held(pool, "SELECT 1 FROM complaint_cases WHERE case_id = $1 FOR UPDATE", case_id)


def opening_blocked(pool: asyncpg.Pool, case_id: str) -> AbstractAsyncContextManager[None]:
    """Hold an uncommitted first event of the case, so the opening's append waits behind it
    until the block ends (then the row is rolled back and the append goes on)."""
    return _held(
        pool,
        "INSERT INTO complaint_events (case_id, seq, event_id, type, data, occurred_at) "
        "VALUES ($1, 1, gen_random_uuid(), 'blocker', '{}', now())",
        case_id,
    )


async def an_append_waits(pool: asyncpg.Pool) -> None:
    """Until some session of this database waits on a lock (an append behind the row)."""

    async def waiting() -> None:
        with scope.owner():  # other sessions' waits show to their own user only
            count = await pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
        assert count >= 1

    await eventually(waiting, timeout=20)


def workflow_id(case_id: str, shop: str = FIRST_SHOP) -> str:
    """A case's workflow id in the first shop (the tests' shop, unless they say another)."""
    return shop_ids.workflow_id(shop, case_id)

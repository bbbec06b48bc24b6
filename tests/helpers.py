"""Small builders shared by the workflow and integration tests."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

import asyncpg

from domain.commands import Command, OpenCase
from domain.decider import decide, evolve
from domain.events import RecordedEvent
from domain.model import CaseState, Channel, Motive, ResponseTargets

T = TypeVar("T")


def open_command(
    case_id: str,
    motive: Motive = Motive.COMPENSATION,
    target: timedelta = timedelta(hours=24),
    channel: Channel = Channel.PHONE,
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


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
    """Poll `check` until it returns without AssertionError (the worker runs in real time)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
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

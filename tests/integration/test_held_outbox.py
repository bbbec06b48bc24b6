"""A staff reminder held overnight that the case has moved past is not sent at opening."""

import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from domain.calendar import BusinessCalendar, OpeningHours
from domain.commands import Apologize, CheckClock
from domain.effects import Voice
from domain.model import CarePolicy
from store.events import EventStore
from store.outbox import Outbox
from tests.helpers import open_command, recorded

pytestmark = pytest.mark.db
SEOUL = ZoneInfo("Asia/Seoul")
WEEKDAYS = BusinessCalendar(
    zone="Asia/Seoul", hours=(OpeningHours(opens=time(10), closes=time(19)),) * 5 + (None, None)
)


class Collects:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, notice: dict[str, Any]) -> None:
        self.sent.append(notice)


async def test_a_reminder_held_for_opening_is_dropped_once_the_step_is_answered(
    pool: asyncpg.Pool,
) -> None:
    case_id = uuid.uuid4().hex[:8]
    opened = datetime(2026, 11, 23, 2, 0, tzinfo=SEOUL)  # Monday, before opening
    command = open_command(case_id).model_copy(
        update={
            "targets": open_command(case_id).targets.model_copy(update={"calendar": WEEKDAYS}),
            "care": CarePolicy(hold_staff_notices=True),
        }
    )
    night = opened + timedelta(hours=18)  # 20:00: the 75 % reminder, after closing
    events = recorded(
        case_id,
        [(command, opened), (CheckClock(), night), (Apologize(what="Sorry"), night)],
    )
    await EventStore(pool, Voice(language="en")).append(case_id, events)
    held = await pool.fetchrow(
        "SELECT not_before FROM notifications WHERE case_id = $1 AND kind = 'response_due_soon'",
        case_id,
    )
    assert held["not_before"] == datetime(2026, 11, 24, 10, 0, tzinfo=SEOUL)
    sender = Collects()
    assert await Outbox(pool, sender).send_pending(case_id, as_of=held["not_before"]) == 0
    assert sender.sent == []
    row = await pool.fetchrow(
        "SELECT sent_at, last_error FROM notifications WHERE case_id = $1", case_id
    )
    assert row["sent_at"] is not None
    assert row["last_error"] == "not sent: the case moved on while it was held"

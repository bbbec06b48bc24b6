"""The notification outbox on PostgreSQL, sent to a real local webhook."""

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook

from domain.calendar import QuietHours
from domain.commands import (
    AnalyzeCause,
    Apologize,
    CheckClock,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    ShowPrevention,
)
from domain.effects import Voice
from domain.model import Fault, Motive, RemedyKind
from notify.webhook import WebhookSender
from store.customers import CustomerDirectory
from store.events import EventStore
from store.outbox import Outbox
from tests.helpers import open_command, recorded
from tests.integration.test_event_store import T0
from tests.webhook import SECRET, Hook, webhook

pytestmark = pytest.mark.db


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook() as h:
        yield h


async def overdue_case(pool: asyncpg.Pool) -> str:
    """A case that warned staff and then escalated to the manager: two notices."""
    case_id = uuid.uuid4().hex[:8]
    events = recorded(
        case_id,
        [
            (open_command(case_id), T0),
            (CheckClock(), T0 + timedelta(hours=19)),
            (CheckClock(), T0 + timedelta(hours=25)),
        ],
    )
    await EventStore(pool, Voice(language="en")).append(case_id, events)
    return case_id


async def test_notices_reach_the_webhook_once_signed_even_after_it_failed(
    pool: asyncpg.Pool, hook: Hook
) -> None:
    case_id = await overdue_case(pool)
    outbox = Outbox(pool, WebhookSender(hook.url, SECRET, timeout=5))

    hook.status = 503
    with pytest.raises(Exception, match="503"):
        await outbox.send_pending(case_id)
    failed = await pool.fetchrow(
        "SELECT attempts, last_error, sent_at, claimed_until FROM notifications "
        "WHERE case_id = $1 ORDER BY created_at LIMIT 1",
        case_id,
    )
    assert (failed["attempts"], failed["sent_at"]) == (1, None) and "503" in failed["last_error"]
    assert failed["claimed_until"] is None  # free for the next attempt at once

    hook.status = 200
    assert await outbox.send_pending(case_id) == 2
    assert await outbox.send_pending(case_id) == 0  # sent rows are never sent again
    assert [(n["kind"], n["recipient"]) for n in hook.received] == [
        ("response_due_soon", "staff"),
        ("escalated", "manager"),
    ]
    escalation = hook.received[1]
    assert escalation["case_id"] == case_id and escalation["data"]["level"] == 1
    assert "Kim" not in json.dumps(hook.received) and "1234" not in json.dumps(hook.received)
    for delivery in hook.deliveries:  # signed: a receiver can check who sent it
        assert Webhook(SECRET).verify(delivery.body, delivery.headers) == delivery.notice
        assert delivery.headers["webhook-id"] == delivery.notice["id"]
        assert delivery.headers["idempotency-key"] == delivery.notice["id"]


async def test_a_slow_receiver_holds_no_lock_and_a_timeout_resends_under_the_same_id(
    pool: asyncpg.Pool, hook: Hook
) -> None:
    """Before, the POST ran inside the transaction that locked the notice's row."""
    case_id = await overdue_case(pool)
    outbox = Outbox(pool, WebhookSender(hook.url, SECRET, timeout=0.5))
    hook.delay = 1.0  # answers after the sender stopped waiting
    sending = asyncio.create_task(outbox.send_pending(case_id))
    await asyncio.sleep(0.3)
    async with pool.acquire() as other, other.transaction():
        locked = await other.fetch(
            "SELECT id FROM notifications WHERE case_id = $1 FOR UPDATE NOWAIT", case_id
        )
        assert len(locked) == 2
    with pytest.raises(RuntimeError, match=r"webhook did not answer within 0\.5 s"):
        await sending
    hook.delay = 0
    assert await outbox.send_pending(case_id) == 2
    first, *_ = hook.deliveries
    again = [d for d in hook.deliveries if d.headers["webhook-id"] == first.headers["webhook-id"]]
    assert len(again) == 2 and again[0].body == again[1].body  # one notice, one id
    assert len(hook.received) == 2


async def test_a_claimed_notice_is_not_sent_twice_at_once_and_a_stale_claim_expires(
    pool: asyncpg.Pool, hook: Hook
) -> None:
    case_id = await overdue_case(pool)
    quick = Outbox(pool, WebhookSender(hook.url, SECRET, timeout=5), lease=timedelta(seconds=1))
    await pool.execute(
        "UPDATE notifications SET claimed_until = now() + interval '1 hour' WHERE case_id = $1",
        case_id,
    )  # as if another worker were sending them
    assert await quick.send_pending(case_id) == 0 and hook.deliveries == []
    await pool.execute(
        "UPDATE notifications SET claimed_until = now() - interval '1 second' WHERE case_id = $1",
        case_id,
    )  # that worker died: its claim ran out
    assert await quick.send_pending(case_id) == 2


async def test_the_sweep_sends_what_a_case_gave_up_on_and_lists_the_rest(
    pool: asyncpg.Pool, hook: Hook
) -> None:
    case_id = await overdue_case(pool)
    outbox = Outbox(pool, WebhookSender(hook.url, SECRET, timeout=5))
    hook.status = 500
    for _ in range(3):  # the case's own retries, all failed
        with pytest.raises(Exception, match="500"):
            await outbox.send_pending(case_id)
    waiting = [n for n in await outbox.unsent() if n["case_id"] == case_id]
    assert [(n["kind"], n["attempts"]) for n in waiting] == [
        ("response_due_soon", 3),
        ("escalated", 0),
    ]
    assert "500" in waiting[0]["last_error"] and "message" not in waiting[0]
    hook.status = 200
    shift = "UPDATE notifications SET created_at = created_at {} interval '20 years' "
    await pool.execute(shift.format("+") + "WHERE case_id = $1", case_id)
    await outbox.sweep(older_than=timedelta(minutes=1))  # fresh: its own sender is at it
    assert [n for n in hook.received if n["case_id"] == case_id] == []
    await pool.execute(shift.format("-") + "WHERE case_id = $1", case_id)
    assert (await outbox.sweep(older_than=timedelta(minutes=1)))["sent"] >= 2
    assert [n["kind"] for n in hook.received if n["case_id"] == case_id] == [
        "response_due_soon",
        "escalated",
    ]
    assert not [n for n in await outbox.unsent() if n["case_id"] == case_id]


async def test_a_customer_notice_written_at_night_waits_for_the_end_of_quiet_hours(
    pool: asyncpg.Pool, hook: Hook
) -> None:
    """The improvement report is due 1 day after prevention; at 22:30 in Seoul it waits
    for 09:00, once, while staff notices are never held."""
    case_id = uuid.uuid4().hex[:8]
    seoul = ZoneInfo("Asia/Seoul")
    night = datetime(2026, 11, 24, 22, 30, tzinfo=seoul)
    opened = night - timedelta(days=1, hours=3)
    customer_id = (await CustomerDirectory(pool).register("+821077778888", "Han")).customer_id
    improvement = open_command(case_id, motive=Motive.IMPROVEMENT).model_copy(
        update={"customer_id": customer_id}
    )
    events = recorded(
        case_id,
        [
            (improvement, opened),
            (Apologize(what="Sorry the menu hid it"), opened),
            (Empathize(customer_words="My son is allergic"), opened),
            (AnalyzeCause(cause="Old menus", fault=Fault.OURS), opened),
            (
                OfferResolution(options=[OfferedRemedy(kind=RemedyKind.THANKS)], plan="Thanks"),
                opened,
            ),
            (RecordCustomerResponse(choice=RemedyKind.THANKS), opened),
            (ShowPrevention(measure="Allergens on every menu"), night - timedelta(days=1)),
            (CheckClock(), night),  # the improvement report falls due at 22:30
        ],
    )
    quiet = QuietHours(start=time(21), end=time(9), zone="Asia/Seoul")
    await EventStore(pool, Voice(language="en", quiet_hours=quiet)).append(case_id, events)
    held = await pool.fetchrow(
        "SELECT kind, not_before FROM notifications WHERE case_id = $1 AND recipient = 'customer'",
        case_id,
    )
    assert held["kind"] == "improvement_reported"
    assert held["not_before"] == datetime(2026, 11, 25, 9, 0, tzinfo=seoul)
    staff_held = await pool.fetchval(
        "SELECT count(*) FROM notifications WHERE case_id = $1 AND recipient <> 'customer' "
        "AND not_before IS NOT NULL",
        case_id,
    )
    assert staff_held == 0
    outbox = Outbox(pool, WebhookSender(hook.url, SECRET, timeout=5))
    await pool.execute(  # as if it were 22:30 now: the notice's hold lies ahead
        "UPDATE notifications SET not_before = now() + interval '10 hours' "
        "WHERE case_id = $1 AND recipient = 'customer'",
        case_id,
    )
    await outbox.send_pending(case_id)  # staff notices go; the customer's waits
    assert "improvement_reported" not in [n["kind"] for n in hook.received]
    await pool.execute(  # 09:00 came
        "UPDATE notifications SET not_before = now() - interval '1 second' WHERE case_id = $1",
        case_id,
    )
    await outbox.send_pending(case_id)
    [sent] = [n for n in hook.received if n["recipient"] == "customer"]
    assert sent["kind"] == "improvement_reported" and sent["data"]["to"] == "+821077778888"

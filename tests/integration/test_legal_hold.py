"""Forget with the legal hold: the customer's name and phone go at once, a minimal record of
each case stays apart (dates, motive, outcome, remedy; no name, phone or free text), and the
record goes when the hold ends. Without the hold, no record is kept."""

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from domain.commands import (
    AnalyzeCause,
    Apologize,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
)
from domain.model import Fault, RemedyKind
from store import records
from store.customers import CustomerDirectory
from store.events import EventStore
from tests.helpers import open_command, recorded

pytestmark = pytest.mark.db
START = datetime(2034, 2, 1, 10, tzinfo=UTC)
H = timedelta(hours=1)


async def a_case_of_a_customer(pool: asyncpg.Pool) -> tuple[str, str]:
    phone = f"+8210{uuid.uuid4().int % 10**8:08d}"
    contact = await CustomerDirectory(pool).register(phone, "Lee Jiwoo")
    case_id = uuid.uuid4().hex[:8]
    opening = open_command(case_id).model_copy(update={"customer_id": contact.customer_id})
    script = [
        (opening, START),
        (Apologize(what="Sorry the cake was crushed"), START + H),
        (Empathize(customer_words="My daughter cried, Lee Jiwoo here"), START + 2 * H),
        (AnalyzeCause(cause="driver braked hard", fault=Fault.OURS), START + 2 * H),
        (
            OfferResolution(
                options=[OfferedRemedy(kind=RemedyKind.FULL_REFUND)], plan="refund today"
            ),
            START + 3 * H,
        ),
        (RecordCustomerResponse(choice=RemedyKind.FULL_REFUND), START + 4 * H),
    ]
    await EventStore(pool).append(case_id, recorded(case_id, script))
    return phone, case_id


async def test_forget_with_the_hold_keeps_only_the_minimal_record(pool: asyncpg.Pool) -> None:
    phone, case_id = await a_case_of_a_customer(pool)
    done = await CustomerDirectory(pool).forget(phone, hold_years=3)
    assert (done.cases, done.records) == (1, 1)
    kept = await records.held(pool, case_id)
    assert kept is not None
    assert kept["motive"] == "compensation" and kept["remedy"] == "full_refund"
    assert kept["fault"] == "ours"
    assert kept["opened_at"] == START
    assert set(kept) == {
        "case_id", "opened_at", "closed_at", "motive", "channel", "fault", "status", "remedy",
        "rating", "hold_until",
    }  # fmt: skip
    assert "Lee" not in str(kept) and phone not in str(kept) and "cake" not in str(kept)
    hold_until = kept["hold_until"]
    assert isinstance(hold_until, datetime)
    assert hold_until - datetime.now(UTC) > timedelta(days=3 * 365 - 2)  # open: from now
    assert await pool.fetchval("SELECT count(*) FROM customers WHERE phone = $1", phone) == 0
    # the hold ends: the record goes, and only then
    assert await records.destroy_expired(pool, hold_until - timedelta(seconds=1)) == 0
    assert await records.held(pool, case_id) is not None
    assert await records.destroy_expired(pool, hold_until) >= 1
    assert await records.held(pool, case_id) is None


async def test_forget_without_the_hold_keeps_no_record(pool: asyncpg.Pool) -> None:
    phone, case_id = await a_case_of_a_customer(pool)
    done = await CustomerDirectory(pool).forget(phone)
    assert (done.cases, done.records) == (1, 0)
    assert await records.held(pool, case_id) is None

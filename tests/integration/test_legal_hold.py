"""Forget with the legal hold: the customer's name and phone and every free text of their
cases go at once (no table keeps any of it; the events keep their sequence, and a rebuild
gives the rows forget wrote), a minimal record of each case stays apart (dates, motive,
outcome, remedy; no name, phone or free text), follows its case to the closing, and goes
when the hold ends, counted from the closing. Without the hold, no record is kept."""

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from domain.commands import (
    AnalyzeCause,
    Apologize,
    Command,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    RecordDelay,
    RecordSatisfaction,
    ShowPrevention,
    Withdraw,
)
from domain.decider import decide, evolve
from domain.events import RecordedEvent
from domain.model import CarePolicy, CaseState, Fault, RemedyKind
from domain.redaction import REDACTED
from infra import postgres
from infra.shop_ids import FIRST_SHOP
from store import customer_pages, migrations, photos, records, scope
from store.customers import CustomerDirectory
from store.events import EventStore
from store.read_model import rebuild_read_model
from tests.helpers import event_types, open_command, recorded
from tests.integration.fresh import fresh_database

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
        "rating", "hold_until", "years",
    }  # fmt: skip
    assert "Lee" not in str(kept) and phone not in str(kept) and "cake" not in str(kept)
    hold_until = kept["hold_until"]
    assert isinstance(hold_until, datetime)
    assert hold_until - datetime.now(UTC) > timedelta(days=3 * 365 - 2)  # open: from now
    assert await pool.fetchval("SELECT count(*) FROM customers WHERE phone = $1", phone) == 0
    # the case still open, its record stays past the 3 years counted from the forget
    await records.destroy_expired(pool, hold_until + timedelta(days=1))
    assert await records.held(pool, case_id) is not None


async def test_forget_without_the_hold_keeps_no_record(pool: asyncpg.Pool) -> None:
    phone, case_id = await a_case_of_a_customer(pool)
    done = await CustomerDirectory(pool).forget(phone)
    assert (done.cases, done.records) == (1, 0)
    assert await records.held(pool, case_id) is None


def continued(state: CaseState, commands: list[tuple[Command, datetime]]) -> list[RecordedEvent]:
    """The events a stored case's walk goes on with, decided as the workflow decides."""
    out = []
    for command, at in commands:
        for event in decide(command, state, at):
            state = evolve(state, event)
            out.append(
                RecordedEvent(
                    event_id=uuid.uuid4(), case_id=state.case_id, seq=state.version, event=event
                )
            )
    return out


MARK = "Zq7-MARK"  # in every text the customer or staff write about the cases


def walk(case_id: str, customer_id: str) -> list[tuple[Command, datetime]]:
    """A case with every kind of free text, to its closing."""
    opening = open_command(case_id).model_copy(
        update={
            "customer_id": customer_id,
            "summary": f"{MARK} crushed cake, call Lee Jiwoo",
            "care": CarePolicy(customer_messages=True),  # the customer's messages quote texts
        }
    )
    offer = OfferResolution(
        options=[OfferedRemedy(kind=RemedyKind.FULL_REFUND, terms=f"{MARK} refund to card")],
        plan=f"{MARK} plan",
    )
    return [
        (opening, START),
        (RecordDelay(until=START + 30 * H, reason=f"{MARK} the baker is ill"), START + H),
        (Apologize(what=f"{MARK} sorry"), START + 2 * H),
        (Empathize(customer_words=f"{MARK} my daughter cried"), START + 3 * H),
        (AnalyzeCause(cause=f"{MARK} driver braked", fault=Fault.OURS), START + 3 * H),
        (offer, START + 4 * H),
        (RecordCustomerResponse(decline_reason=f"{MARK} too late"), START + 5 * H),
        (offer, START + 6 * H),
        (RecordCustomerResponse(choice=RemedyKind.FULL_REFUND), START + 7 * H),
        (ShowPrevention(measure=f"{MARK} boxes strapped"), START + 8 * H),
        (RecordSatisfaction(score=5, comment=f"{MARK} thanks"), START + 9 * H),
    ]


async def texts_holding(pool: asyncpg.Pool, needle: str) -> list[str]:
    """Every text, json and bytea column of every table (table.column) holding `needle`."""
    columns = await pool.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " JOIN information_schema.tables USING (table_schema, table_name)"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        " AND data_type IN ('text', 'json', 'jsonb', 'character varying', 'bytea')"
    )
    found = []
    for c in columns:
        value = (
            f"position(convert_to($1, 'UTF8') in \"{c['column_name']}\") > 0"
            if c["data_type"] == "bytea"
            else f'strpos("{c["column_name"]}"::text, $1) > 0'
        )
        if await pool.fetchval(f'SELECT count(*) FROM "{c["table_name"]}" WHERE {value}', needle):
            found.append(f"{c['table_name']}.{c['column_name']}")
    return found


async def test_forget_leaves_no_free_text_anywhere_and_a_rebuild_agrees(
    pool: asyncpg.Pool,
) -> None:
    phone = f"+8210{uuid.uuid4().int % 10**8:08d}"
    contact = await CustomerDirectory(pool).register(phone, "Lee Jiwoo")
    closed, withdrawn, still_open = (uuid.uuid4().hex[:8] for _ in range(3))
    store = EventStore(pool)
    await store.append(closed, recorded(closed, walk(closed, contact.customer_id)))
    opening = walk(withdrawn, contact.customer_id)[0]
    await store.append(
        withdrawn, recorded(withdrawn, [opening, (Withdraw(reason=f"{MARK} sorted"), START + H)])
    )
    later = recorded(still_open, walk(still_open, contact.customer_id))
    await store.append(still_open, later[:4])  # open, delay, apology, empathy
    await customer_pages.add_note(pool, closed, f"{MARK} the box was wet too", "a note came")
    await photos.add(pool, closed, "image/jpeg", f"jpeg {MARK}".encode(), 5)
    ids = "SELECT seq, event_id FROM complaint_events WHERE case_id = $1 ORDER BY seq"
    before_ids = [tuple(r) for r in await pool.fetch(ids, closed)]
    assert len(await texts_holding(pool, MARK)) >= 5  # events, cases, notices, notes, photos

    done = await CustomerDirectory(pool).forget(phone, hold_years=3)

    assert (done.cases, done.records) == (3, 3)
    assert await texts_holding(pool, MARK) == []
    assert await texts_holding(pool, phone) == [] and await texts_holding(pool, "Jiwoo") == []
    # the events keep their places and ids; the facts stay
    assert len(await event_types(pool, closed)) == len(before_ids)
    assert [tuple(r) for r in await pool.fetch(ids, closed)] == before_ids
    state = await store.case_state(closed)
    assert state is not None and state.summary == state.apology == REDACTED
    assert state.status == "closed" and state.rating == 5 and state.fault == Fault.OURS
    assert state.accepted is not None and state.accepted.kind == RemedyKind.FULL_REFUND
    assert state.customer_id == contact.customer_id and len(state.steps_done) == 5

    # an append with a copy kept from before the forget reads the redacted row first
    assert await store.append(still_open, later[4:]) == len(later) - 4
    after = await store.case_state(still_open)
    assert after is not None and after.status == "closed"
    assert after.summary == after.apology == after.customer_words == REDACTED

    # the read model is what the redacted events say
    rows = (
        "SELECT case_id, state::jsonb, status, step, fault, rating, closed_at, customer_id"
        " FROM complaint_cases WHERE case_id = ANY($1) ORDER BY case_id"
    )
    mine = [closed, withdrawn, still_open]
    before = [tuple(r) for r in await pool.fetch(rows, mine)]
    assert await rebuild_read_model(pool) > 0
    assert [tuple(r) for r in await pool.fetch(rows, mine)] == before


async def test_a_record_made_while_open_follows_its_case_to_the_closing(
    pool: asyncpg.Pool,
) -> None:
    phone, case_id = await a_case_of_a_customer(pool)  # open: the remedy accepted
    await CustomerDirectory(pool).forget(phone, hold_years=3)
    kept = await records.held(pool, case_id)
    assert kept is not None and kept["status"] == "open" and kept["closed_at"] is None
    closing = [
        (ShowPrevention(measure="strap the boxes"), START + 5 * H),
        (RecordSatisfaction(score=2), START + 6 * H),  # reopened: no remedy now
        (OfferResolution(options=[OfferedRemedy(kind=RemedyKind.FREE_REDO)], plan="redo"),
         START + 7 * H),
        (RecordCustomerResponse(choice=RemedyKind.FREE_REDO), START + 8 * H),
        (ShowPrevention(measure="check the boxes"), START + 9 * H),
        (RecordSatisfaction(score=4), START + 10 * H),
    ]  # fmt: skip
    store = EventStore(pool)
    state = await store.case_state(case_id)
    assert state is not None
    await store.append(case_id, continued(state, closing))
    kept = await records.held(pool, case_id)
    closed_at = START + 10 * H
    assert kept is not None
    assert (kept["status"], kept["closed_at"], kept["remedy"], kept["rating"]) == (
        "closed", closed_at, "free_redo", 4,
    )  # fmt: skip
    assert kept["hold_until"] == closed_at.replace(year=closed_at.year + 3)  # from the closing
    await records.destroy_expired(pool, kept["hold_until"] - timedelta(seconds=1))
    assert await records.held(pool, case_id) is not None
    assert await records.destroy_expired(pool, kept["hold_until"]) >= 1
    assert await records.held(pool, case_id) is None


async def test_migration_0024_brings_records_and_contacts_stored_before_it_up_to_date(
    server_url: str,
) -> None:
    """Records kept before 0024 get their years and the outcome of cases that closed since
    (one forgotten while open, its record counted from the forget); customers get their last
    closed case."""
    now = datetime.now(UTC)
    opened = now - timedelta(days=300)
    async with fresh_database(server_url, migrated=False) as url:
        pool = await postgres.connect(url, max_size=4, scope=scope.OWNER)
        try:
            await migrations.migrate(pool, up_to=23)
            with scope.shop(FIRST_SHOP):
                contact = await CustomerDirectory(pool).register("+821055550024", "Lee")
                case_id = uuid.uuid4().hex[:8]
                events = recorded(
                    case_id,
                    [
                        (open_command(case_id).model_copy(
                            update={"customer_id": contact.customer_id}), opened),
                        (Withdraw(reason="sorted"), opened + 10 * 24 * H),
                    ],
                )  # fmt: skip
                await EventStore(pool).append(case_id, events[:1])
                await pool.execute(  # as forget kept it before 0024, the case still open
                    "INSERT INTO complaint_records (case_id, opened_at, motive, channel, status,"
                    " hold_until) VALUES ($1, $2, 'compensation', 'phone', 'open', $3)",
                    case_id,
                    opened,
                    now.replace(year=now.year + 3),
                )
                await EventStore(pool).append(case_id, events[1:])  # closed, not followed
                regular = await CustomerDirectory(pool).register("+821055550025", "Kim")
                satisfied = uuid.uuid4().hex[:8]
                walked = recorded(satisfied, walk(satisfied, regular.customer_id))
                await EventStore(pool).append(satisfied, walked[:1])
                await EventStore(pool).append(satisfied, walked[1:])
                status = "SELECT status FROM complaint_records WHERE case_id = $1"
                assert await pool.fetchval(status, case_id) == "open"

            assert [m.version for m in await migrations.migrate(pool, up_to=24)] == [24]
            with scope.shop(FIRST_SHOP):
                kept = await records.held(pool, case_id)
                assert kept is not None
                closed = opened + 10 * 24 * H
                assert (kept["status"], kept["closed_at"], kept["years"]) == (
                    "withdrawn", closed, 3,
                )  # fmt: skip
                assert kept["hold_until"] == now.replace(year=now.year + 3)  # never shortened
                closing = "SELECT last_case_closed_at FROM customers WHERE id = $1"
                assert await pool.fetchval(closing, contact.customer_id) is None  # withdrawn
                assert await pool.fetchval(closing, regular.customer_id) == START + 9 * H
        finally:
            await pool.close()

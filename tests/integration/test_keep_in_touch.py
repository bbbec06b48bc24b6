"""Keep in touch on PostgreSQL with the stand-in provider in-process: a consented customer
not seen for 90 days gets one advertising message at 10:00, not at 22:00 (no night consent),
labelled, with the shop's name and contact and a working opt-out link; once per period and
once a day; a visit restarts the rhythm; the opt-out stops the next one; a customer without
a basis gets none."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from app.context import Context
from cli import handlers
from cli.parser import parser
from domain.commands import (
    AnalyzeCause,
    Apologize,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    RecordSatisfaction,
    ShowPrevention,
)
from domain.model import Fault, RemedyKind
from domain.phone import written_phone
from infra.links import LinkSigner
from infra.settings import Settings
from notify.keep_in_touch import KeepInTouch
from notify.solapi import SEND_PATH, MessageSender, SolapiClient
from notify.standin import (
    STANDIN_API_KEY,
    STANDIN_API_SECRET,
    STANDIN_CHANNEL,
    STANDIN_SENDER,
    StandinState,
    create_app,
)
from store import advertising, reminders
from store.consents import ConsentBook
from store.customers import CustomerDirectory
from store.events import EventStore
from tests.helpers import open_command, recorded

pytestmark = pytest.mark.db
SEOUL = ZoneInfo("Asia/Seoul")


def at(hour: int, days: int = 0) -> datetime:
    today = datetime.now(SEOUL).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, hour, tzinfo=SEOUL)


async def customer(pool: asyncpg.Pool, last_visit: datetime) -> tuple[str, str]:
    phone = f"+82102{uuid.uuid4().int % 10**7:07d}"  # 010-2xxx: every one valid
    customer_id = f"cus-k{uuid.uuid4().hex[:11]}"
    await pool.execute(
        "INSERT INTO customers (id, phone, name, visits, first_visit_at, last_visit_at)"
        " VALUES ($1, $2, 'Kim', 5, $3, $3)",
        customer_id,
        phone,
        last_visit,
    )
    return customer_id, phone


def runner(pool: asyncpg.Pool, state: StandinState) -> KeepInTouch:
    client = SolapiClient(
        "http://standin",
        STANDIN_API_KEY,
        STANDIN_API_SECRET,
        transport=httpx.ASGITransport(app=create_app(state)),
        settle=0.0,
    )
    links = LinkSigner([b"keep-in-touch-test"])
    sender = MessageSender(
        client,
        sender_number=STANDIN_SENDER,
        channel_id=STANDIN_CHANNEL,
        template_ids={},
        links=links,
        public_url="http://shop.example",
        link_ttl=timedelta(days=14),
    )
    return KeepInTouch(
        pool=pool,
        sender=sender,
        links=links,
        zone=SEOUL,
        after=timedelta(days=90),
        public_url="http://shop.example",
        shop_name="행복세탁",
        shop_contact="02-123-4567",
    )


def to(state: StandinState, phone: str) -> list[dict[str, object]]:
    return [m for m in state.messages if m["to"] == "0" + phone.removeprefix("+82")]


async def test_one_message_by_day_with_the_label_and_opt_out(pool: asyncpg.Pool) -> None:
    state = StandinState.for_language()
    run = runner(pool, state)
    morning, night = at(10), at(22)
    gold, gold_phone = await customer(pool, morning - timedelta(days=100))
    await pool.execute("UPDATE customers SET marketing_consent_at = now() WHERE id = $1", gold)
    recent, recent_phone = await customer(pool, morning - timedelta(days=30))
    await pool.execute("UPDATE customers SET marketing_consent_at = now() WHERE id = $1", recent)
    lapsed, lapsed_phone = await customer(pool, morning - timedelta(days=200))  # no basis

    at_night = await run.run(night)
    assert [p.held for p in at_night.planned if p.candidate.customer_id == gold] == [
        "21:00-08:00 without the separate night-time consent"
    ]
    assert not to(state, gold_phone)

    dry = await run.run(morning, dry_run=True)
    mine = {p.candidate.customer_id for p in dry.planned}
    assert gold in mine and recent not in mine and lapsed not in mine
    assert not to(state, gold_phone)

    await run.run(morning)
    (message,) = to(state, gold_phone)
    text = str(message["text"])
    assert message["type"] == "LMS" and message["status"] == "sent"
    assert message["template_id"] is None  # never a KakaoTalk notification template
    assert text.startswith("(광고) 행복세탁\n") and "02-123-4567" in text
    assert "무료 수신거부: http://shop.example/c/" in text and text.endswith("/stop")
    assert not to(state, recent_phone) and not to(state, lapsed_phone)

    await run.run(morning + timedelta(hours=1))  # once per period
    assert len(to(state, gold_phone)) == 1

    # A visit starts a new period; still not seen for 90 days, but one a day at most
    await pool.execute(
        "UPDATE customers SET last_visit_at = $2 WHERE id = $1", gold, morning - timedelta(days=95)
    )
    held = await run.run(morning + timedelta(hours=2))
    assert [p.held for p in held.planned if p.candidate.customer_id == gold] == [
        "an advertising message went out within the last day"
    ]
    await run.run(at(10, days=1))
    assert len(to(state, gold_phone)) == 2

    # The opt-out stops the next one
    await ConsentBook(pool).withdraw(gold, "opt_out_link", "customer")
    await pool.execute(
        "UPDATE customers SET last_visit_at = $2 WHERE id = $1", gold, morning - timedelta(days=91)
    )
    after = await run.run(at(10, days=3))
    assert gold not in {p.candidate.customer_id for p in after.planned}
    assert len(to(state, gold_phone)) == 2


async def test_without_consent_only_within_six_months_of_a_visit(pool: asyncpg.Pool) -> None:
    state = StandinState.for_language()
    morning = at(11)
    recent_buyer, phone = await customer(pool, morning - timedelta(days=120))
    result = await runner(pool, state).run(morning)
    assert [p.basis for p in result.planned if p.candidate.customer_id == recent_buyer] == [
        "transaction"
    ]
    assert len(to(state, phone)) == 1


async def test_nothing_goes_without_the_shops_name(pool: asyncpg.Pool) -> None:
    state = StandinState.for_language()
    unnamed = runner(pool, state)
    unnamed = KeepInTouch(**{**unnamed.__dict__, "shop_name": ""})
    _, phone = await customer(pool, at(10) - timedelta(days=100))
    await pool.execute("UPDATE customers SET marketing_consent_at = now() WHERE phone = $1", phone)
    result = await unnamed.run(at(10))
    assert "COMPLAINTS_SHOP_NAME" in result.refused and not to(state, phone)


async def test_the_cli_dry_run_lists_who_would_get_one(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    ctx = Context(settings.model_copy(update={"link_secret": SecretStr("x")}), pool=pool)
    last = datetime.now(UTC) - timedelta(days=100)
    customer_id, phone = await customer(pool, last)
    number = "0" + phone.removeprefix("+82")
    consented = await handlers.consent(ctx, parser().parse_args(["consent", number, "yes"]))
    assert f"customer {customer_id}: consent to advertising recorded" in consented
    assert "between 21:00 and 08:00 no" in consented
    text = await handlers.keep_in_touch(ctx, parser().parse_args(["keep-in-touch", "--dry-run"]))
    assert "customer messages are off" in text
    (line,) = [row for row in text.splitlines() if written_phone(phone, "KR") in row]
    assert line.startswith("Kim") and ("basis: consent" in line or "held: 21:00" in line)
    rows = await handlers.keep_in_touch(
        ctx, parser().parse_args(["keep-in-touch", "--dry-run", "--json"])
    )
    assert customer_id in rows


class AnswerLost(httpx.AsyncBaseTransport):
    """The provider takes the first send to one number, and its answer never arrives (a
    timeout)."""

    def __init__(self, app: httpx.AsyncBaseTransport, phone: str) -> None:
        self.app = app
        self.to = "0" + phone.removeprefix("+82")
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.app.handle_async_request(request)
        sending = request.method == "POST" and request.url.path == SEND_PATH
        if (
            sending
            and not self.lost
            and json.loads(request.content)["messages"][0]["to"] == self.to
        ):
            self.lost += 1
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def losing_runner(
    pool: asyncpg.Pool, state: StandinState, phone: str
) -> tuple[KeepInTouch, AnswerLost]:
    run = runner(pool, state)
    assert run.sender is not None
    lossy = AnswerLost(httpx.ASGITransport(app=create_app(state)), phone)
    run.sender.client.transport = lossy
    return run, lossy


async def test_a_send_whose_answer_was_lost_is_looked_up_not_sent_again(
    pool: asyncpg.Pool,
) -> None:
    state = StandinState.for_language()
    morning = at(10)
    customer_id, phone = await customer(pool, morning - timedelta(days=100))
    run, lossy = losing_runner(pool, state, phone)
    await pool.execute(
        "UPDATE customers SET marketing_consent_at = now() WHERE id = $1", customer_id
    )

    first = await run.run(morning)
    assert lossy.lost == 1 and first.failed >= 1
    assert len(to(state, phone)) == 1  # the provider took it; we never heard
    (claim,) = await advertising.sent_to(pool, customer_id)
    assert claim["sent_at"] is None  # kept, with its id, for the next run to look up

    second = await run.run(morning + timedelta(hours=1))
    assert second.found >= 1
    assert len(to(state, phone)) == 1  # exactly one message at the provider
    (recorded,) = await advertising.sent_to(pool, customer_id)
    assert recorded["id"] == claim["id"] and recorded["sent_at"] is not None

    await run.run(morning + timedelta(days=1))  # settled: nothing more for this period
    assert len(to(state, phone)) == 1


async def test_a_sender_that_died_before_recording_is_settled_after_its_lease(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = StandinState.for_language()
    run = KeepInTouch(**{**runner(pool, state).__dict__, "lease": timedelta(0)})
    morning = at(10)
    customer_id, phone = await customer(pool, morning - timedelta(days=100))
    await pool.execute(
        "UPDATE customers SET marketing_consent_at = now() WHERE id = $1", customer_id
    )

    async def died(*args: object) -> None:
        raise asyncio.CancelledError  # the activity timed out: cancelled before recording

    with monkeypatch.context() as patched:
        patched.setattr(advertising, "sent", died)
        with pytest.raises(asyncio.CancelledError):
            await run.run(morning)
    assert len(to(state, phone)) == 1

    await run.run(morning + timedelta(hours=1))
    assert len(to(state, phone)) == 1
    (recorded,) = await advertising.sent_to(pool, customer_id)
    assert recorded["sent_at"] is not None


async def test_a_send_that_never_reached_the_provider_goes_once_later(
    pool: asyncpg.Pool,
) -> None:
    state = StandinState.for_language()
    run = runner(pool, state)
    state.fail.append(500)  # refused before it took anything
    morning = at(10)
    customer_id, phone = await customer(pool, morning - timedelta(days=100))
    await pool.execute(
        "UPDATE customers SET marketing_consent_at = now() WHERE id = $1", customer_id
    )
    await run.run(morning)
    assert not to(state, phone)
    later = await run.run(morning + timedelta(hours=1))
    assert later.found == 0 and len(to(state, phone)) == 1
    (recorded,) = await advertising.sent_to(pool, customer_id)
    assert recorded["sent_at"] is not None


class StaffNotices:
    """The staff sender: what staff were told."""

    def __init__(self) -> None:
        self.notices: list[dict[str, Any]] = []

    async def send(self, notice: dict[str, Any]) -> None:
        self.notices.append(notice)

    def about(self, customer_id: str) -> list[dict[str, Any]]:
        return [n for n in self.notices if n["data"]["customer_id"] == customer_id]


async def test_a_regular_without_a_basis_gets_a_staff_reminder_not_a_message(
    pool: asyncpg.Pool,
) -> None:
    state = StandinState.for_language()
    staff = StaffNotices()
    shop_open = True

    async def is_open(now: datetime) -> bool:
        return shop_open

    run = KeepInTouch(
        **{
            **runner(pool, state).__dict__,
            "staff": staff,
            "is_open": is_open,
            "staff_link": "http://shop.example",
        }
    )
    morning = at(10)
    long_ago = morning - timedelta(days=200)  # over 6 months: no basis without consent
    gold, gold_phone = await customer(pool, long_ago)
    bronze, bronze_phone = await customer(pool, long_ago)
    await pool.execute("UPDATE customers SET visits = 1 WHERE id = $1", bronze)
    opted_out, _ = await customer(pool, long_ago)
    await ConsentBook(pool).withdraw(opted_out, "opt_out_link", "customer")
    consented, consented_phone = await customer(pool, long_ago)
    await pool.execute("UPDATE customers SET marketing_consent_at = now() WHERE id = $1", consented)

    shop_open = False  # staff reminders wait for opening hours
    closed = await run.run(morning)
    assert [c.held for c in closed.calls if c.candidate.customer_id == gold] == [
        "outside opening hours"
    ]
    assert not staff.about(gold)

    shop_open = True
    await run.run(morning + timedelta(hours=1))
    (reminder,) = staff.about(gold)
    assert not to(state, gold_phone)  # no advertising without a basis
    text = str(reminder["message"])
    assert reminder["recipient"] == "staff" and reminder["kind"] == "keep_in_touch_call"
    assert gold in text and "전화" in text and "Kim" not in text
    assert gold_phone not in text and gold_phone.removeprefix("+82") not in text
    assert not staff.about(bronze) and not to(state, bronze_phone)  # not a regular yet
    assert not staff.about(opted_out)  # said no: not asked again
    assert not staff.about(consented) and len(to(state, consented_phone)) == 1

    await run.run(morning + timedelta(days=1))  # once per visit it follows
    assert len(staff.about(gold)) == 1
    (row,) = await reminders.reminded(pool, gold)
    assert row["sent_at"] is not None

    # A visit starts a new period: reminded again once that one has run its course
    await pool.execute(
        "UPDATE customers SET last_visit_at = $2 WHERE id = $1", gold, morning - timedelta(days=190)
    )
    await run.run(morning + timedelta(days=2))
    assert len(staff.about(gold)) == 2


async def test_a_closed_case_counts_as_contact_and_a_complainant_without_a_visit_is_reached(
    pool: asyncpg.Pool,
) -> None:
    """The rhythm runs from the last contact: a visit, or a case closed (as its closing is
    stored). A complainant who never visited hears from the shop 90 days after the closing;
    a customer whose case closed after their visit, 90 days after the closing."""
    state = StandinState.for_language()
    morning = at(10)
    directory = CustomerDirectory(pool)
    complainant_phone = f"+82103{uuid.uuid4().int % 10**7:07d}"
    complainant = (await directory.register(complainant_phone, "Park")).customer_id
    regular, regular_phone = await customer(pool, morning - timedelta(days=200))
    for who in (complainant, regular):
        await pool.execute("UPDATE customers SET marketing_consent_at = now() WHERE id = $1", who)
    for who, closing in ((complainant, morning - timedelta(days=95)),
                         (regular, morning - timedelta(days=30))):  # fmt: skip
        case_id = uuid.uuid4().hex[:8]
        opening = open_command(case_id).model_copy(update={"customer_id": who})
        satisfied = RecordSatisfaction(score=5)
        events = recorded(
            case_id,
            [
                (opening, closing - timedelta(days=2)),
                (Apologize(what="sorry"), closing - timedelta(hours=40)),
                (Empathize(customer_words="it was cold"), closing - timedelta(hours=39)),
                (AnalyzeCause(cause="the heater", fault=Fault.OURS), closing - timedelta(hours=38)),
                (OfferResolution(options=[OfferedRemedy(kind=RemedyKind.FREE_REDO)], plan="redo"),
                 closing - timedelta(hours=37)),
                (RecordCustomerResponse(choice=RemedyKind.FREE_REDO),
                 closing - timedelta(hours=36)),
                (ShowPrevention(measure="check the heater"), closing - timedelta(hours=35)),
                (satisfied, closing),
            ],
        )  # fmt: skip
        store = EventStore(pool)
        await store.append(case_id, events[:1])  # opened, then worked on: as a workflow stores
        await store.append(case_id, events[1:])

    result = await runner(pool, state).run(morning)
    mine = {p.candidate.customer_id: p for p in result.planned}
    assert regular not in mine  # the closing a month ago was a contact: not due yet
    assert mine[complainant].basis == "consent" and not mine[complainant].held
    assert mine[complainant].candidate.last_visit_at is None
    (sent,) = to(state, complainant_phone)
    assert str(sent["text"]).startswith("(광고)") and not to(state, regular_phone)
    (ad,) = await advertising.sent_to(pool, complainant)
    assert ad["period"] == morning - timedelta(days=95)  # the closing it follows

    later = await runner(pool, state).run(morning + timedelta(days=61))
    assert regular in {p.candidate.customer_id for p in later.planned}
    assert len(to(state, regular_phone)) == 1 and len(to(state, complainant_phone)) == 1


async def test_customers_held_at_night_never_crowd_out_those_a_message_may_reach(
    pool: asyncpg.Pool,
) -> None:
    """More customers held by the hour than one run takes: the one with the night-time
    consent still gets their message."""
    state = StandinState.for_language()
    night = at(22)
    run = KeepInTouch(**{**runner(pool, state).__dict__, "limit": 3})
    long_ago = night - timedelta(days=6000)  # ahead of every other test's customers
    held = [await customer(pool, long_ago + timedelta(minutes=i)) for i in range(4)]
    night_owl, owl_phone = await customer(pool, night - timedelta(days=5000))
    for who, _ in [*held, (night_owl, owl_phone)]:
        await pool.execute("UPDATE customers SET marketing_consent_at = now() WHERE id = $1", who)
    await pool.execute("UPDATE customers SET night_consent_at = now() WHERE id = $1", night_owl)

    result = await run.run(night)
    assert len(to(state, owl_phone)) == 1
    assert not any(to(state, phone) for _, phone in held)
    mine = {p.candidate.customer_id: p.held for p in result.planned}
    assert mine[night_owl] == "" and mine[held[0][0]].startswith("21:00-08:00")


async def test_regulars_a_message_reaches_never_crowd_out_the_staff_reminders(
    pool: asyncpg.Pool,
) -> None:
    """More regulars with a basis for a message than one run takes: the regular without one
    still gets staff a reminder to call."""
    staff = StaffNotices()
    run = KeepInTouch(**{**runner(pool, StandinState.for_language()).__dict__, "limit": 3,
                         "staff": staff})  # fmt: skip
    morning = at(10)
    long_ago = morning - timedelta(days=7000)  # ahead of every other test's customers
    for i in range(4):
        reachable, _ = await customer(pool, long_ago + timedelta(minutes=i))
        await pool.execute(
            "UPDATE customers SET marketing_consent_at = now() WHERE id = $1", reachable
        )
    no_basis, _ = await customer(pool, morning - timedelta(days=6900))
    result = await run.run(morning, dry_run=True)
    assert no_basis in {c.candidate.customer_id for c in result.calls}

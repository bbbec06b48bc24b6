"""Customer messages on the real stack (dev server, PostgreSQL, a worker, the API) with the
stand-in provider: the "received" message arrives once, the SMS fallback is recorded, a
worker killed mid-send still yields one message, a customer who asked for none gets none,
and no log line carries the customer's number or text."""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import structlog
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from app.context import Context
from infra.settings import Settings
from notify import standin
from notify.registry import senders_for
from store.outbox import Outbox
from tests.conftest import ROOT, free_port
from tests.helpers import STAFF, eventually
from worker import build_worker

pytestmark = pytest.mark.db
RECEIVED = "STANDIN-case_received"


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[str, standin.StandinState]]:
    """The stand-in on a port of its own, in a thread; its state shared with the test."""
    state = standin.StandinState.for_language("en")
    port = free_port()
    server = standin.server(port, state=state)
    thread = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the stand-in did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", state
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def messaging(settings: Settings, provider: tuple[str, standin.StandinState]) -> Settings:
    url, state = provider
    state.no_kakao.clear()
    state.fail.clear()
    state.delay = 0.0
    state.pending = 0
    port = int(url.rsplit(":", 1)[1])
    return settings.model_copy(
        update={"messages": "standin", "standin_port": port, "public_url": "https://shop.test"}
    )


class Api:
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client, self.token = client, token

    async def open(self, phone: str, channel: str = "kakaotalk") -> str:
        response = await self.client.post(
            "/cases",
            headers={"Authorization": f"Bearer {self.token}"},
            json={
                "name": "Park Jiho",
                "phone": phone,
                "channel": channel,
                "motive": "compensation",
                "what": "Aircon still leaks after the repair",
            },
        )
        assert response.status_code == 201, response.text
        return str(response.json()["case_id"])


@contextlib.asynccontextmanager
async def serving(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, token: str
) -> AsyncIterator[Api]:
    """A worker and the API in-process on `settings`, and a staff member's door to it."""
    ctx = Context(settings, client=dev_env.client, pool=pool)
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with (
        build_worker(dev_env.client, pool, settings),
        httpx.AsyncClient(transport=transport, base_url="http://api") as client,
    ):
        yield Api(client, token)


@pytest.fixture
async def api(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    messaging: Settings,
    staff_tokens: dict[str, str],
) -> AsyncIterator[Api]:
    async with serving(dev_env, pool, messaging, staff_tokens[STAFF]) as door:
        yield door


def a_phone(last4: str | None = None) -> tuple[str, str]:
    """A mobile number as typed, and as the provider gets it."""
    middle = f"{2000 + uuid.uuid4().int % 3000:04d}"  # 010-597x to 010-599x do not exist
    last = last4 or f"{uuid.uuid4().int % 9000 + 1000:04d}"
    return f"010-{middle}-{last}", f"010{middle}{last}"


def to(state: standin.StandinState, number: str) -> list[dict[str, Any]]:
    return [m for m in state.messages if m["to"] == number]


async def delivery(pool: asyncpg.Pool, case_id: str, kind: str) -> dict[str, Any]:
    row = await pool.fetchrow(
        "SELECT sent_at, delivery, last_error, attempts FROM notifications"
        " WHERE case_id = $1 AND kind = $2",
        case_id,
        kind,
    )
    assert row is not None and row["sent_at"] is not None, "the notice is done"
    return dict(row) | {"delivery": json.loads(row["delivery"]) if row["delivery"] else None}


async def test_a_case_opened_on_kakaotalk_sends_one_received_message_and_logs_no_number(
    api: Api, pool: asyncpg.Pool, provider: tuple[str, standin.StandinState]
) -> None:
    _, state = provider
    typed, number = a_phone()
    with structlog.testing.capture_logs() as logs:
        case_id = await api.open(typed)

        async def received() -> dict[str, Any]:
            row = await delivery(pool, case_id, "case_received")
            assert row["delivery"]["result"] == "sent"
            return row

        row = await eventually(received, timeout=30)
    (message,) = to(state, number)
    assert (message["type"], message["template_id"], message["status"]) == ("ATA", RECEIVED, "sent")
    assert case_id in message["text"] and "Someone will contact you by" in message["text"]
    assert row["delivery"]["channel"] == "ATA" and row["delivery"]["provider"] == "standin"
    listed = httpx.get(f"{provider[0]}/messages").json()
    assert {"to", "type", "template_id", "text", "status"} <= set(listed[-1])
    await asyncio.sleep(0.5)
    assert len(to(state, number)) == 1, "exactly one"
    for line in logs:
        flat = json.dumps(line, default=str, ensure_ascii=False)
        assert number not in flat and number[3:] not in flat and "Park" not in flat
        assert message["text"] not in flat


async def test_a_number_without_kakaotalk_gets_the_sms_fallback_and_the_row_says_so(
    api: Api, pool: asyncpg.Pool, provider: tuple[str, standin.StandinState]
) -> None:
    _, state = provider
    typed, number = a_phone()
    state.no_kakao.add(number)  # the stand-in fails KakaoTalk for this number
    case_id = await api.open(typed)

    async def fell_back() -> dict[str, Any]:
        row = await delivery(pool, case_id, "case_received")
        assert row["delivery"]["result"] == "fallback_sms"
        return row

    row = await eventually(fell_back, timeout=30)
    (message,) = to(state, number)
    assert message["type"] == "LMS" and message["status"] == "fallback_sms"  # Korean-free en
    assert row["delivery"]["channel"] == "LMS"


async def test_a_customer_who_asked_for_no_messages_gets_none_and_staff_are_told_to_call(
    api: Api, pool: asyncpg.Pool, provider: tuple[str, standin.StandinState]
) -> None:
    _, state = provider
    typed, number = a_phone()
    await pool.execute(
        "INSERT INTO customers (phone, id, no_messages) VALUES ($1, $2, true)",
        "+82" + number[1:],
        f"cus-{uuid.uuid4().hex[:12]}",
    )
    case_id = await api.open(typed)

    async def told_to_call() -> None:
        row = await pool.fetchrow(
            "SELECT sent_at, message FROM notifications WHERE case_id = $1"
            " AND kind = 'call_instead'",
            case_id,
        )
        assert row is not None and row["sent_at"] is not None
        assert "call them instead" in row["message"]

    await eventually(told_to_call, timeout=30)
    skipped = await delivery(pool, case_id, "case_received")
    assert "asked for no messages" in skipped["last_error"]
    assert to(state, number) == []


async def test_a_worker_killed_mid_send_still_yields_one_message(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    messaging: Settings,
    staff_tokens: dict[str, str],
    provider: tuple[str, standin.StandinState],
) -> None:
    _, state = provider
    state.delay = 30.0  # takes the message, then answers late: the worker dies waiting
    env = os.environ | {
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "COMPLAINTS_TASK_QUEUE": messaging.task_queue,
        "DATABASE_URL": messaging.database_url or "",
        "COMPLAINTS_LOG_FORMAT": "json",
        "COMPLAINTS_MESSAGES": "standin",
        "COMPLAINTS_LANGUAGE": messaging.language,
        "COMPLAINTS_STANDIN_PORT": str(messaging.standin_port),
    }
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "worker.py")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ctx = Context(messaging, client=dev_env.client, pool=pool)
        transport = httpx.ASGITransport(app=create_app(ctx))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            typed, number = a_phone()
            case_id = await Api(client, staff_tokens[STAFF]).open(typed)

            async def taken() -> None:
                assert len(to(state, number)) == 1

            await eventually(taken, timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    state.delay = 0.0
    row = await pool.fetchrow(
        "SELECT sent_at, attempts FROM notifications WHERE case_id = $1 AND kind = $2",
        case_id,
        "case_received",
    )
    assert row["sent_at"] is None and row["attempts"] == 1, "the kill left it unrecorded"
    # Its lease runs out (as it would after the sender's timeout); the sweep sends it again.
    await pool.execute(
        "UPDATE notifications SET claimed_until = now() - interval '1 second' WHERE case_id = $1",
        case_id,
    )
    swept = await Outbox(pool, senders_for(messaging)).sweep(older_than=timedelta(0))
    assert swept["failed"] == 0
    row = await delivery(pool, case_id, "case_received")
    assert row["attempts"] == 2 and row["delivery"]["result"] == "sent"
    assert len(to(state, number)) == 1, "looked up by its notice id, not sent twice"
    await dev_env.client.get_workflow_handle(f"complaint-{case_id}").terminate("test over")


async def test_a_message_still_on_its_way_is_looked_up_again_and_its_result_recorded(
    api: Api,
    pool: asyncpg.Pool,
    messaging: Settings,
    staff_tokens: dict[str, str],
    provider: tuple[str, standin.StandinState],
) -> None:
    url, state = provider
    typed, number = a_phone()
    state.no_kakao.add(number)
    httpx.post(f"{url}/admin/pending", json={"times": 1})  # the provider has no result yet
    case_id = await api.open(typed)

    async def accepted() -> dict[str, Any]:
        row = await delivery(pool, case_id, "case_received")
        assert row["delivery"]["result"] == "accepted"
        return row

    row = await eventually(accepted, timeout=30)
    assert row["delivery"]["message_id"] and to(state, number)[0]["status"] == "pending"
    outbox = Outbox(pool, senders_for(messaging))
    assert (await outbox.recheck())["settled"] == 0, "still on its way: nothing to record"
    assert httpx.post(f"{url}/admin/settle").json()["settled"] == 1
    swept = await outbox.sweep()
    assert swept["settled"] >= 1
    row = await delivery(pool, case_id, "case_received")
    assert (row["delivery"]["result"], row["delivery"]["channel"]) == ("fallback_sms", "LMS")
    assert len(to(state, number)) == 1, "looked up, never sent again"
    # The receipt carries the customer's status link, which opens their page.
    (message,) = to(state, number)
    link = message["text"].rsplit("\n", 1)[-1].split()[-1]
    assert link.startswith("https://shop.test/c/")
    page = await api.client.get(link.removeprefix("https://shop.test"))
    assert page.status_code == 200 and case_id in page.text


async def test_staff_notices_reach_a_staff_phone_by_text_with_the_case_link_only(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    messaging: Settings,
    staff_tokens: dict[str, str],
    provider: tuple[str, standin.StandinState],
) -> None:
    """COMPLAINTS_STAFF_PHONES: a staff notice (here: call the customer, who asked for no
    messages) goes out as a text to the staff phone as well, once, with the case page's
    link and none of the customer's details."""
    _, state = provider
    staff_typed, staff_number = a_phone()
    typed, number = a_phone()
    settings = messaging.model_copy(update={"staff_phones": {"staff": staff_typed}})
    await pool.execute(
        "INSERT INTO customers (phone, id, no_messages) VALUES ($1, $2, true)",
        "+82" + number[1:],
        f"cus-{uuid.uuid4().hex[:12]}",
    )
    async with serving(dev_env, pool, settings, staff_tokens[STAFF]) as door:
        case_id = await door.open(typed)

        async def texted() -> dict[str, Any]:
            sent = to(state, staff_number)
            assert len(sent) == 1, sent
            return sent[0]

        message = await eventually(texted, timeout=30)
        row = await eventually(lambda: delivery(pool, case_id, "call_instead"), timeout=10)
    assert message["type"] in ("SMS", "LMS") and message["status"] == "sent"
    assert f"https://shop.test/staff/cases/{case_id}" in message["text"]
    assert "call them instead" in message["text"]
    assert number not in message["text"] and number[3:] not in message["text"]
    assert "Park" not in message["text"]
    assert row["delivery"]["provider"] == "standin"
    await asyncio.sleep(0.5)
    assert len(to(state, staff_number)) == 1 and to(state, number) == []


def test_staff_phones_are_checked_when_the_settings_load() -> None:
    with pytest.raises(ValueError, match="'cook' is no recipient of staff notices"):
        Settings(messages="standin", staff_phones={"cook": "010-2345-6789"})
    with pytest.raises(ValueError, match="COMPLAINTS_STAFF_PHONES: owner: "):
        Settings(messages="standin", staff_phones={"owner": "12"})
    with pytest.raises(ValueError, match="needs COMPLAINTS_MESSAGES=standin or solapi"):
        Settings(messages="off", staff_phones={"owner": "010-2345-6789"})
    phones = Settings(messages="standin", staff_phones={"owner": "010-2345-6789"}).staff_phones
    assert phones == {"owner": "+821023456789"}

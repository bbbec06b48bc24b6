"""The notification outbox on PostgreSQL, sent to a real local webhook."""

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import asyncpg
import pytest

from activities.notify import Outbox, WebhookSender
from activities.store import EventStore
from domain.commands import CheckClock
from tests.helpers import open_command, recorded
from tests.integration.test_event_store import T0

pytestmark = pytest.mark.db


class Hook:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state.status == 200:
                state.received.append(json.loads(body))
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_port}/notify"
    server.shutdown()


async def test_notices_reach_the_webhook_once_even_after_it_failed(
    pool: asyncpg.Pool, hook: tuple[Hook, str]
) -> None:
    state, url = hook
    case_id = uuid.uuid4().hex[:8]
    events = recorded(
        case_id,
        [
            (open_command(case_id), T0),
            (CheckClock(), T0 + timedelta(hours=19)),
            (CheckClock(), T0 + timedelta(hours=25)),
        ],
    )
    await EventStore(pool, language="en").append(case_id, events)
    outbox = Outbox(pool, WebhookSender(url, timeout=5))

    state.status = 503
    with pytest.raises(Exception, match="503"):
        await outbox.send_pending(case_id)
    failed = await pool.fetchrow(
        "SELECT attempts, last_error, sent_at FROM notifications WHERE case_id = $1 "
        "ORDER BY created_at LIMIT 1",
        case_id,
    )
    assert (failed["attempts"], failed["sent_at"]) == (1, None) and "503" in failed["last_error"]

    state.status = 200
    assert await outbox.send_pending(case_id) == 2
    assert await outbox.send_pending(case_id) == 0  # sent rows are never sent again
    assert [(n["kind"], n["recipient"]) for n in state.received] == [
        ("response_due_soon", "staff"),
        ("escalated", "manager"),
    ]
    escalation = state.received[1]
    assert escalation["case_id"] == case_id and escalation["data"]["level"] == 1
    assert "Kim" not in json.dumps(state.received) and "1234" not in json.dumps(state.received)

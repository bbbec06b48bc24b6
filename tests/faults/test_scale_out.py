"""Scale-out, proven: two worker processes and two API processes over one Temporal and one
PostgreSQL, the shape compose runs. One of each is killed (SIGKILL) mid-walk: every case
continues on the survivors, no event is lost or written twice, no notice is sent twice."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from infra.settings import Settings
from tests.conftest import ROOT, free_port
from tests.e2e.test_api import NEW_CASE, WALK
from tests.helpers import OWNER, event_types, eventually
from tests.webhook import SECRET, Hook, webhook

pytestmark = pytest.mark.db

CASES = 6
STEPS = WALK[:6]  # apology .. prevention: the follow-up waits a week
EVENTS = [
    "case_opened", "apologized", "empathized", "cause_analyzed", "resolution_offered",
    "resolution_accepted", "prevention_shown",
]  # fmt: skip


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook() as h:
        yield h


@pytest.fixture
def processes(dev_env: WorkflowEnvironment, settings: Settings, hook: Hook) -> Iterator[Any]:
    """Starts workers and APIs as the image runs them; kills what is left at the end."""
    started: list[subprocess.Popen[bytes]] = []
    env = os.environ | {
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "COMPLAINTS_TASK_QUEUE": settings.task_queue,
        "DATABASE_URL": settings.database_url or "",
        "COMPLAINTS_LOG_FORMAT": "json",
        "COMPLAINTS_WEBHOOK_URL": hook.url,
        "COMPLAINTS_WEBHOOK_SECRET": SECRET,
        "COMPLAINTS_LANGUAGE": "en",
        # Short targets: the cases warn and escalate while their worker is gone, so there are
        # notices to deliver across the kill.
        "COMPLAINTS_RESPONSE_TARGET": "4s",
    }

    def start(module: str, **extra: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            env=env | extra,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_cases_continue_on_the_survivors_when_a_worker_and_an_api_die(
    processes: Any, pool: asyncpg.Pool, hook: Hook, staff_tokens: dict[str, str]
) -> None:
    workers = [processes("worker") for _ in range(2)]
    ports = [free_port(), free_port()]
    apis = [processes("api", COMPLAINTS_API_PORT=str(port)) for port in ports]
    alive = list(ports)
    retries: list[str] = []
    headers = {"Authorization": f"Bearer {staff_tokens[OWNER]}"}

    async with httpx.AsyncClient(headers=headers, timeout=60) as http:

        async def ready() -> None:
            for port in ports:
                try:
                    answer = await http.get(f"http://127.0.0.1:{port}/ready")
                except httpx.TransportError as err:
                    raise AssertionError(f"API on {port} not up yet") from err
                assert answer.status_code == 200

        await eventually(ready, timeout=60)

        async def post(n: int, path: str, body: dict[str, Any], **extra: Any) -> httpx.Response:
            """Through API n % 2, or the other one while it is down (as a load balancer), and
            again after Retry-After on a 503 (as the API asks: for some seconds after a worker
            dies, the cases it held answer 503 until Temporal hands them to the survivor)."""
            deadline = asyncio.get_running_loop().time() + 60
            retried = False
            while True:
                answer = None
                for port in (alive[n % len(alive)], *alive):
                    try:
                        url = f"http://127.0.0.1:{port}{path}"
                        answer = await http.post(url, json=body, **extra)
                        break
                    except httpx.TransportError:
                        continue
                assert answer is not None, "no API answered"
                if retried and answer.status_code == 409 and "already done" in answer.text:
                    # The 503 came after the action was recorded: done once, as the events
                    # below check. (A client tells this from a refusal by the wording.)
                    return httpx.Response(200, json={"recorded_before_the_retry": True})
                if answer.status_code != 503 or asyncio.get_running_loop().time() > deadline:
                    return answer
                retried = True
                retries.append(path)
                await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))

        async def open_case(n: int) -> str:
            body = NEW_CASE | {"phone": f"010-7{n:03d}-{uuid.uuid4().int % 10000:04d}"}
            key = {"Idempotency-Key": f"scale-{uuid.uuid4()}"}
            answer = await post(n, "/cases", body, headers=key)
            assert answer.status_code == 201, answer.text
            case_id: str = answer.json()["case_id"]
            return case_id

        ids = await asyncio.gather(*(open_case(n) for n in range(CASES)))
        for step, (path, body) in enumerate(STEPS):
            if step == 2:  # mid-walk: one worker and one API die
                workers[0].send_signal(signal.SIGKILL)
                apis[0].send_signal(signal.SIGKILL)
                alive.remove(ports[0])
            answers = await asyncio.gather(
                *(post(n, f"/cases/{case}/{path}", body) for n, case in enumerate(ids))
            )
            assert [a.status_code for a in answers] == [200] * CASES, [a.text for a in answers]

    assert workers[0].wait() == -signal.SIGKILL and workers[1].poll() is None
    timers = ("response_due_soon", "escalated")  # as many as the outage lasted
    for case_id in ids:
        stored = await event_types(pool, case_id)  # gap-free, or it raises
        assert [t for t in stored if t not in timers] == EVENTS  # each action once

    async def all_sent() -> int:
        unsent = await pool.fetchval(
            "SELECT count(*) FROM notifications WHERE case_id = ANY($1) AND sent_at IS NULL", ids
        )
        assert unsent == 0
        sent: int = await pool.fetchval(
            "SELECT count(*) FROM notifications WHERE case_id = ANY($1)", ids
        )
        return sent

    sent = await eventually(all_sent, timeout=60)
    mine = [d for d in hook.deliveries if any(case in d.body for case in ids)]
    delivered_ids = [d.headers["webhook-id"] for d in mine]
    print(f"scale-out: {len(retries)} requests retried after 503, {sent} notices delivered")
    assert sent >= 1 and len(set(delivered_ids)) == sent
    assert len(delivered_ids) == len(set(delivered_ids)), "a notice was delivered twice"

"""The `pages` part of `make bench`: server time of the staff inbox and of a case page with
many cases in the read model, beside the same reads through the JSON API (GET /cases and
GET /cases/{id}) in the same run, and the plans PostgreSQL chooses for the inbox's queries.

The read model is seeded with rows copied in directly (as the rebuild part copies events):
one in OPEN_SHARE open, the rest closed or withdrawn, due times spread over two weeks. A few
real cases are opened through the worker, so a case page reads a real workflow, its events
and its customer. Requests go to the app in-process (ASGI): the figures are the server's
time, without a network or a browser.
"""

import itertools
import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from api.main import create_app
from app import cases, sessions
from app import staff as staff_accounts
from app.context import Context
from app.identity import Actor, Role
from app.inbox import inbox_filter
from bench.loading import loading
from domain.model import CaseStatus, IntakeChannel, Motive, Step, Tier
from infra.shop_ids import FIRST_SHOP
from pages.routes import COOKIE
from store.inbox import open_cases_sql

OPEN_SHARE = 5  # one case in five is open; a shop's older cases are mostly closed
STEPS = [s.value for s in Step]
OPEN = [CaseStatus.OPEN, CaseStatus.ESCALATED, CaseStatus.AWAITING_CUSTOMER, CaseStatus.RESOLVED]
CLOSED = [CaseStatus.CLOSED, CaseStatus.CLOSED, CaseStatus.CLOSED, CaseStatus.WITHDRAWN]
COLUMNS = [
    "case_id",
    "status",
    "step",
    "motive",
    "channel",
    "tier",
    "fault",
    "escalation_level",
    "escalations",
    "response_due_at",
    "opened_at",
    "closed_at",
    "version",
    "updated_at",
    "state",
]


def read_model_rows(total: int, now: datetime, seed: int = 24) -> Iterator[tuple[Any, ...]]:
    """`total` read-model rows of made-up cases (ids `b` + 9 digits; no customer)."""
    rng = random.Random(seed)
    motives, channels = list(Motive), list(IntakeChannel)
    tiers = [t.value for t in Tier]
    for n in range(total):
        opened = now - timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
        is_open = n % OPEN_SHARE == 0
        status = rng.choice(OPEN if is_open else CLOSED)
        due = now + timedelta(minutes=rng.randrange(-7 * 24 * 60, 7 * 24 * 60)) if is_open else None
        level = rng.choice((0, 0, 0, 1, 2)) if status == CaseStatus.ESCALATED else 0
        yield (
            f"b{n:09d}",
            status.value,
            rng.choice(STEPS) if is_open else None,
            rng.choice(motives).value,
            rng.choice(channels).value,
            rng.choice(tiers),
            None,
            level,
            level,
            due,
            opened,
            None if is_open else opened + timedelta(days=3),
            rng.randrange(1, 12),
            opened,
            json.dumps({"declines": rng.choice((0, 0, 0, 1, 2))}),
        )


async def seed(pool: asyncpg.Pool, total: int) -> float:
    """Copy `total` rows into the read model; returns the seconds the COPY took."""
    now = datetime.now(UTC)
    async with loading(pool) as conn:
        t = time.perf_counter()
        await conn.copy_records_to_table(
            "complaint_cases", records=read_model_rows(total, now), columns=COLUMNS
        )
        seconds = time.perf_counter() - t
        await conn.execute("VACUUM ANALYZE complaint_cases")
    return seconds


async def explain(pool: asyncpg.Pool) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of the inbox's two queries, unfiltered and for the owner;
    `seq_scan` says whether any of them reads the whole table."""
    plans: dict[str, list[str]] = {}
    for name, where in (("inbox", inbox_filter()), ("owner", inbox_filter(owner=True))):
        count, page, args = open_cases_sql(where, 20, 1)
        for kind, sql in (("count", count), ("page", page)):
            rows = await pool.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
            plans[f"{name}_{kind}"] = [r[0] for r in rows]
    seq = sorted(k for k, lines in plans.items() if any("Seq Scan" in line for line in lines))
    return {"plans": plans, "seq_scan": seq}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"n": len(ordered), "p50": at(0.5), "p95": at(0.95), "max": ordered[-1]}


async def open_real_cases(ctx: Context, owner: Actor, count: int) -> list[str]:
    """Cases opened through the worker, each walked one step (so its page has a timeline)."""
    opened = []
    for n in range(count):
        # 010-2000 to 010-4999: every one exists (010-5970 to 010-5999 do not)
        middle, last = 2000 + uuid.uuid4().int % 3000, uuid.uuid4().int % 10000
        case = await cases.open_case(
            ctx,
            owner,
            name=f"Bench Customer {n}",
            phone=f"010-{middle:04d}-{last:04d}",
            channel="phone",
            motive=Motive.COMPENSATION.value,
            what="The cake arrived crushed",
        )
        await cases.apologize(ctx, owner, case.case_id, "Sorry the cake arrived crushed")
        opened.append(case.case_id)
    return opened


async def pages(ctx: Context, total: int, requests: int) -> dict[str, Any]:
    """Seed `total` read-model rows, then time `requests` of each: inbox page, API list,
    case page, API show (interleaved, so the machine's drift falls on all four alike)."""
    pool = await ctx.pool()
    name = f"Bench Owner {uuid.uuid4().hex[:6]}"
    api_token = await staff_accounts.add(ctx, name, Role.OWNER.value)
    link = await sessions.sign_in_link(ctx, name)
    session = await sessions.sign_in(ctx, link.rsplit("/", 1)[-1], "bench")
    owner = Actor(name, Role.OWNER, shop=FIRST_SHOP)
    real = await open_real_cases(ctx, owner, 3)
    copy_seconds = await seed(pool, total)
    plans = await explain(pool)
    samples: dict[str, list[float]] = {k: [] for k in ("inbox", "api_list", "case", "api_show")}
    bearer = {"Authorization": f"Bearer {api_token}"}
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", cookies={COOKIE: session.token}
    ) as client:
        paths = {
            "inbox": ("/staff/", {}),
            "api_list": ("/cases", bearer),
            "case": ("/staff/cases/{}", {}),
            "api_show": ("/cases/{}", bearer),
        }
        for n, case_id in zip(range(requests + 5), itertools.cycle(real), strict=False):
            for kind, (path, headers) in paths.items():
                t = time.perf_counter()
                answer = await client.get(path.format(case_id), headers=headers)
                ms = (time.perf_counter() - t) * 1000
                assert answer.status_code == 200, (kind, answer.status_code, answer.text[:300])
                if n >= 5:  # the first few warm caches and templates
                    samples[kind].append(ms)
    out: dict[str, Any] = {k: percentiles(v) for k, v in samples.items()}
    out |= {
        "cases": total,
        "open_cases": -(-total // OPEN_SHARE),
        "copy_seconds": copy_seconds,
        "inbox_over_api_list_p95": out["inbox"]["p95"] / out["api_list"]["p95"],
        "case_over_api_show_p95": out["case"]["p95"] / out["api_show"]["p95"],
        "explain": plans,
    }
    return out

"""`make bench-scale` (not in CI): a hosted service's size, 100,000 open cases and a million
events, on the embedded stack (dev server with WAL pragmas, embedded PostgreSQL, our worker).

1. Opens 100 cases and walks a few (the action p50 with 100 open), then opens the rest at the
   rate the server takes (64 starts in flight, each mark waited for until every opened case
   is stored), with the worker's and the server's RSS at each quarter (25k / 50k / 75k /
   100k open), then walks as many again: the action p50 with all of them open.
2. Copies walked cases' events into complaint_events until it holds a million (as the
   `rebuild` part of `make bench` makes them: distinct times, the business calendar) and
   rebuilds the read model from them all.
3. Times the read model's hot queries, each many times: the list's first page filtered by
   status and step (`complaints list --status open --step apologize`), the same filtered by
   status alone, and the period report over a month of the copied history; p50 and p95, with
   every statement's plan (EXPLAIN ANALYZE) recorded, and any sequential scan of
   complaint_events named.

Environment: BENCH_SCALE_PARTS (open,fill,queries: `fill,queries` alone needs no cases
opened, only the events copied), BENCH_SCALE_CASES (100000), BENCH_SCALE_EVENTS (1000000),
BENCH_SCALE_WALKS (20 cases walked at each end), BENCH_SCALE_QUERIES (50 runs of each
query). A run at the full size takes over an hour on 2 cores (about 20 cases opened per
second); run it on a quiet machine. It prints a table and writes
bench-results/scale-*.json (and scale-latest.json).
"""

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from temporalio.client import Client

from bench.loading import loading
from bench.run import (
    DATA,
    RESULTS,
    ROOT,
    TARGET_MODE,
    open_many,
    percentiles,
    rebuild_rows,
    spawn,
    unloaded,
    walk_ours,
)
from infra import postgres, temporal_server
from infra.codec import EncryptionCodec
from infra.converter import data_converter
from infra.keys import new_key, parse_keys
from infra.shop_ids import FIRST_SHOP
from store import migrations
from store.cases import CaseFilter, list_cases
from store.connections import Conn
from store.read_model import rebuild_read_model
from store.report import period_report
from workflows import search_attributes

ENV = os.environ.get
FEW = 100  # the open cases the action p50 is first measured with
# Each copy of the template walks (1,000 cases over 67 days) starts 5 days after the one
# before: a million events (143 copies) are two years of a busy deployment's history, so a
# month is about 4 % of it, as in a real shop's database, not most of it.
HISTORY_STEP = timedelta(days=5)
# The month of copied history the report reads (the copies start on 2030-01-01).
PERIOD = (datetime(2031, 1, 1, tzinfo=UTC), datetime(2031, 2, 1, tzinfo=UTC))

Query = Callable[[asyncpg.Pool], Awaitable[Any]]
QUERIES: dict[str, Query] = {
    "list: first page, status and step": lambda pool: list_cases(
        pool, CaseFilter(status="open", step="apologize")
    ),
    "list: first page, status": lambda pool: list_cases(pool, CaseFilter(status="open")),
    "period report, one month": lambda pool: period_report(pool, *PERIOD),
}
# The issue's bounds on the queries' p95, in milliseconds.
BOUNDS_MS = {"list: first page, status and step": 50.0, "period report, one month": 500.0}


async def fill_events(pool: asyncpg.Pool, total: int) -> dict[str, Any]:
    """Walked cases' events copied in until complaint_events holds `total`, then the read
    model (complaint_cases and answered_steps) rebuilt from all of them."""
    have: int = await pool.fetchval("SELECT count(*) FROM complaint_events")
    columns = ["case_id", "seq", "event_id", "type", "data", "occurred_at"]
    t = time.perf_counter()
    if total > have:
        async with loading(pool) as conn:
            await conn.copy_records_to_table(
                "complaint_events",
                records=rebuild_rows(total - have, HISTORY_STEP),
                columns=columns,
            )
    copied = time.perf_counter() - t
    t = time.perf_counter()
    cases = await rebuild_read_model(pool)
    rebuilt = time.perf_counter() - t
    async with loading(pool) as conn:  # the tables' owner analyzes them
        await conn.execute("ANALYZE complaint_events")
        await conn.execute("ANALYZE complaint_cases")
        await conn.execute("ANALYZE answered_steps")  # the rebuild filled it too
    events: int = await pool.fetchval("SELECT count(*) FROM complaint_events")
    return {
        "events": events,
        "cases": cases,
        "copy_seconds": copied,
        "rebuild_seconds": rebuilt,
    }


async def plans(url: str, query: Query) -> list[dict[str, Any]]:
    """Every statement the query runs, with its plan as EXPLAIN ANALYZE gives it."""
    statements: list[tuple[str, tuple[Any, ...]]] = []

    async def log(conn: Conn) -> None:
        conn.add_query_logger(lambda q: statements.append((q.query, tuple(q.args))))

    pool = await asyncpg.create_pool(url, min_size=1, max_size=1, init=log)
    try:
        await query(pool)
        # The query's own statements (the pool's session reset is logged too, and so are the
        # EXPLAINs below).
        ran = [
            (sql, args)
            for sql, args in statements
            if sql.lstrip().upper().startswith(("SELECT", "WITH")) and ";" not in sql.strip(" ;\n")
        ]
        out = []
        async with pool.acquire() as conn:
            for sql, args in ran:
                try:
                    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
                except asyncpg.PostgresError as err:
                    out.append({"sql": " ".join(sql.split()), "plan": str(err), "seq_scans": []})
                    continue
                plan = "\n".join(r[0] for r in rows)
                out.append(
                    {
                        "sql": " ".join(sql.split()),
                        "plan": plan,
                        "seq_scans": sorted(
                            {
                                line.split("Seq Scan on ", 1)[1].split()[0]
                                for line in plan.splitlines()
                                if "Seq Scan on " in line
                            }
                        ),
                    }
                )
        return out
    finally:
        await pool.close()


async def time_queries(pool: asyncpg.Pool, url: str, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, query in QUERIES.items():
        await query(pool)  # warm: the plan cached, the pages in memory
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            await query(pool)
            samples.append((time.perf_counter() - t) * 1000)
        explained = await plans(url, query)
        out[name] = {
            **percentiles(samples),
            "plans": explained,
            "events_seq_scanned": any("complaint_events" in p["seq_scans"] for p in explained),
        }
    return out


async def main() -> None:
    n = int(ENV("BENCH_SCALE_CASES", "100000"))
    total_events = int(ENV("BENCH_SCALE_EVENTS", "1000000"))
    walks = int(ENV("BENCH_SCALE_WALKS", "20"))
    runs = int(ENV("BENCH_SCALE_QUERIES", "50"))
    parts = set(ENV("BENCH_SCALE_PARTS", "open,fill,queries").split(","))
    run_dir = DATA / f"scale-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    run_dir.mkdir(parents=True)
    server_url = postgres.start_embedded(DATA)
    admin = await asyncpg.connect(server_url)
    db = f"scale_{uuid.uuid4().hex[:6]}"
    await admin.execute(f'CREATE DATABASE "{db}"')
    url = server_url.replace("/postgres?", f"/{db}?")
    port = temporal_server.free_port()
    server = temporal_server.start_dev_server(
        run_dir / "temporal.db", search_attributes.ALL, port=port, ui_port=None
    )
    key = new_key()
    env = {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "DATABASE_URL": url,
        "COMPLAINTS_LOG_FORMAT": "json",
        "COMPLAINTS_CODEC_KEYS": json.dumps({"bench": key}),
        "COMPLAINTS_CODEC_KEY_ID": "bench",
        "COMPLAINTS_TARGET_MODE": TARGET_MODE,
        "COMPLAINTS_METRICS_PORT": "0",
    }
    pool = await postgres.connect(url, scope=FIRST_SHOP)
    await migrations.migrate(pool)
    worker = spawn([sys.executable, "worker.py"], env)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cores": os.cpu_count(), "load_before": os.getloadavg()},
        "cases": n,
        "events": total_events,
        "parts": sorted(parts),
    }
    try:
        if "open" in parts:
            await open_cases(results, env, key, pool, (worker.pid, server.pid), n, walks)
        if "fill" in parts:
            print(f"filling complaint_events to {total_events} ...", flush=True)
            results["fill"] = await fill_events(pool, total_events)
        if "queries" in parts:
            print(f"timing the read model's queries ({runs} runs each) ...", flush=True)
            results["queries"] = await time_queries(pool, url, runs)
    finally:
        results["machine"]["load_after"] = os.getloadavg()
        await pool.close()
        for p in (worker, server):
            p.terminate()
        for p in (worker, server):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()  # a busy machine: the results below still get written
                p.wait()
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()
        RESULTS.mkdir(exist_ok=True)  # what was measured, even when a later part failed
        path = RESULTS / f"scale-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
        for target in (path, RESULTS / "scale-latest.json"):
            target.write_text(json.dumps(results, indent=2))
    print(report(results))
    print(f"\nwrote {path.relative_to(ROOT)} (the plans are in it)")


async def open_cases(
    results: dict[str, Any],
    env: dict[str, str],
    key: str,
    pool: asyncpg.Pool,
    pids: tuple[int, int],
    n: int,
    walks: int,
) -> None:
    """FEW cases opened (a tenth of a small run's) and `walks` walked; the rest opened, and
    as many walked again."""
    few_open = min(FEW, n // 10)  # below a quarter of n: its marks come after
    codec = EncryptionCodec(parse_keys({"bench": key}), "bench")
    client = await Client.connect(env["TEMPORAL_ADDRESS"], data_converter=data_converter(codec))
    await walk_ours(client, "warm")
    print(f"opening {few_open} cases, then walking {walks} ...", flush=True)
    await open_many(client, pool, few_open, *pids)
    few = await unloaded(client, walk_ours, walks)
    print(f"opening {n - few_open} more ...", flush=True)
    results["open"] = await open_many(client, pool, n, *pids, first=few_open)
    many = await unloaded(client, walk_ours, walks)
    results["action_p50_ms"] = {"few": few["p50"], "many": many["p50"], "few_open": few_open}
    results["action_p50_ratio"] = many["p50"] / few["p50"]


def report(results: dict[str, Any]) -> str:
    lines = _opening(results) if "open" in results else []
    fill = results.get("fill")
    if fill is not None:
        lines.append(
            f"complaint_events {fill['events']} rows, complaint_cases {fill['cases']} "
            f"(copied in {fill['copy_seconds']:.0f} s, rebuilt in {fill['rebuild_seconds']:.0f} s)"
        )
    for name, q in results.get("queries", {}).items():
        bound = BOUNDS_MS.get(name)
        verdict = (
            ""
            if bound is None
            else f"  target p95 <= {bound:.0f} ms {'met' if q['p95'] <= bound else 'MISSED'}"
        )
        scans = sorted({s for p in q["plans"] for s in p["seq_scans"]})
        lines.append(
            f"{name:<36} p50 {q['p50']:7.1f} ms  p95 {q['p95']:7.1f} ms{verdict}; "
            f"seq scans: {', '.join(scans) or 'none'}"
            + ("  (complaint_events: MISSED)" if q["events_seq_scanned"] else "")
        )
    load = results["machine"]
    lines.append(f"load average before {load['load_before']}, after {load['load_after']}")
    return "\n".join(lines)


def _opening(results: dict[str, Any]) -> list[str]:
    opened = results["open"]
    at = {m["open"]: m for m in opened["memory"]}
    marks = sorted(at)
    quarter, half = marks[1], marks[2]  # after the first FEW: 25 % and 50 % of the cases
    last = marks[-1]
    lines = [
        f"opened {opened['cases']} cases in {opened['seconds']:.0f} s "
        f"({opened['opened_per_s']:.1f}/s), each left on its timers",
    ]
    for m in opened["memory"]:
        lines.append(
            f"  {m['open']:>7} open: worker {m['worker_mb']:6.0f} MiB, "
            f"server {m['server_mb']:6.0f} MiB"
        )
    flat = at[last]["worker_mb"] / at[quarter]["worker_mb"]
    p50 = results["action_p50_ms"]
    lines += [
        f"worker RSS {last} open / {quarter} open: x{flat:.2f}  target <= 1.10"
        f"{' met' if flat <= 1.1 else ' MISSED'} (and / {half} open: "
        f"x{at[last]['worker_mb'] / at[half]['worker_mb']:.2f})",
        f"action p50 with {p50['few_open']} open {p50['few']:.1f} ms, with {last} open "
        f"{p50['many']:.1f} ms: x{results['action_p50_ratio']:.2f}  target <= 1.20"
        f"{' met' if results['action_p50_ratio'] <= 1.2 else ' MISSED'}",
    ]
    return lines


if __name__ == "__main__":
    asyncio.run(main())

"""`make bench`: the service against a bare Temporal baseline, in the same run on the same
server, so ratios hold on a noisy machine. Prints a table and writes bench-results/*.json.

The `codec` part walks our workflow unloaded with the payload codec on and off (a second
worker of ours without it, bench/plain_worker.py), case by case in turn: the codec's cost
per staff action.

The service runs as production does: payload codec on, business-time targets
(COMPLAINTS_TARGET_MODE=business); the events the appends and rebuild parts write carry the
same business calendar.

The `pages` part (bench/pages.py) times the staff inbox and a case page with
BENCH_PAGES_CASES (100000) cases in the read model, against GET /cases and GET /cases/{id}.
The `cli` part times the CLI's start as whole commands beside `python -c pass` and
`temporal workflow describe` (bench/cli_start.py), once per run, before the repeats.

Environment: BENCH_PARTS (cli,unloaded,codec,loaded,appends,rebuild,growth,pages; `scale` is
the old name of growth), BENCH_PAGES_REQUESTS (200), BENCH_CLI_RUNS (15), BENCH_REPEAT (3),
BENCH_CONCURRENCY (200),
BENCH_LOAD_CASES (400), BENCH_UNLOADED_CASES (20), BENCH_OPEN_CASES (10000),
BENCH_REBUILD_EVENTS (100000), BENCH_REBUILD_BIG (ten times that: the linearity run).
BENCH_QUICK=1: the same parts small (under 3 minutes), and the exit status is 1 when a ratio
is more than 20 % short of its target (below 0.8 of a ">=" target, above 1/0.8 of a "<="
one): the regression check.
"""

import asyncio
import functools
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.workflow import UpdateMethodMultiParam

from app.context import Context
from bench.baseline import KEPT_QUEUE, BaselineWorkflow
from bench.baseline import TASK_QUEUE as BASELINE_QUEUE
from bench.cli_start import cli_start
from bench.cli_start import report as cli_report
from bench.fairness import fairness
from bench.loading import loading
from bench.pages import pages as pages_part
from domain.commands import (
    AnalyzeCause,
    Apologize,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    OpenCase,
    RecordCustomerResponse,
    ShowPrevention,
)
from domain.decider import decide, evolve, fold
from domain.events import RecordedEvent
from domain.model import Fault, IntakeChannel, Motive, RemedyKind, ResponseTargets
from domain.summary import CaseSummary
from infra import postgres, temporal_server
from infra.codec import EncryptionCodec
from infra.converter import DATA_CONVERTER, data_converter
from infra.keys import new_key, parse_keys
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from infra.shop_ids import workflow_id as shop_workflow_id
from store import migrations
from store.events import EventStore
from store.read_model import rebuild_read_model
from workflows import search_attributes
from workflows.complaint import ComplaintWorkflow as WF

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench"
RESULTS = ROOT / "bench-results"
ENV = os.environ.get
PLAIN_QUEUE = "complaints-plain"  # our worker without the codec (the `codec` part)
QUICK = ENV("BENCH_QUICK", "") not in ("", "0")
# The rulebook of the benchmark's worker: business time over the shop's calendar, unless
# BENCH_TARGET_MODE=wall (to see what the calendar costs).
TARGET_MODE = ENV("BENCH_TARGET_MODE", "business")
RULEBOOK = Settings(target_mode=TARGET_MODE)
# Temporalio's default workflow cache (max_cached_workflows): below it, a worker's memory
# grows with every open case by design, so flatness is only judged past it.
WORKFLOW_CACHE = 1000


# The results of a run as bench-results/*.json holds them (parts, summary, targets).
Results = dict[str, Any]


def knob(name: str, default: int, quick: int | None = None) -> int:
    return int(ENV(name, quick if QUICK and quick is not None else default))


# Each staff action's Update and its command, in the order a case walks them.
Update = UpdateMethodMultiParam[[WF, Any], CaseSummary]
STEPS: list[tuple[Update, Any]] = [
    (WF.apologize, Apologize(what="Sorry the order was wrong")),
    (WF.empathize, Empathize(customer_words="I waited an hour")),
    (WF.analyze_cause, AnalyzeCause(cause="Ticket misread", fault=Fault.OURS)),
    (
        WF.offer_resolution,
        OfferResolution(options=[OfferedRemedy(kind=RemedyKind.FREE_REDO)], plan="Redo now"),
    ),
    (WF.record_customer_response, RecordCustomerResponse(choice=RemedyKind.FREE_REDO)),
    (WF.show_prevention, ShowPrevention(measure="Tickets read back")),
]


def case_workflow(case_id: str) -> str:
    """The benchmark's cases are the first shop's (a single-shop deployment's)."""
    return shop_workflow_id(FIRST_SHOP, case_id)


def open_command(case_id: str, targets: ResponseTargets | None = None) -> OpenCase:
    """`targets` for events decided here; a workflow takes its own from the worker."""
    return OpenCase(
        case_id=case_id,
        customer_id="cus-bench-customer",  # as production opens: a reference
        channel=IntakeChannel.PHONE,
        motive=Motive.COMPENSATION,
        summary="benchmark case",
        targets=targets if targets is not None else ResponseTargets(),
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "n": len(ordered)}


# -- walks ------------------------------------------------------------------------------
async def walk_ours(
    client: Client, tag: str, task_queue: str = "complaints", case_id: str | None = None
) -> list[float]:
    case_id = case_id or f"b{tag}{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        WF.run,
        open_command(case_id),
        id=case_workflow(case_id),
        task_queue=task_queue,
    )
    rtts = []
    for update, command in STEPS:
        t = time.perf_counter()
        await handle.execute_update(update, command)
        rtts.append((time.perf_counter() - t) * 1000)
    return rtts


async def walk_baseline(
    client: Client,
    tag: str,
    search_attributes: bool = False,
    timers: bool = False,
    kept: bool = False,
    workflow_id: str | None = None,
) -> list[float]:
    handle = await client.start_workflow(
        BaselineWorkflow.run,
        args=[len(STEPS), search_attributes, timers, kept],
        id=workflow_id or f"baseline-{tag}{uuid.uuid4().hex[:8]}",
        task_queue=KEPT_QUEUE if kept else BASELINE_QUEUE,
    )
    rtts = []
    for update, _ in STEPS:
        t = time.perf_counter()
        # The SDK's Protocol for an update method leaves out the function's own __name__.
        name: str = update.__name__  # type: ignore[attr-defined]
        await handle.execute_update(BaselineWorkflow.step, name)
        rtts.append((time.perf_counter() - t) * 1000)
    return rtts


async def walk_baseline_indexed(client: Client, tag: str) -> list[float]:
    """The baseline that also upserts a search attribute per Update (a reference)."""
    return await walk_baseline(client, tag, search_attributes=True)


async def walk_baseline_clocked(client: Client, tag: str) -> list[float]:
    """The indexed baseline with a response timer per step as well (a reference)."""
    return await walk_baseline(client, tag, search_attributes=True, timers=True)


async def walk_baseline_kept(client: Client, tag: str) -> list[float]:
    """The floor, each action recorded in PostgreSQL and its payloads sealed (a reference:
    what the brief asks of every case beyond the method; the client must seal too)."""
    return await walk_baseline(client, tag, search_attributes=True, timers=True, kept=True)


Walk = Callable[[Client, str], Awaitable[list[float]]]


async def unloaded(client: Client, walk: Walk, cases: int) -> dict[str, float]:
    rtts: list[float] = []
    for i in range(cases):
        rtts += await walk(client, f"u{i}")
    return percentiles(rtts)


async def codec_cost(sealed: Client, plain: Client, cases: int) -> dict[str, float]:
    """Our unloaded walk with the codec (client and worker) and without, one case each in
    turn, the first of the pair alternating: both see the same server and neighbours."""
    on: list[float] = []
    off: list[float] = []
    for i in range(cases):
        sides = [(on, sealed, "complaints"), (off, plain, PLAIN_QUEUE)]
        for samples, client, queue in sides if i % 2 == 0 else sides[::-1]:
            samples += await walk_ours(client, f"c{i}", queue)
    p_on, p_off = percentiles(on), percentiles(off)
    return {
        "p50_on": p_on["p50"],
        "p50_off": p_off["p50"],
        "p95_on": p_on["p95"],
        "p95_off": p_off["p95"],
        "ratio": p_on["p50"] / p_off["p50"],
        "n": p_on["n"],
    }


async def seal_open_us(codec: EncryptionCodec, rounds: int = 2000) -> dict[str, float]:
    """CPU floor: encrypting and decrypting one Update's payloads (the command in, the whole
    case out), in this process, in microseconds."""
    state = fold(e.event for e in case_events("codec00000", datetime(2030, 1, 1, tzinfo=UTC)))
    payloads = DATA_CONVERTER.payload_converter.to_payloads([STEPS[0][1], state])
    t = time.perf_counter()
    for _ in range(rounds):
        await codec.decode(await codec.encode(payloads))
    return {
        "seal_open_us": (time.perf_counter() - t) / rounds * 1e6,
        "payload_bytes": sum(p.ByteSize() for p in payloads),
    }


def cpu_ms(pid: int) -> float:
    """A process's own CPU time so far (user + system), as the kernel accounts it: what its
    work cost, whatever else ran on the machine meanwhile."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system) * 1000


async def loaded(
    client: Client,
    walk: Walk,
    cases: int,
    concurrency: int,
    pids: Mapping[str, int] | None = None,
) -> dict[str, float]:
    """`cases` walked with `concurrency` in flight; with `pids` (e.g. the worker serving the
    walk, the server), each process's CPU milliseconds per case walked as well."""
    gate = asyncio.Semaphore(concurrency)
    rtts: list[float] = []
    pids = pids or {}

    async def one(i: int) -> None:
        async with gate:
            rtts.extend(await walk(client, f"l{i}"))

    before = {name: cpu_ms(pid) for name, pid in pids.items()}
    t = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(cases)))
    elapsed = time.perf_counter() - t
    cpu = {
        f"{name}_cpu_ms_per_case": (cpu_ms(pid) - before[name]) / cases
        for name, pid in pids.items()
    }
    return {"cases_per_s": cases / elapsed, **percentiles(rtts), **cpu}


# What a walked case's history holds, by kind: what the server was asked to do for it.
SHAPE = {
    "workflow tasks": "WORKFLOW_TASK_COMPLETED",
    "activities": "ACTIVITY_TASK_SCHEDULED",
    "local activities and patches": "MARKER_RECORDED",
    "timers": "TIMER_STARTED",
    "upserts": "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
}


async def history_shape(client: Client, workflow_id: str) -> dict[str, int]:
    """One walked case's history counted: its events, each kind in SHAPE, and its bytes. A
    structural figure: unlike CPU time, it does not move with the machine's load."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    kinds = [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events]
    return {
        "events": len(kinds),
        **{name: kinds.count(kind) for name, kind in SHAPE.items()},
        "bytes": sum(e.ByteSize() for e in history.events),
    }


async def shapes(client: Client, bare: Client, kept: bool) -> dict[str, dict[str, int]]:
    """The history of one case walked by ours, by the floor and (when its worker runs) by
    the floor that stores and seals, side by side."""
    case_id = f"shape{uuid.uuid4().hex[:8]}"
    await walk_ours(client, "shape", case_id=case_id)
    out = {
        "ours": await history_shape(client, case_workflow(case_id)),
        "floor": await _floor_shape(bare, kept=False),
    }
    if kept:  # it seals, so it is walked through the sealing client
        out["floor+store+seal"] = await _floor_shape(client, kept=True)
    return out


async def _floor_shape(client: Client, kept: bool) -> dict[str, int]:
    workflow_id = f"baseline-shape{uuid.uuid4().hex[:8]}"
    await walk_baseline(
        client, "shape", search_attributes=True, timers=True, kept=kept, workflow_id=workflow_id
    )
    return await history_shape(client, workflow_id)


def shape_lines(shape: dict[str, dict[str, int]]) -> list[str]:
    names = list(shape)
    lines = [f"history of one case walked ({' / '.join(names)}):"]
    for figure in shape[names[0]]:
        lines.append(f"  {figure:<30} " + " / ".join(str(shape[n][figure]) for n in names))
    return lines


# -- event store --------------------------------------------------------------------------
def case_events(case_id: str, start: datetime) -> list[RecordedEvent]:
    """One case walked to the end, with the targets the benchmark's worker gives cases."""
    state = None
    out: list[RecordedEvent] = []
    targets = RULEBOOK.targets_for(Motive.COMPENSATION)
    commands = [open_command(case_id, targets), *(c for _, c in STEPS)]
    for i, command in enumerate(commands):
        for event in decide(command, state, start + timedelta(minutes=i)):
            state = evolve(state, event)
            out.append(
                RecordedEvent(event_id=uuid.uuid4(), case_id=case_id, seq=len(out) + 1, event=event)
            )
    return out


async def appends(pool: asyncpg.Pool, cases: int = 300) -> dict[str, float]:
    """Appends one event per call, as the workflow does, against single-row INSERTs of the
    same rows. `raw_inserts_per_s` commits each into a table like complaint_events, as
    durable as an append must be (a WAL flush per commit): the fair floor. The same into a
    TEMP table (no WAL, nothing flushed) is `raw_temp_inserts_per_s` and `ratio_temp`: not a
    fair floor, kept so results stay comparable with older ones, which used it."""
    store = EventStore(pool)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    walks = [case_events(f"a{uuid.uuid4().hex[:10]}", start) for _ in range(cases)]
    events = [e for w in walks for e in w]
    t = time.perf_counter()
    for e in events:  # one event per transaction, as the workflow appends them
        await store.append(e.case_id, [e])
    ours = len(events) / (time.perf_counter() - t)
    raw: dict[str, float] = {}
    async with loading(pool) as conn:  # the owner's: the floor has no shops to keep apart
        for kind in ("TEMP", ""):
            await conn.execute("DROP TABLE IF EXISTS raw_events")
            await conn.execute(
                f"CREATE {kind} TABLE raw_events (LIKE complaint_events INCLUDING ALL)"
            )
            t = time.perf_counter()
            for e in events:
                await conn.execute(
                    "INSERT INTO raw_events (case_id, seq, event_id, type, data, occurred_at) "
                    "VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
                    e.case_id,
                    e.seq,
                    e.event_id,
                    e.event.type,
                    e.event.model_dump_json(),
                    e.event.at,
                )
            raw[kind or "durable"] = len(events) / (time.perf_counter() - t)
            await conn.execute("DROP TABLE raw_events")  # pooled connections keep state
    return {
        "ours_events_per_s": ours,
        "raw_inserts_per_s": raw["durable"],
        "ratio": ours / raw["durable"],
        "raw_temp_inserts_per_s": raw["TEMP"],
        "ratio_temp": ours / raw["TEMP"],
    }


# Distinct walks the rebuild's cases copy, each opened at another time of day and week, and
# each copy shifted by its own minutes: no two cases share a time, as with real cases, so a
# fold counts every case's due times afresh instead of finding another case's.
TEMPLATES = 1000
# One event of a template walk: seq, type, JSON data, time, the instants in the data.
TemplateRow = tuple[int, str, str, datetime, list[str]]
_STAMP = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)"')


@functools.cache
def _templates() -> list[list[TemplateRow]]:
    first = datetime(2030, 1, 1, tzinfo=UTC)
    walks: list[list[TemplateRow]] = []
    for n in range(TEMPLATES):
        walk: list[TemplateRow] = []
        for e in case_events("tmpl000000", first + n * timedelta(minutes=97, seconds=13)):
            data = e.event.model_dump_json()
            walk.append((e.seq, e.event.type, data, e.event.at, sorted(set(_STAMP.findall(data)))))
        walks.append(walk)
    return walks


def rebuild_rows(total: int, every: timedelta = timedelta(minutes=3)) -> Iterator[tuple[Any, ...]]:
    """`total` events of walked cases: case n copies template walk n % TEMPLATES, its
    instants moved `every` later for every earlier copy of that walk."""
    templates = _templates()
    made = 0
    for n in itertools.count():
        case_id = f"r{n:09d}"
        shift = (n // TEMPLATES) * every
        for seq, kind, data, at, stamps in templates[n % TEMPLATES]:
            if made == total:
                return
            data = data.replace("tmpl000000", case_id)
            for stamp in stamps if shift else ():
                moved = datetime.fromisoformat(stamp) + shift
                data = data.replace(stamp, moved.isoformat().replace("+00:00", "Z"))
            yield (case_id, seq, uuid.uuid4(), kind, data, at + shift)
            made += 1


async def rebuild(url: str, total: int, measure_copy: bool = True) -> dict[str, float]:
    """Raw COPY of `total` events (from rows made beforehand, so it times the COPY alone),
    then the rebuild of the read model from them. Without `measure_copy` the rows are made
    while they are copied, so a big run needs no memory for them."""
    admin = await asyncpg.connect(url)
    name = f"bench_rebuild_{uuid.uuid4().hex[:6]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    pool = await postgres.connect(
        url.replace("/postgres?", f"/{name}?"), max_size=2, scope=FIRST_SHOP
    )
    await migrations.migrate(pool)
    try:
        rows: Iterable[tuple[Any, ...]] = (
            list(rebuild_rows(total)) if measure_copy else rebuild_rows(total)
        )
        columns = ["case_id", "seq", "event_id", "type", "data", "occurred_at"]
        async with loading(pool) as conn:
            t = time.perf_counter()
            await conn.copy_records_to_table("complaint_events", records=rows, columns=columns)
            copy_rate = total / (time.perf_counter() - t)
        t = time.perf_counter()
        cases = await rebuild_read_model(pool)
        seconds = time.perf_counter() - t
    finally:
        await pool.close()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
    out = {"events": total, "cases": cases, "rebuild_events_per_s": total / seconds}
    out["seconds"] = seconds
    if measure_copy:
        out |= {"copy_rows_per_s": copy_rate, "ratio": (total / seconds) / copy_rate}
    return out


# -- scale --------------------------------------------------------------------------------
def rss_mb(pid: int) -> float:
    rss: int = psutil.Process(pid).memory_info().rss
    return rss / 2**20


async def open_many(
    client: Client, pool: asyncpg.Pool, n: int, worker: int, server: int, first: int = 0
) -> dict[str, Any]:
    """Opens cases `first`..`n` (the ones before are open already), each left on its
    timers; worker and server memory at every quarter of `n` reached on the way."""
    tag = uuid.uuid4().hex[:4]
    gate = asyncio.Semaphore(64)
    marks = sorted(m for m in {round(n * f) for f in (0.25, 0.5, 0.75, 1.0)} if m > first)
    memory: list[dict[str, float]] = [
        {"open": first, "worker_mb": rss_mb(worker), "server_mb": rss_mb(server)}
    ]

    async def start(i: int) -> None:
        async with gate:
            case_id = f"s{tag}{i:06d}"
            await client.start_workflow(
                WF.run,
                open_command(case_id),
                id=case_workflow(case_id),
                task_queue="complaints",
            )

    async def stored() -> int:
        count: int = await pool.fetchval(
            "SELECT count(*) FROM complaint_cases WHERE case_id LIKE $1", f"s{tag}%"
        )
        return count

    t = time.perf_counter()
    started = first
    for mark in marks:
        await asyncio.gather(*(start(i) for i in range(started, mark)))
        started = mark
        while first + await stored() < mark:
            await asyncio.sleep(0.2)
        memory.append({"open": mark, "worker_mb": rss_mb(worker), "server_mb": rss_mb(server)})
    elapsed = time.perf_counter() - t
    at = {m["open"]: m["worker_mb"] for m in memory}
    return {
        "cases": n - first,
        "seconds": elapsed,
        "opened_per_s": (n - first) / elapsed,
        "memory": memory,
        "worker_growth_second_half": at[n] / at[round(n * 0.5)],
        "worker_growth_last_three_quarters": at[n] / at[round(n * 0.25)],
    }


async def growth(
    client: Client, bare: Client, pool: asyncpg.Pool, n: int, walks: int, pids: tuple[int, int]
) -> dict[str, Any]:
    """Our unloaded action p50 with n/100 cases open, then with n (the baseline's too, in
    the same moments, for the machine's drift), and the worker's memory on the way."""
    few = max(1, n // 100)
    await open_many(client, pool, few, *pids)
    p50 = {
        "ours_few": (await unloaded(client, walk_ours, walks))["p50"],
        "baseline_few": (await unloaded(bare, walk_baseline, walks))["p50"],
    }
    scale = await open_many(client, pool, n, *pids, first=few)
    p50 |= {
        "ours_many": (await unloaded(client, walk_ours, walks))["p50"],
        "baseline_many": (await unloaded(bare, walk_baseline, walks))["p50"],
    }
    return {
        "open_few": few,
        "open_many": n,
        "p50_ms": p50,
        "ratio": p50["ours_many"] / p50["ours_few"],
        "ratio_against_baseline": (p50["ours_many"] / p50["baseline_many"])
        / (p50["ours_few"] / p50["baseline_few"]),
        "worker_rss_ratio": scale["worker_growth_last_three_quarters"],
        "scale": scale,
    }


# -- the run ------------------------------------------------------------------------------
async def _part(name: str, measuring: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """A part that is the last of a long run: when it fails, it says so, and the figures
    the run measured before it are still written."""
    try:
        return await measuring
    except Exception as err:  # any failure: reported, the rest kept
        print(f"{name}: failed ({type(err).__name__}: {err}); the other parts are kept")
        return {"error": f"{type(err).__name__}: {err}"}


def spawn(args: list[str], env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    """A worker (or server) process of the run; its output to `log` when given (what
    `watch` shows of a process that died)."""
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(args, env=os.environ | env, cwd=ROOT, stdout=out, stderr=out)
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]  # the child holds its own copy


async def watch(
    processes: dict[str, tuple[subprocess.Popen[bytes], Path]], main: asyncio.Task[Any] | None
) -> None:
    """Until one of the run's processes exits: then the benchmark stops (cancelling `main`),
    saying which one and the end of its output, instead of waiting forever for cases nobody
    works on."""
    while True:
        for name, (process, log) in processes.items():
            if process.poll() is not None:
                kept = log.read_text(errors="replace") if log.exists() else "(no output kept)"
                tail = kept.strip().splitlines()[-15:]
                print(f"\n{name} exited with {process.returncode}; its last lines ({log}):")
                print("\n".join(f"  {line}" for line in tail), flush=True)
                if main is not None:
                    main.cancel(f"{name} exited")
                return
        await asyncio.sleep(1)


async def main() -> None:
    default_parts = "cli,unloaded,codec,loaded,appends,rebuild,growth,pages,fairness"
    parts = set(ENV("BENCH_PARTS", default_parts).split(","))
    if "scale" in parts:  # its old name
        parts.add("growth")
    # BENCH_QUICK: every part, small (the second figure of each knob), in under 3 minutes.
    repeat, concurrency = knob("BENCH_REPEAT", 3, 1), knob("BENCH_CONCURRENCY", 200, 50)
    load_cases = knob("BENCH_LOAD_CASES", 400, 60)
    unloaded_cases = knob("BENCH_UNLOADED_CASES", 20, 5)
    open_cases = knob("BENCH_OPEN_CASES", 10_000, 600)
    rebuild_events = knob("BENCH_REBUILD_EVENTS", 100_000, 20_000)
    rebuild_big = knob("BENCH_REBUILD_BIG", 10 * rebuild_events)
    append_cases = knob("BENCH_APPEND_CASES", 300, 60)
    page_cases = knob("BENCH_PAGES_CASES", 100_000, 10_000)
    page_requests = knob("BENCH_PAGES_REQUESTS", 200, 40)
    cli_runs = knob("BENCH_CLI_RUNS", 15, 5)
    fair_seconds = knob("BENCH_FAIRNESS_SECONDS", 30, 8)
    fair_rate = knob("BENCH_FAIRNESS_RATE", 50, 10)
    fair_shops = knob("BENCH_FAIRNESS_SHOPS", 20, 5)
    run_dir = DATA / f"run-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    run_dir.mkdir(parents=True)
    server_url = postgres.start_embedded(DATA)
    admin = await asyncpg.connect(server_url)
    db = f"bench_{uuid.uuid4().hex[:6]}"
    await admin.execute(f'CREATE DATABASE "{db}"')
    url = server_url.replace("/postgres?", f"/{db}?")
    port = temporal_server.free_port()
    server = temporal_server.start_dev_server(
        run_dir / "temporal.db",
        search_attributes.ALL,
        port=port,
        ui_port=None,
        log_file=run_dir / "temporal.log",
    )
    address = f"127.0.0.1:{port}"
    key = new_key()  # the service runs with its payload codec on, as in production
    env = {
        "TEMPORAL_ADDRESS": address,
        "DATABASE_URL": url,
        "COMPLAINTS_LOG_FORMAT": "json",
        "COMPLAINTS_CODEC_KEYS": json.dumps({"bench": key}),
        "COMPLAINTS_CODEC_KEY_ID": "bench",
        "COMPLAINTS_SHOP_KEYS": str(run_dir / "shop-keys"),  # the fairness part's shops
        "COMPLAINTS_TARGET_MODE": TARGET_MODE,  # business: the calendar on, as shops run it
        # Metrics on, as in production, on a port of its own (not a `make run`'s 9464).
        "COMPLAINTS_METRICS_PORT": str(temporal_server.free_port()),
    }
    pool = await postgres.connect(url, scope=FIRST_SHOP)
    await migrations.migrate(pool)  # before the workers start: none waits on the other's
    logs = {
        name: run_dir / f"{name}.log"
        for name in ("worker", "baseline", "baseline_kept", "plain_worker")
    }
    ours = spawn([sys.executable, "worker.py"], env, logs["worker"])
    base = spawn([sys.executable, "-m", "bench.baseline"], env, logs["baseline"])
    workers = [ours, base]
    watched = {"worker": (ours, logs["worker"]), "baseline": (base, logs["baseline"])}
    kept = None
    if "loaded" in parts:  # the floor that records and seals, in a process of its own
        kept = spawn([sys.executable, "-m", "bench.baseline", "--kept"], env, logs["baseline_kept"])
        workers.append(kept)
        watched["baseline_kept"] = (kept, logs["baseline_kept"])
    if "codec" in parts:  # ours again, without the codec: no keys, its own task queue
        plain_env = {k: v for k, v in env.items() if not k.startswith("COMPLAINTS_CODEC")}
        plain_env["COMPLAINTS_TASK_QUEUE"] = PLAIN_QUEUE
        plain = spawn([sys.executable, "-m", "bench.plain_worker"], plain_env, logs["plain_worker"])
        workers.append(plain)
        watched["plain_worker"] = (plain, logs["plain_worker"])
    watched["Temporal dev server"] = (server, run_dir / "temporal.log")
    watcher = asyncio.create_task(watch(watched, asyncio.current_task()))
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_before": os.getloadavg(),  # other work on the machine, 1/5/15 min
        },
        "quick": QUICK,
        "target_mode": TARGET_MODE,
        "runs": [],
    }
    try:
        codec = EncryptionCodec(parse_keys({"bench": key}), "bench", run_dir / "shop-keys")
        client = await Client.connect(address, data_converter=data_converter(codec))
        bare = await Client.connect(address, data_converter=DATA_CONVERTER)  # no codec
        await walk_ours(client, "warm")
        await walk_baseline(bare, "warm")
        if kept is not None:
            await walk_baseline_kept(client, "warm")
        if "codec" in parts:
            await walk_ours(bare, "warm", PLAIN_QUEUE)
            results["codec"] = await seal_open_us(codec)
        if "loaded" in parts:
            results["history"] = await shapes(client, bare, kept is not None)
        if "cli" in parts:
            print(f"timing the CLI's start ({cli_runs} runs of each command) ...", flush=True)
            results["cli"] = await asyncio.to_thread(cli_start, env, cli_runs)
        for r in range(repeat):
            print(f"run {r + 1}/{repeat} ...", flush=True)
            run: dict[str, Any] = {}
            if "unloaded" in parts:
                run["unloaded"] = {
                    "ours": await unloaded(client, walk_ours, unloaded_cases),
                    "baseline": await unloaded(bare, walk_baseline, unloaded_cases),
                }
            if "codec" in parts:
                run["codec"] = await codec_cost(client, bare, unloaded_cases)
            if "loaded" in parts:
                # Bare plus one search-attribute upsert per Update (where the rest of the gap
                # to bare lies), and that with a timer per step (what the method itself asks
                # of the server): references, not targets (README). Each repeat starts with
                # another walk: the machine drifts within a run, and no walk should always
                # run first.
                # Each walk's worker and the server: their own CPU per case walked (issue
                # 30: ours against the floor's worker, which the machine's noise barely moves).
                walks: list[tuple[str, Client, Walk, int]] = [
                    ("ours", client, walk_ours, ours.pid),
                    ("baseline", bare, walk_baseline, base.pid),
                    ("baseline_indexed", bare, walk_baseline_indexed, base.pid),
                    ("baseline_clocked", bare, walk_baseline_clocked, base.pid),
                ]
                if kept is not None:
                    walks.append(("baseline_kept", client, walk_baseline_kept, kept.pid))
                turn = r % len(walks)
                run["loaded"] = {
                    name: await loaded(
                        c, walk, load_cases, concurrency, {"worker": pid, "server": server.pid}
                    )
                    for name, c, walk, pid in walks[turn:] + walks[:turn]
                }
            if "appends" in parts:
                run["appends"] = await appends(pool, append_cases)
            if "rebuild" in parts:
                run["rebuild"] = await rebuild(server_url, rebuild_events)
            results["runs"].append(run)
        if "rebuild" in parts:
            print(f"rebuilding from {rebuild_big} events ...", flush=True)
            results["rebuild_big"] = await rebuild(server_url, rebuild_big, measure_copy=False)
        if "growth" in parts:
            print(f"opening {open_cases} cases ...", flush=True)
            results["growth"] = await growth(
                client, bare, pool, open_cases, unloaded_cases, (ours.pid, server.pid)
            )
            results["scale"] = results["growth"]["scale"]  # older results' readers look here
        if "pages" in parts:  # last: its rows stay in the read model
            print(f"pages over {page_cases} cases ...", flush=True)
            shop = Settings(database_url=url, target_mode=TARGET_MODE)
            results["pages"] = await _part(
                "pages",
                pages_part(Context(shop, client=client, pool=pool), page_cases, page_requests),
            )
        if "fairness" in parts:  # after the rest: its cases stay open on their timers
            print(f"fairness: 1 shop at {fair_rate}/s beside {fair_shops} at 1/s ...", flush=True)
            results["fairness"] = await _part(
                "fairness",
                fairness(
                    Context(
                        Settings(database_url=url, target_mode=TARGET_MODE),
                        client=client,
                        pool=pool,
                    ),
                    run_dir / "shop-keys",
                    quiet_shops=fair_shops,
                    noisy_rate=fair_rate,
                    seconds=fair_seconds,
                ),
            )
    except asyncio.CancelledError:
        if not watcher.done():
            raise  # Ctrl-C, not a process that died
        raise SystemExit("bench: a process of the run exited (above); the run stopped") from None
    finally:
        watcher.cancel()
        results["machine"]["load_after"] = os.getloadavg()
        await pool.close()
        for p in (*workers, server):
            p.terminate()
        for p in (*workers, server):
            p.wait(timeout=30)
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()
    results["summary"] = summarize(results["runs"])
    results["targets"] = targets(results)
    if "codec" in parts:
        on_runs = [r["codec"] for r in results["runs"]]
        results["codec"] |= {
            k: statistics.median(r[k] for r in on_runs) for k in on_runs[0] if k != "n"
        } | {"runs": len(on_runs), "n_per_run": on_runs[0]["n"]}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"bench-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2))
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(report(results))
    print(f"\nwrote {path.relative_to(ROOT)}")
    if QUICK:
        short = [t for t in results["targets"] if t["regressed"]]
        for t in short:
            print(f"REGRESSION: {t['figure']} {t['ratio']:.2f}, target {t['target']}")
        if short:
            sys.exit(1)


FIGURES: list[tuple[str, Callable[[Results], float], str, Callable[[float], bool] | None]] = [
    ("throughput ours, cases/s", lambda r: r["loaded"]["ours"]["cases_per_s"], "", None),
    ("throughput baseline, cases/s", lambda r: r["loaded"]["baseline"]["cases_per_s"], "", None),
    (
        "throughput ours / baseline",
        lambda r: r["loaded"]["ours"]["cases_per_s"] / r["loaded"]["baseline"]["cases_per_s"],
        ">= 0.90",
        lambda v: v >= 0.9,
    ),
    (
        "throughput bare + search attrs, cases/s",
        lambda r: r["loaded"]["baseline_indexed"]["cases_per_s"],
        "",
        None,
    ),
    (
        "throughput ours / bare + search attrs",
        lambda r: (
            r["loaded"]["ours"]["cases_per_s"] / r["loaded"]["baseline_indexed"]["cases_per_s"]
        ),
        "",
        None,
    ),
    (
        "throughput bare + attrs + timers, cases/s",
        lambda r: r["loaded"]["baseline_clocked"]["cases_per_s"],
        "",
        None,
    ),
    (
        "throughput ours / bare + attrs + timers",
        lambda r: (
            r["loaded"]["ours"]["cases_per_s"] / r["loaded"]["baseline_clocked"]["cases_per_s"]
        ),
        "",
        None,
    ),
    (
        "worker CPU ms per case walked, ours",
        lambda r: r["loaded"]["ours"]["worker_cpu_ms_per_case"],
        "",
        None,
    ),
    (
        "worker CPU ms per case walked, floor",
        lambda r: r["loaded"]["baseline_clocked"]["worker_cpu_ms_per_case"],
        "",
        None,
    ),
    (
        "worker CPU per case ours / floor",
        lambda r: (
            r["loaded"]["ours"]["worker_cpu_ms_per_case"]
            / r["loaded"]["baseline_clocked"]["worker_cpu_ms_per_case"]
        ),
        "<= 1.20",
        lambda v: v <= 1.2,
    ),
    (
        "worker CPU ms per case, floor+store+seal",
        lambda r: r["loaded"]["baseline_kept"]["worker_cpu_ms_per_case"],
        "",
        None,
    ),
    (
        "worker CPU ours / floor+store+seal",
        lambda r: (
            r["loaded"]["ours"]["worker_cpu_ms_per_case"]
            / r["loaded"]["baseline_kept"]["worker_cpu_ms_per_case"]
        ),
        "",
        None,
    ),
    (
        "throughput ours / floor+store+seal",
        lambda r: r["loaded"]["ours"]["cases_per_s"] / r["loaded"]["baseline_kept"]["cases_per_s"],
        "",
        None,
    ),
    (
        "server CPU per case ours / floor",
        lambda r: (
            r["loaded"]["ours"]["server_cpu_ms_per_case"]
            / r["loaded"]["baseline_clocked"]["server_cpu_ms_per_case"]
        ),
        "",
        None,
    ),
    ("unloaded action p50 ms, ours", lambda r: r["unloaded"]["ours"]["p50"], "", None),
    ("unloaded action p50 ms, baseline", lambda r: r["unloaded"]["baseline"]["p50"], "", None),
    (
        "unloaded p50 ours / baseline",
        lambda r: r["unloaded"]["ours"]["p50"] / r["unloaded"]["baseline"]["p50"],
        "<= 1.10",
        lambda v: v <= 1.1,
    ),
    ("unloaded p95 / p99 ms, ours", lambda r: r["unloaded"]["ours"]["p95"], "", None),
    ("unloaded p95 ms, baseline", lambda r: r["unloaded"]["baseline"]["p95"], "", None),
    (
        "unloaded p95 ours / baseline",
        lambda r: r["unloaded"]["ours"]["p95"] / r["unloaded"]["baseline"]["p95"],
        "<= 1.30",
        lambda v: v <= 1.3,
    ),
    ("codec on, unloaded p50 ms", lambda r: r["codec"]["p50_on"], "", None),
    ("codec off, unloaded p50 ms", lambda r: r["codec"]["p50_off"], "", None),
    ("codec on / off p50", lambda r: r["codec"]["ratio"], "", None),
    ("codec on, unloaded p95 ms", lambda r: r["codec"]["p95_on"], "", None),
    ("codec off, unloaded p95 ms", lambda r: r["codec"]["p95_off"], "", None),
    ("loaded action p50 ms, ours", lambda r: r["loaded"]["ours"]["p50"], "", None),
    ("loaded action p95 ms, ours", lambda r: r["loaded"]["ours"]["p95"], "", None),
    ("loaded action p99 ms, ours", lambda r: r["loaded"]["ours"]["p99"], "", None),
    ("loaded action p50 ms, baseline", lambda r: r["loaded"]["baseline"]["p50"], "", None),
    ("loaded action p99 ms, baseline", lambda r: r["loaded"]["baseline"]["p99"], "", None),
    ("appends/s via EventStore", lambda r: r["appends"]["ours_events_per_s"], "", None),
    ("raw single-row inserts/s", lambda r: r["appends"]["raw_inserts_per_s"], "", None),
    (
        "append ours / raw insert",
        lambda r: r["appends"]["ratio"],
        ">= 0.30",
        lambda v: v >= 0.3,
    ),
    ("raw inserts/s, TEMP table", lambda r: r["appends"]["raw_temp_inserts_per_s"], "", None),
    ("append ours / raw TEMP insert", lambda r: r["appends"]["ratio_temp"], "", None),
    ("rebuild seconds", lambda r: r["rebuild"]["seconds"], "", None),
    ("rebuild events/s", lambda r: r["rebuild"]["rebuild_events_per_s"], "", None),
    ("raw COPY rows/s", lambda r: r["rebuild"]["copy_rows_per_s"], "", None),
    ("rebuild / COPY", lambda r: r["rebuild"]["ratio"], ">= 0.50", lambda v: v >= 0.5),
]


# Issue 12's targets: (figure, how to get its ratio from the results, ">=" or "<=", bound).
def _median(name: str) -> Callable[[Results], float]:
    def median(results: Results) -> float:
        return float(results["summary"][name]["median"])

    return median


def _linear(results: Results) -> float:
    big, small = results["rebuild_big"], _median("rebuild seconds")(results)
    ratio: float = big["seconds"] / (
        big["events"] / results["runs"][0]["rebuild"]["events"] * small
    )
    return ratio


def _rss_growth(results: Results) -> float:
    if results["growth"]["open_many"] // 4 < WORKFLOW_CACHE:
        raise KeyError("too few open cases to judge")  # the cache is still filling
    return float(results["growth"]["worker_rss_ratio"])


TARGETS: list[tuple[str, Callable[[Results], float], str, float]] = [
    (
        "cases walked per second, loaded: ours / bare",
        _median("throughput ours / baseline"),
        ">=",
        0.90,
    ),
    # Not one of issue 12's: the part of that gap that is ours. The method's own demands on
    # the server (an index write and a timer per step) hold bare itself below 0.90 of bare.
    (
        "guard of our share: ours / bare+attrs+timers",
        _median("throughput ours / bare + attrs + timers"),
        ">=",
        0.90,
    ),
    (
        "worker CPU per case walked: ours / the floor's",
        _median("worker CPU per case ours / floor"),
        "<=",
        1.20,
    ),
    (
        "action round trip unloaded p50: ours / bare",
        _median("unloaded p50 ours / baseline"),
        "<=",
        1.10,
    ),
    (
        "action round trip unloaded p95: ours / bare",
        _median("unloaded p95 ours / baseline"),
        "<=",
        1.30,
    ),
    (
        "events appended per second: ours / raw INSERT",
        _median("append ours / raw insert"),
        ">=",
        0.30,
    ),
    ("rebuild events/s / raw COPY rows/s", _median("rebuild / COPY"), ">=", 0.50),
    ("rebuild big / (size ratio x small time)", _linear, "<=", 1.20),
    ("action p50: many open / few open", lambda r: r["growth"]["ratio"], "<=", 1.20),
    # Issue 24's: server time at BENCH_PAGES_CASES cases, as a share of its budget.
    ("inbox page p95 / 50 ms", lambda r: r["pages"]["inbox"]["p95"] / 50, "<=", 1.0),
    ("case page p95 / 80 ms", lambda r: r["pages"]["case"]["p95"] / 80, "<=", 1.0),
    # Issue 30's: seconds of wall time, not ratios (the ratios to `python -c pass` are printed).
    ("CLI start: complaints --help p50, s", lambda r: r["cli"]["help"]["p50_s"], "<=", 0.25),
    ("CLI start: complaints show p50, s", lambda r: r["cli"]["show"]["p50_s"], "<=", 0.60),
    ("worker RSS: all open / a quarter open", _rss_growth, "<=", 1.10),
    # Issue 27's: a noisy shop beside twenty quiet ones (bench/fairness.py).
    (
        "quiet shops' p95 beside a noisy shop / alone",
        lambda r: r["fairness"]["ratio"],
        "<=",
        1.50,
    ),
]


def targets(results: Results) -> list[dict[str, Any]]:
    """Each target with its ratio; `regressed`: more than 20 % short (BENCH_QUICK fails)."""
    out = []
    for figure, get, op, bound in TARGETS:
        try:
            ratio = get(results)
        except (KeyError, IndexError):
            continue  # its part left out by BENCH_PARTS
        met = ratio >= bound if op == ">=" else ratio <= bound
        regressed = ratio < 0.8 * bound if op == ">=" else ratio > bound / 0.8
        out.append(
            {"figure": figure, "ratio": ratio, "target": f"{op} {bound:.2f}", "met": met}
            | {"regressed": regressed}
        )
    return out


def summarize(runs: list[Results]) -> dict[str, dict[str, float]]:
    out = {}
    for name, get, _, _ in FIGURES:
        try:
            values = [get(r) for r in runs]
        except KeyError:
            continue  # a part left out by BENCH_PARTS
        out[name] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    return out


def report(results: Results) -> str:
    lines = [f"{'figure':<42} {'median':>10} {'range':>21}  target", "-" * 84]
    for name, _, target, check in FIGURES:
        if name not in results["summary"]:
            continue
        s = results["summary"][name]
        verdict = "" if check is None else (" ok" if check(s["median"]) else " MISSED")
        lines.append(
            f"{name:<42} {s['median']:>10.2f} {s['min']:>9.2f} - {s['max']:<9.2f}"
            f"  {target}{verdict}"
        )
    codec = results.get("codec")
    if codec is not None:
        lines.append(
            f"codec: seal + open of one action's payloads ({codec['payload_bytes']} bytes) "
            f"{codec['seal_open_us']:.0f} us in-process"
        )
    if "history" in results:
        lines.extend(shape_lines(results["history"]))
    load = results["machine"]
    lines.append(
        f"load average 1/5/15 min: before {load['load_before']}, after {load['load_after']}"
    )
    big = results.get("rebuild_big")
    if big is not None:
        lines.append(
            f"rebuild of {big['events']} events: {big['seconds']:.1f} s "
            f"({big['rebuild_events_per_s']:.0f}/s)"
        )
    grown = results.get("growth")
    if grown is not None:
        scale, p50 = grown["scale"], grown["p50_ms"]
        lines += [
            f"action p50 with {grown['open_few']} open: ours {p50['ours_few']:.1f} ms, "
            f"bare {p50['baseline_few']:.1f} ms; with {grown['open_many']} open: ours "
            f"{p50['ours_many']:.1f} ms, bare {p50['baseline_many']:.1f} ms",
            f"opened {scale['cases']} cases sitting on their timers in "
            f"{scale['seconds']:.0f} s ({scale['opened_per_s']:.1f}/s)",
        ]
        for m in scale["memory"]:
            lines.append(
                f"  {m['open']:>6} open: worker {m['worker_mb']:6.0f} MiB, "
                f"server {m['server_mb']:6.0f} MiB"
            )
        if grown["open_many"] // 4 < WORKFLOW_CACHE:
            lines.append(
                f"  worker RSS not judged: a quarter of {grown['open_many']} open cases is "
                f"below the worker's workflow cache ({WORKFLOW_CACHE}), which grows until full"
            )
    shown = results.get("pages")
    if shown is not None and "error" not in shown:
        lines.append(
            f"pages with {shown['cases']} cases ({shown['open_cases']} open), server time ms:"
        )
        for page, api, ratio in (
            ("inbox", "api_list", "inbox_over_api_list_p95"),
            ("case", "api_show", "case_over_api_show_p95"),
        ):
            mine, theirs = shown[page], shown[api]
            lines.append(
                f"  {page:<6} p50 {mine['p50']:6.1f}  p95 {mine['p95']:6.1f}   JSON API "
                f"p50 {theirs['p50']:6.1f}  p95 {theirs['p95']:6.1f}   p95 ratio "
                f"{shown[ratio]:.2f}"
            )
        seq = shown["explain"]["seq_scan"]
        plans = "sequential scan in " + ", ".join(seq) if seq else "indexed"
        lines.append(f"  inbox plans: {plans}")
    fair = results.get("fairness")
    if fair is not None and "error" not in fair:
        alone, beside = fair["quiet_p95_alone_ms"], fair["quiet_p95_beside_noisy_ms"]
        lines += [
            f"fairness: {fair['quiet_shops']} quiet shops at 1/s, p95 {alone:.0f} ms alone,",
            f"  {beside:.0f} ms beside a shop asking {fair['noisy_rate_asked']:.0f}/s "
            f"(it got {fair['noisy_done_per_s']:.1f}/s, p95 {fair['noisy_p95_ms']:.0f} ms; "
            f"{fair['noisy_refused']} refused by its limit of {fair['limit_per_minute']}/min)",
        ]
    if "cli" in results:
        lines += cli_report(results["cli"])
    lines += ["", f"targets of issues 12, 24, 27 and 30 (this run{', QUICK' if QUICK else ''}):"]
    for t in results["targets"]:
        verdict = "met" if t["met"] else "MISSED"
        lines.append(f"  {t['figure']:<48} {t['ratio']:>6.2f}  {t['target']:<8} {verdict}")
    return "\n".join(lines)


if __name__ == "__main__":
    asyncio.run(main())

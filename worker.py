"""The worker: runs ComplaintWorkflow and its activities on task queue `complaints`."""

import asyncio
import atexit
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, NoReturn

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities.customers import CustomerActivities
from activities.keeping import KeepingActivities
from activities.notify import NotifyActivities, count_in_activity
from activities.opening import OpeningActivities
from activities.retention import RetentionActivities
from activities.rules import RulebookActivities
from activities.scoping import ShopScope
from activities.store import StoreActivities
from app import rule_delivery
from domain.effects import Voice
from domain.notifications import Language
from infra import connection, logs, postgres, sandbox, telemetry, temporal_server
from infra.calendar import quiet_hours
from infra.rulebook import Effective
from infra.settings import Settings
from notify.keep_in_touch import KeepInTouch, keep_in_touch_for
from notify.registry import senders_for
from store import connections, health, migrations, retention, rulebook
from store.customers import CustomerDirectory, TierThresholds
from store.events import EventStore
from store.outbox import Outbox
from workflows import keep_in_touch, search_attributes
from workflows import retention as retention_sweep
from workflows.complaint import ComplaintWorkflow
from workflows.notification_sweep import NotificationSweepWorkflow, ensure_schedule
from workflows.retention import RetentionWorkflow

log = structlog.get_logger(__name__)


def activities_for(pool: asyncpg.Pool, settings: Settings) -> Sequence[Callable[..., Any]]:
    # The notices' language, recipients, zone and holds follow the owner's rulebook, read
    # again at most every few seconds (infra.rulebook.Effective), never once per notice.
    rules = Effective(settings, lambda: rulebook.rules(pool))
    store = EventStore(pool, voice_source(rules))
    outbox = Outbox(
        pool, senders_for(settings), count=count_in_activity, language=language_source(rules)
    )
    directory = CustomerDirectory(pool, thresholds_for(settings))
    stored = StoreActivities(store)
    rulebook_reads = RulebookActivities(settings, pool)
    customers = CustomerActivities(directory)
    notify = NotifyActivities(outbox, lambda client: rule_delivery.redeliver(pool, client))

    async def keeping_now() -> KeepInTouch:
        return keep_in_touch_for(pool, await rules.get())

    keeping = KeepingActivities(keep_in_touch_for(pool, settings), keeping_now)
    return [
        stored.append_events,
        stored.append_opening,
        OpeningActivities(
            rulebook_reads.case_rules, customers.customer_profile, stored.append_opening
        ).open_case,
        notify.send_notifications,
        notify.sweep_notifications,
        customers.customer_profile,
        rulebook_reads.case_rules,
        rulebook_reads.current_rules,
        RetentionActivities(pool, settings.retention, settings.records_hold_years).apply_retention,
        keeping.keep_in_touch,
        keeping.end_legal_holds,
    ]


def voice_for(settings: Settings) -> Voice:
    return Voice(
        language=settings.language,
        contacts=settings.escalation_contacts,
        zone=settings.timezone,
        quiet_hours=quiet_hours(settings.quiet_hours, settings.timezone),
    )


def voice_source(rules: Effective) -> Callable[[], Awaitable[Voice]]:
    """The voice of the rules in force now; made again only when they change (`applied`
    gives the very same settings while the rulebook stays as it was)."""
    last: list[tuple[Settings, Voice]] = []

    async def voice() -> Voice:
        settings = await rules.get()
        if not last or last[0][0] is not settings:
            last[:] = [(settings, voice_for(settings))]
        return last[0][1]

    return voice


def language_source(rules: Effective) -> Callable[[], Awaitable[Language]]:
    async def language() -> Language:
        return (await rules.get()).language

    return language


def thresholds_for(settings: Settings) -> TierThresholds:
    return TierThresholds(
        silver_from=settings.silver_from_visits, gold_from=settings.gold_from_visits
    )


async def watch_gauges(
    pool: asyncpg.Pool, gauges: telemetry.ServiceGauges, every: float, timeout: float = 10.0
) -> None:
    """Read the operator's gauges from PostgreSQL every `every` seconds until cancelled.
    Every worker does (no leader to elect, nothing lost when one stops): each serves the same
    values on its own endpoint, and the alerting rules take the max over workers. A reading
    that fails sets `complaints_database_up` to 0 and keeps the last values."""
    up = True
    while True:
        try:
            gauges.show(await asyncio.wait_for(health.read(pool), timeout))
            if not up:
                log.info("database answers the gauges again")
            up = True
        except asyncio.CancelledError:
            raise
        except Exception as err:  # whatever the outage looks like, the loop goes on
            gauges.database(up=False)
            if up:
                log.warning("gauges not read: database unreachable", error=str(err))
            up = False
        await asyncio.sleep(every)


HEALTH_EVERY = 5.0  # seconds between the readiness checks (a probe reads their last result)
HEALTH_TIMEOUT = 2.0  # seconds each check may take: one that hangs has failed


async def watch_health(
    client: Client,
    database_url: str,
    readiness: telemetry.Readiness,
    gauges: telemetry.ServiceGauges,
    every: float = HEALTH_EVERY,
    timeout: float = HEALTH_TIMEOUT,
) -> None:
    """Check every `every` seconds, until cancelled, that PostgreSQL answers a statement (on a
    connection of its own: a pool busy with activities is no outage) and that Temporal answers
    its health check (the same connection the polls use); tell `readiness` and set
    `complaints_worker_ready` from its verdict. Logs each change of that verdict."""
    conn: asyncpg.Connection | None = None
    was_ready = True
    try:
        while True:
            try:
                async with asyncio.timeout(timeout):
                    if conn is None or conn.is_closed():
                        conn = await asyncpg.connect(database_url)
                    await connections.ping(conn)
                readiness.database_answered()
            except Exception as err:  # whatever the outage looks like, the loop goes on
                readiness.database_failed(_describe(err, timeout))
                if conn is not None:
                    conn.terminate()
                    conn = None
            try:
                wait = timedelta(seconds=timeout)
                async with asyncio.timeout(timeout + 0.5):
                    serving = await client.service_client.check_health(timeout=wait)
                if serving:
                    readiness.temporal_answered()
                else:
                    readiness.temporal_failed("its workflow service is not serving")
            except Exception as err:
                readiness.temporal_failed(_describe(err, timeout))
            ready, reason = readiness.verdict()
            gauges.ready(ready)
            if ready != was_ready:
                if ready:
                    log.info("worker ready again")
                else:
                    log.warning("worker not ready", reason=reason)
                was_ready = ready
            await asyncio.sleep(every)
    finally:
        if conn is not None:
            conn.terminate()


def _describe(err: Exception, timeout: float) -> str:
    if isinstance(err, TimeoutError):
        return f"no answer within {timeout:g} s"
    return str(err).splitlines()[0] if str(err) else type(err).__name__


class NotReady(Exception):
    """Temporal is not set up for this service: one line that names the fix."""


async def require_search_attributes(client: Client, namespace: str) -> None:
    """Without its search attributes every case would fail its first task (BadSearchAttributes)
    and pile up unstored: refuse to start instead."""
    try:
        missing = await temporal_server.missing_search_attributes(
            client, search_attributes.ALL, namespace
        )
    except temporal_server.SearchAttributeClash as err:
        raise NotReady(str(err)) from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:  # no such namespace
            raise NotReady(f"namespace {namespace}: {err.message}") from None
        if err.status not in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
            raise
        # A cluster that hides its operator API from workers: start, and say so.
        log.warning("search attributes not checked", namespace=namespace, reason=err.message)
        return
    if missing:
        raise NotReady(
            f"namespace {namespace} lacks the search attributes {', '.join(missing)}: "
            "register them with `complaints setup`, then start the worker again"
        )


def build_worker(client: Client, pool: asyncpg.Pool, settings: Settings) -> Worker:
    # The sandbox compiles the same import snippets for every workflow run otherwise, a
    # fifth of a replay's CPU; and it enters itself for every payload to ask its context.
    sandbox.compile_snippets_once()
    sandbox.ask_contexts_directly()
    # What the sandbox would refuse, the workflow tests and the replay of every recorded
    # case refuse under it in CI.
    runner = sandbox.workflow_runner(settings.workflow_sandbox)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[
            ComplaintWorkflow,
            NotificationSweepWorkflow,
            RetentionWorkflow,
            keep_in_touch.KeepInTouchWorkflow,
        ],
        activities=activities_for(pool, settings),
        interceptors=[ShopScope()],
        workflow_runner=runner,
        # On shutdown, activities in flight get this long to finish before they are cancelled.
        graceful_shutdown_timeout=settings.shutdown_grace,
    )


async def run(settings: Settings, database_url: str, stop: asyncio.Event | None = None) -> None:
    """Run the worker until `stop` is set or this task is cancelled, then drain it: it polls
    no more, activities in flight get `shutdown_grace` to finish, the pool closes."""
    try:
        kept = retention.parse_retention(settings.retention)
    except ValueError as err:
        raise NotReady(f"COMPLAINTS_RETENTION: {err}") from None
    try:  # the worker's own runtime: the metrics endpoint, core logs into ours
        runtime = telemetry.worker_runtime(settings)
    except telemetry.MetricsUnavailable as err:
        raise NotReady(str(err)) from None
    client = await connection.connect(settings, attempts=50, runtime=runtime)
    await require_search_attributes(client, settings.temporal_namespace)
    pool = await postgres.connect(
        database_url,
        max_size=settings.database_pool_size,
        statement_cache_size=settings.database_statement_cache_size,
    )
    try:
        try:
            for migration in await migrations.migrate(pool):
                log.info("schema migrated", version=migration.version, name=migration.name)
        except migrations.MigrationEdited as err:
            raise NotReady(str(err)) from None
        worker = build_worker(client, pool, settings)
        if await ensure_schedule(client, settings.task_queue):
            log.info("notification sweep scheduled")
        if await retention_sweep.ensure_schedule(client, settings.task_queue):
            log.info("retention scheduled", every="1d")
        log.info("retention", period=str(kept) if kept else "off")
        if await keep_in_touch.ensure_schedule(client, settings.task_queue):
            log.info("keep-in-touch run scheduled")
        log.info(
            "worker started",
            task_queue=settings.task_queue,
            temporal=settings.temporal_address,
            metrics=telemetry.metrics_url(settings),
        )
        readiness = telemetry.READINESS  # what GET /ready on the metrics port answers
        readiness.temporal_grace = settings.temporal_grace.total_seconds()
        gauges = telemetry.ServiceGauges(runtime.metric_meter)
        watching: list[asyncio.Task[None]] = []
        async with worker:  # leaving it, also by cancellation, is worker.shutdown()
            readiness.polling()
            gauges.ready(True)
            if settings.metrics_address:  # nobody scrapes or probes them otherwise
                every = settings.gauges_every.total_seconds()
                watching = [
                    asyncio.create_task(watch_gauges(pool, gauges, every), name="gauges"),
                    asyncio.create_task(
                        watch_health(client, database_url, readiness, gauges), name="health"
                    ),
                ]
            try:
                await (stop or asyncio.Event()).wait()
            finally:
                readiness.stopping()
                gauges.ready(False)
                for task in watching:
                    task.cancel()
                await asyncio.gather(*watching, return_exceptions=True)
            log.info("worker stopping", grace_seconds=settings.shutdown_grace.total_seconds())
    finally:
        await pool.close()
        log.info("worker stopped")


async def serve(settings: Settings, database_url: str) -> None:
    """`run` until SIGTERM or SIGINT. The handlers are what make it stop as PID 1 of a
    container too: PID 1 ignores a signal it has no handler for."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(settings, database_url, stop)


def main() -> None:
    settings = Settings.load()
    logs.configure(settings.log_format)
    if connection.codec_for(settings) is None:
        raise SystemExit(
            "configuration error: no payload encryption key: set COMPLAINTS_CODEC_KEYS "
            "(JSON key id -> base64 of 32 random bytes) and COMPLAINTS_CODEC_KEY_ID, or run "
            "`make run` once to make a local one"
        )
    url = settings.database_url or postgres.start_embedded(settings.data_dir)
    try:
        asyncio.run(serve(settings, url))
    except NotReady as err:
        if logs.pretty(settings.log_format):
            print(f"worker: {err}", file=sys.stderr)
        else:
            log.error("worker not started", reason=str(err))
        _exit(1)
    _exit(0)


def _exit(code: int) -> NoReturn:
    """Exit without interpreter teardown, like `complaints` does: the Temporal core's threads
    can touch the GIL while the interpreter finalizes and abort the process, about one exit in
    five here (temporalio/sdk-python#300). The exit handlers (the embedded PostgreSQL's
    stop, logging's flush) still run first."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()

"""The worker: runs ComplaintWorkflow and its activities on task queue `complaints`."""

import asyncio
from collections.abc import Sequence

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.customers import CustomerActivities, CustomerDirectory, TierThresholds
from activities.notify import LogSender, NotifyActivities, Outbox, Sender, WebhookSender
from activities.store import EventStore, StoreActivities
from infra import connection, logs, postgres
from infra.settings import Settings
from store import migrations
from workflows.complaint import ComplaintWorkflow
from workflows.notification_sweep import NotificationSweepWorkflow, ensure_schedule

log = structlog.get_logger(__name__)


async def connect_client(settings: Settings, attempts: int = 1) -> Client:
    return await connection.connect(settings, attempts)


def sender_for(settings: Settings) -> Sender:
    if settings.webhook_url and settings.webhook_secret:
        return WebhookSender(
            settings.webhook_url,
            settings.webhook_secret.get_secret_value(),
            settings.webhook_timeout.total_seconds(),
        )
    return LogSender()


def activities_for(pool: asyncpg.Pool, settings: Settings) -> Sequence[object]:
    store = EventStore(pool, settings.language, settings.escalation_contacts)
    outbox = Outbox(pool, sender_for(settings))
    directory = CustomerDirectory(pool, thresholds_for(settings))
    return [
        StoreActivities(store).append_events,
        NotifyActivities(outbox).send_notifications,
        NotifyActivities(outbox).sweep_notifications,
        CustomerActivities(directory).customer_profile,
    ]


def thresholds_for(settings: Settings) -> TierThresholds:
    return TierThresholds(
        silver_from=settings.silver_from_visits, gold_from=settings.gold_from_visits
    )


def build_worker(client: Client, pool: asyncpg.Pool, settings: Settings) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ComplaintWorkflow, NotificationSweepWorkflow],
        activities=activities_for(pool, settings),
    )


async def run(settings: Settings, database_url: str) -> None:
    client = await connect_client(settings, attempts=50)
    pool = await postgres.connect(
        database_url,
        max_size=settings.database_pool_size,
        statement_cache_size=settings.database_statement_cache_size,
    )
    try:
        for migration in await migrations.migrate(pool):
            log.info("schema migrated", version=migration.version, name=migration.name)
        worker = build_worker(client, pool, settings)
        if await ensure_schedule(client, settings.task_queue):
            log.info("notification sweep scheduled")
        log.info(
            "worker started", task_queue=settings.task_queue, temporal=settings.temporal_address
        )
        await worker.run()
    finally:
        await pool.close()


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
    asyncio.run(run(settings, url))


if __name__ == "__main__":
    main()

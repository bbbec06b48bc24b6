"""Our worker without the payload codec, for the benchmark's `codec` part only.

The same workflows, activities and pool settings as `worker.py` (it builds them with
`worker.build_worker`), on its own task queue (COMPLAINTS_TASK_QUEUE, set by bench.run) and
with the service's converter minus the codec. `worker.py` itself stays strict: it refuses to
start without a key, and nothing here loosens that. Migrations and the sweep's schedule are
left to the real worker, which the benchmark runs beside this one.
"""

import asyncio

from temporalio.client import Client

import worker
from infra import connection, logs, postgres
from infra.converter import DATA_CONVERTER
from infra.settings import Settings


async def main() -> None:
    settings = Settings.load()
    logs.configure(settings.log_format)  # as worker.main: the same logging work per action
    if settings.database_url is None:
        raise SystemExit("bench.plain_worker: DATABASE_URL is required")
    client = await Client.connect(
        **connection.connect_config(settings) | {"data_converter": DATA_CONVERTER}
    )
    pool = await postgres.connect(
        settings.database_url,
        max_size=settings.database_pool_size,
        statement_cache_size=settings.database_statement_cache_size,
    )
    try:
        async with worker.build_worker(client, pool, settings):
            await asyncio.Event().wait()  # until bench.run terminates the process
    finally:
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main())

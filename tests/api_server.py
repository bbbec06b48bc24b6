"""The API's app served for real on a local port: `serving`, in a thread with its own event
loop (its PostgreSQL pool belongs to that loop), for clients that are other processes (the
Temporal CLI and the Web UI calling `/codec`); `served`, on the test's own loop, for a
browser or an HTTP client driving the app of a Context the test holds too."""

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn

from api.main import create_app, server
from app.context import Context
from infra.settings import Settings


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """Serve the app on `settings.api_port` until the block ends; yields its base URL."""
    api = server(settings)
    thread = threading.Thread(target=asyncio.run, args=(api.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not api.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start on port {settings.api_port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{settings.api_port}"
    finally:
        api.should_exit = True
        thread.join(timeout=10)


@asynccontextmanager
async def served(ctx: Context) -> AsyncIterator[str]:
    """Serve `ctx`'s app (the API and the pages) by uvicorn on `ctx.settings.api_port`, on
    this loop, until the block ends; yields its base URL."""
    port = ctx.settings.api_port
    app = uvicorn.Server(
        uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_config=None)
    )
    serving_task = asyncio.create_task(app.serve())
    while not app.started:
        assert not serving_task.done(), "the app did not start"
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.should_exit = True
        await serving_task

"""The API's app served for real on a local port, in a thread with its own event loop (its
PostgreSQL pool belongs to that loop): for clients that are other processes, the Temporal CLI
and the Web UI calling `/codec`."""

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from api.main import server
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

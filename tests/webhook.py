"""A real local webhook receiver for tests: records every delivery with its headers."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Delivery:
    headers: dict[str, str]
    body: str
    at: float

    @property
    def notice(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Hook:
    url: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before answering (after the delivery is recorded)
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def received(self) -> list[dict[str, Any]]:
        """The notices a de-duplicating receiver keeps: the first delivery of each id."""
        seen: dict[str, dict[str, Any]] = {}
        for d in self.deliveries:
            seen.setdefault(d.headers["webhook-id"], d.notice)
        return list(seen.values())


@contextmanager
def webhook() -> Iterator[Hook]:
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            if hook.status == 200:
                headers = {k.lower(): v for k, v in self.headers.items()}
                hook.deliveries.append(Delivery(headers, body, time.monotonic()))
            time.sleep(hook.delay)
            try:
                self.send_response(hook.status)
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_port}/notify"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()

"""The codec server: lets the Temporal Web UI and `temporal ... --codec-endpoint` show
sealed payloads decoded, for people allowed to reach it (it listens on localhost only
unless told otherwise). Two endpoints, as Temporal's codec protocol has them:
POST /encode and POST /decode, a Payloads message as JSON in and out. CORS lets the UI's
page (its own origin) call it from the browser.

`python -m infra.codec_server` runs it alone; `make run` runs it in-process.
"""

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from infra.codec import EncryptionCodec
from infra.connection import codec_for
from infra.settings import Settings

MAX_BODY = 8 * 1024 * 1024


def handler_for(codec: EncryptionCodec, origins: frozenset[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _cors(self) -> None:
            origin = self.headers.get("Origin")
            if origin in origins:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                self.send_header(
                    "Access-Control-Allow-Headers", "content-type, x-namespace, authorization"
                )
                self.send_header("Access-Control-Allow-Credentials", "true")
                self.send_header("Vary", "Origin")

        def _answer(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self._cors()
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        @property
        def endpoint(self) -> str:
            return urlsplit(self.path).path  # the UI adds ?preserveStorageRefs=true

        def do_OPTIONS(self) -> None:
            self._answer(204 if self.endpoint in ("/encode", "/decode") else 404)

        def do_POST(self) -> None:
            if self.endpoint not in ("/encode", "/decode"):
                self._answer(404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(413)
                return
            try:
                payloads = json_format.Parse(self.rfile.read(length), Payloads())
                apply = codec.encode if self.endpoint == "/encode" else codec.decode
                result = asyncio.run(apply(payloads.payloads))
            except Exception as err:  # a bad body or an unknown key: say so, keep serving
                self._answer(400, f'{{"message": "{type(err).__name__}"}}'.encode())
                return
            body = json_format.MessageToJson(Payloads(payloads=result)).encode()
            self._answer(200, body)

        def log_message(self, *args: object) -> None:
            pass  # request lines would log nothing useful, and never payloads

    return Handler


def serve(
    codec: EncryptionCodec, port: int, origins: frozenset[str], host: str = "127.0.0.1"
) -> ThreadingHTTPServer:
    """Start serving in a daemon thread; `shutdown()` the result to stop."""
    server = ThreadingHTTPServer((host, port), handler_for(codec, origins))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def ui_origins(settings: Settings) -> frozenset[str]:
    """The Web UI's origin, as the browser names it (localhost and 127.0.0.1 alike)."""
    url = settings.ui_url.rstrip("/")
    return frozenset(
        {url, url.replace("localhost", "127.0.0.1"), url.replace("127.0.0.1", "localhost")}
    )


def main() -> None:
    settings = Settings.load()
    codec = codec_for(settings)
    if codec is None:
        raise SystemExit("configuration error: no payload key: set COMPLAINTS_CODEC_KEYS")
    server = serve(codec, settings.codec_port, ui_origins(settings), settings.codec_host)
    print(f"codec server on http://{settings.codec_host}:{settings.codec_port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()

"""`make run`: the whole service on one machine, in the foreground; Ctrl-C stops it all.

Starts the Temporal dev server (Web UI, data in a file under the data folder, the
custom search attributes registered), an embedded PostgreSQL unless DATABASE_URL is set,
applies the schema and runs the worker and the HTTP API (with the codec endpoint at /codec)
in this process. It sits beside worker.py and starter.py, above what it starts: infra/ is
the plumbing it uses and imports nothing of the service's own.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog

import worker
from api.main import serve as serve_api
from infra import logs, postgres, temporal_server
from infra.keys import ensure_local_keys
from infra.settings import Settings
from infra.telemetry import metrics_url
from notify import standin
from workflows import search_attributes

log = structlog.get_logger(__name__)


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def _ui_port(ui_url: str) -> int:
    return int(ui_url.rstrip("/").rsplit(":", 1)[1])


ADD_YOURSELF = '.venv/bin/complaints staff add "Your Name" --role owner'
SIGN_IN = '.venv/bin/complaints staff link "Your Name"'


def api_url(settings: Settings) -> str:
    """The API as a browser on this machine reaches it."""
    wildcard = settings.api_host in ("127.0.0.1", "0.0.0.0", "::", "")
    return f"http://{'localhost' if wildcard else settings.api_host}:{settings.api_port}"


def _banner(settings: Settings, now: datetime | None = None) -> str:
    where = "DATABASE_URL" if settings.database_url else f"embedded, {settings.data_dir}/postgres"
    api = api_url(settings)
    return f"""
  Complaint service is running.
    Staff pages     : {api}/   (sign in with a link, below)
    HTTP API        : {api}   (docs: {api}/docs, {api}/openapi.json)
    Temporal Web UI : {settings.ui_url}   (payloads stay sealed there; see below)
    Temporal server : {settings.temporal_address}   (data: {settings.data_dir}/temporal.db)
    PostgreSQL      : {where}
    Metrics         : {metrics_url(settings) or "off (COMPLAINTS_METRICS_PORT=0)"}
    Customer messages: {_messages(settings)}{_try_now(settings, now or datetime.now(UTC))}

  First, in another terminal, add yourself as staff (the last line it prints is your token):
    {ADD_YOURSELF}
  Then sign in to the staff pages (open the link it prints within 15 minutes):
    {SIGN_IN}
  Or open a first case from the terminal as yourself:
    export COMPLAINTS_STAFF="Your Name"
    .venv/bin/complaints open --name "Park Jiho" --phone 010-1234-5678 \\
        --channel phone --motive compensation --what "The cake arrived crushed"

  A case's Temporal history, decoded (your token; the Web UI here cannot send one):
    .venv/bin/temporal workflow show --workflow-id complaint-<case> \\
        --codec-endpoint {api}/codec --codec-auth "Bearer <your token>"

  Ctrl-C stops everything.
"""


def _messages(settings: Settings) -> str:
    if settings.messages == "standin":
        url = f"http://localhost:{settings.standin_port}"
        return f"stand-in provider {url}   (every message: {url}/messages)"
    if settings.messages == "solapi":
        return f"SOLAPI ({settings.solapi_url})"
    return "off (COMPLAINTS_MESSAGES=off)"


TRY_NOW = "COMPLAINTS_QUIET_HOURS= COMPLAINTS_FOLLOW_UP_AFTER=2m make run"


def customer_path_hint(settings: Settings, now: datetime) -> str | None:
    """One line when the customer's path cannot be seen now: in quiet hours every customer
    message waits for their end (and the rating link comes `follow_up_after` after the
    prevention, a week unless set): how to start to see it at once."""
    policy = settings.care_policy()
    quiet = policy.quiet_hours
    if settings.messages == "off" or quiet is None or not quiet.is_quiet(now):
        return None
    ends = quiet.next_allowed(now).astimezone(ZoneInfo(quiet.zone))
    return (
        f"customer messages wait until {ends:%H:%M} {ends.tzname()} (quiet hours); "
        f"to try the path now: {TRY_NOW}"
    )


def _try_now(settings: Settings, now: datetime) -> str:
    hint = customer_path_hint(settings, now)
    return f"\n      {hint}" if hint else ""


def with_messages(settings: Settings) -> Settings:
    """`make run` sends customer messages to the stand-in unless told otherwise."""
    if "COMPLAINTS_MESSAGES" in os.environ:
        return settings
    return settings.model_copy(update={"messages": "standin"})


async def _serve(settings: Settings, url: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(worker.run(settings, url))
    api = asyncio.create_task(serve_api(settings.model_copy(update={"database_url": url}), stop))
    parts = [api]
    if settings.messages == "standin":
        parts.append(
            asyncio.create_task(standin.serve(settings.standin_port, stop, settings.api_host))
        )
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({task, *parts, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for ended in (task, *parts):
        if ended in done:
            ended.result()  # the worker, the API or the stand-in died: raise why
    stop.set()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    for part in parts:
        await part


def main() -> None:
    settings = with_messages(Settings.load())
    logs.configure(settings.log_format)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db_file, pid_file = settings.data_dir / "temporal.db", settings.data_dir / "temporal.pid"
    # A run killed with SIGKILL takes its server along (PR_SET_PDEATHSIG); where that did
    # not happen, the pid file names the server it left behind.
    stale = temporal_server.stop_stale_server(pid_file, db_file)
    if stale is not None:
        log.info("stopped the Temporal server a crashed run left", pid=stale)
    port, ui_port = _port(settings.temporal_address), _ui_port(settings.ui_url)
    metrics = (settings.metrics_port,) if settings.metrics_port else ()
    messages = (settings.standin_port,) if settings.messages == "standin" else ()
    for taken in (port, ui_port, settings.api_port, *metrics, *messages):
        try:
            temporal_server.wait_for_port(taken, timeout=0.2)
        except TimeoutError:
            pass
        else:
            raise SystemExit(
                f"port {taken} is taken: is another Temporal server or `make run` running?"
            )
    if not settings.codec_keys:
        ensure_local_keys(settings.data_dir)  # the worker and the CLI both read it
    # The browser calls the codec endpoint itself; it answers staff tokens only, which the
    # dev server's UI cannot send: there payloads show sealed.
    codec_url = f"{api_url(settings)}/codec"
    url = settings.database_url or postgres.start_embedded(settings.data_dir)
    server = temporal_server.start_dev_server(
        db_file,
        search_attributes.ALL,
        port=port,
        ui_port=ui_port,
        log_file=settings.data_dir / "temporal.log",
        pid_file=pid_file,
        extra_args=("--ui-codec-endpoint", codec_url),
    )
    try:
        if logs.pretty(settings.log_format):
            print(_banner(settings), flush=True)
        else:  # JSON mode: every line is JSON, the banner too
            log.info(
                "service running",
                api=api_url(settings),
                docs=f"{api_url(settings)}/docs",
                ui=settings.ui_url,
                add_yourself_first=ADD_YOURSELF,
                then_sign_in=SIGN_IN,
                codec=codec_url,
                temporal=settings.temporal_address,
                database="DATABASE_URL" if settings.database_url else "embedded",
                metrics=metrics_url(settings),
                messages=_messages(settings),
                customer_path=customer_path_hint(settings, datetime.now(UTC)),
            )
        asyncio.run(_serve(settings, url))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        pid_file.unlink(missing_ok=True)
        postgres.url_file(settings.data_dir).unlink(missing_ok=True)
        log.info("stopped")  # the embedded PostgreSQL stops at exit, with its last user


if __name__ == "__main__":
    main()

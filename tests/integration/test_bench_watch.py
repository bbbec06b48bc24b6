"""The benchmark stops, saying why, when one of its processes dies (bench.run.watch)."""

import asyncio
import sys
from pathlib import Path

import pytest

from bench.run import spawn, watch


async def test_a_process_that_dies_stops_the_run_with_its_last_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "worker.log"
    dying = spawn([sys.executable, "-c", "import sys; print('no key'); sys.exit(3)"], {}, log)

    async def run() -> None:
        await asyncio.sleep(60)  # a walk waiting for cases nobody works on

    main = asyncio.create_task(run())
    await watch({"worker": (dying, log)}, main)
    with pytest.raises(asyncio.CancelledError):
        await main
    said = capsys.readouterr().out
    assert "worker exited with 3" in said and "no key" in said


async def test_while_every_process_runs_the_run_goes_on(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    alive = spawn([sys.executable, "-c", "import time; time.sleep(30)"], {}, log)
    main = asyncio.create_task(asyncio.sleep(60))
    watcher = asyncio.create_task(watch({"worker": (alive, log)}, main))
    await asyncio.sleep(1.5)
    assert not watcher.done() and not main.done()
    for task in (watcher, main):
        task.cancel()
    alive.terminate()
    alive.wait()

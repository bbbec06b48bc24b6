"""The read model: one complaint_cases row per case, and its rebuild from the events.

The fold is the domain's `evolve` (one definition of what an event means); parsing and
folding are most of a rebuild's time, so they run in worker processes, a chunk of whole
cases each (store/folding.py), while this process reads the next chunk and streams
finished rows into PostgreSQL by COPY.
"""

import asyncio
import os
import pickle
import sys
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from store.folding import CASE_COLUMNS, fold_cases

_COLUMNS = [c.strip() for c in CASE_COLUMNS.split(",")]
EVENT_BYTES = 400  # about what an event takes in complaint_events, to guess the chunks


async def _chunks(cursor: asyncpg.cursor.Cursor, size: int) -> AsyncIterator[tuple[list[str], str]]:
    """The events in chunks of about `size`, never splitting a case across two chunks."""
    held: list[asyncpg.Record] = []  # the last case read, which the next fetch may continue
    while rows := await cursor.fetch(size):
        rows = held + rows
        last = rows[-1]["case_id"]
        cut = len(rows)
        while cut > 0 and rows[cut - 1]["case_id"] == last:
            cut -= 1
        if cut == 0:  # one case longer than a chunk: keep reading it
            held = rows
            continue
        held = rows[cut:]
        yield (
            [r["case_id"] for r in rows[:cut]],
            "[" + ",".join(r["data"] for r in rows[:cut]) + "]",
        )
    if held:
        yield [r["case_id"] for r in held], "[" + ",".join(r["data"] for r in held) + "]"


class _Folder:
    """A worker process folding chunks: `python -m store.folding`, pickles over its stdin
    and stdout. Not multiprocessing: its spawn re-imports the caller's main module (the CLI,
    the benchmark: a second or more per process), and a fork would copy the locks of the
    caller's threads (a Temporal client's runtime). This imports the domain alone."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls) -> "_Folder":
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "store.folding", stdin=PIPE, stdout=PIPE
        )
        return cls(process)

    async def fold(self, chunk: tuple[list[str], str]) -> list[tuple[Any, ...]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        body = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
        self.process.stdin.write(len(body).to_bytes(8, "little") + body)
        await self.process.stdin.drain()
        size = int.from_bytes(await self.process.stdout.readexactly(8), "little")
        ok, result = pickle.loads(await self.process.stdout.readexactly(size))
        if not ok:
            raise RuntimeError(f"folding the events failed in a worker process: {result}")
        return result  # type: ignore[no-any-return]

    async def close(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
            except asyncio.CancelledError:
                self.process.kill()  # no orphan folding on after its rebuild is gone
                raise


async def rebuild_read_model(
    pool: asyncpg.Pool, chunk: int = 5_000, workers: int | None = None
) -> int:
    """Replace complaint_cases by the fold of complaint_events; returns the number of cases.

    One transaction holds complaint_cases in EXCLUSIVE mode (appends wait, readers do not),
    empties it and COPYs the new rows in: until it commits, readers see the old rows, never
    an empty or half-built table. A second connection reads the events in the snapshot the
    first exported after taking the lock, so every event committed before it, and no later
    one, is folded. Chunks of whole cases are folded by `workers` processes (the cores, by
    default; in this process when everything fits in one chunk); rows go in as they come.
    """
    workers = workers or os.cpu_count() or 1
    if pool.get_max_size() < 2:
        raise ValueError("a rebuild reads on one connection while it writes on another")
    # Folder processes take ~0.5 s to import the domain: where the events look like more
    # than a chunk, they start now and import while the table is locked and read.
    size = await pool.fetchval("SELECT pg_relation_size('complaint_events')")
    folders: list[_Folder] = []  # closed however the rebuild ends, each started one
    try:
        if size > chunk * EVENT_BYTES:
            await _start(folders, workers)
        return await _rebuild(pool, chunk, workers, folders)
    finally:
        await asyncio.gather(*(f.close() for f in folders))


async def _start(folders: list["_Folder"], workers: int) -> None:
    for _ in range(workers):
        folders.append(await _Folder.start())


async def _rebuild(pool: asyncpg.Pool, chunk: int, workers: int, folders: list["_Folder"]) -> int:
    cases = 0
    async with pool.acquire() as writer, writer.transaction():
        await writer.execute("LOCK TABLE complaint_cases IN EXCLUSIVE MODE")
        snapshot = await writer.fetchval("SELECT pg_export_snapshot()")
        await writer.execute("DELETE FROM complaint_cases")
        async with pool.acquire() as reader, reader.transaction(isolation="repeatable_read"):
            await reader.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            cursor = await reader.cursor(
                "SELECT case_id, data::text FROM complaint_events ORDER BY case_id, seq"
            )
            # Bounded queues: memory stays flat however many events there are.
            todo: asyncio.Queue[tuple[list[str], str] | None] = asyncio.Queue(4 * workers)
            # None: all folded; an exception: a fold failed, and so must the COPY (a commit
            # would leave the cases it lacks out of the read model).
            done: asyncio.Queue[list[tuple[Any, ...]] | BaseException | None] = asyncio.Queue(
                2 * workers
            )

            async def fold_in_worker(folder: _Folder) -> None:
                try:
                    while (job := await todo.get()) is not None:
                        await done.put(await folder.fold(job))
                except Exception as err:
                    await done.put(err)  # the COPY fails with it, and the rest is cancelled
                    raise

            async def read() -> None:
                try:
                    await fold_all()
                except Exception as err:
                    await done.put(err)
                    raise

            async def fold_all() -> None:
                chunks = _chunks(cursor, chunk)
                first, second = await anext(chunks, None), await anext(chunks, None)
                if second is None:  # all in one chunk: folding here beats starting processes
                    if first is not None:
                        await done.put(fold_cases(*first))
                    await done.put(None)
                    return
                if not folders:
                    await _start(folders, workers)
                folding = [asyncio.create_task(fold_in_worker(f)) for f in folders]
                try:
                    await todo.put(first)
                    await todo.put(second)
                    async for job in chunks:
                        await todo.put(job)
                    for _ in folding:
                        await todo.put(None)
                    await asyncio.gather(*folding)
                finally:
                    for task in folding:
                        task.cancel()
                    await asyncio.gather(*folding, return_exceptions=True)
                await done.put(None)

            async def rows() -> AsyncIterator[tuple[Any, ...]]:
                nonlocal cases
                while (batch := await done.get()) is not None:
                    if isinstance(batch, BaseException):
                        raise batch
                    cases += len(batch)
                    for row in batch:
                        yield row

            reading = asyncio.create_task(read())
            try:
                await writer.copy_records_to_table(
                    "complaint_cases", records=rows(), columns=_COLUMNS
                )
                await reading
            finally:
                reading.cancel()
                await asyncio.gather(reading, return_exceptions=True)
    return cases

"""The read model: one complaint_cases row per case, and its rebuild from the events.

The fold is the domain's `evolve` (one definition of what an event means); parsing and
folding are most of a rebuild's time, so they run in worker processes, a chunk of whole
cases each (store/folding.py), while this process reads the next chunk and writes each
folded chunk's rows into PostgreSQL, one statement a chunk.
"""

import asyncio
import contextlib
import os
import pickle
import signal
import sys
from collections.abc import AsyncIterator

import asyncpg

from store.connections import Conn
from store.folding import ANSWERED_COLUMNS, CASE_COLUMNS, Folded, fold_cases

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
    """One folder's pipes: a chunk pickled in, its rows pickled back."""

    def __init__(self, replies: asyncio.StreamReader, requests: asyncio.StreamWriter) -> None:
        self.replies, self.requests = replies, requests

    @classmethod
    async def connect(cls, replies: int, requests: int) -> "_Folder":
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        # The transports own the files: each closes its own, at EOF or on close().
        reading = open(replies, "rb", buffering=0)  # noqa: SIM115
        writing = open(requests, "wb", buffering=0)  # noqa: SIM115
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), reading)
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), writing
        )
        return cls(reader, asyncio.StreamWriter(transport, protocol, None, loop))

    async def fold(self, chunk: tuple[list[str], str]) -> Folded:
        body = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.requests.write(len(body).to_bytes(8, "little") + body)
            await self.requests.drain()
            size = int.from_bytes(await self.replies.readexactly(8), "little")
            ok, result = pickle.loads(await self.replies.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError) as err:
            raise RuntimeError(
                "a folder process of the rebuild died (killed, or out of memory?); "
                "the read model is left as it was"
            ) from err
        if not ok:
            raise RuntimeError(f"folding the events failed in a worker process: {result}")
        return result  # type: ignore[no-any-return]


class _Folders:
    """Worker processes folding chunks: `python -m store.folding` imports the domain once
    and forks the other folders, each with its own pair of pipes; the lot in a process group
    of its own, so a cancelled rebuild kills every one. Not multiprocessing: its spawn
    re-imports the caller's main module (the CLI, the benchmark: a second or more per
    process), and a fork of the caller would copy the locks of its threads (a Temporal
    client's runtime). This imports the domain alone, once."""

    def __init__(self, process: asyncio.subprocess.Process, folders: list[_Folder]) -> None:
        self.process, self.folders = process, folders

    @classmethod
    async def start(cls, workers: int) -> "_Folders":
        theirs: list[int] = []  # each folder's request reading and reply writing ends
        ours: list[tuple[int, int]] = []  # and ours: (replies, requests)
        try:
            for _ in range(workers):
                (ask_r, ask_w), (answer_r, answer_w) = os.pipe(), os.pipe()
                theirs += [ask_r, answer_w]
                ours.append((answer_r, ask_w))
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "store.folding",
                *(f"{theirs[i]},{theirs[i + 1]}" for i in range(0, len(theirs), 2)),
                pass_fds=theirs,
                start_new_session=True,
            )
        except BaseException:
            for fd in (fd for pair in ours for fd in pair):
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        folders = cls(process, [])
        try:
            for replies, requests in ours:
                folders.folders.append(await _Folder.connect(replies, requests))
        except BaseException:
            folders.kill()
            raise
        return folders

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # all gone already
            os.killpg(self.process.pid, signal.SIGKILL)  # the forked folders with it

    async def close(self) -> None:
        """The end of their requests: each folder exits, and the first once the others have."""
        for folder in self.folders:
            folder.requests.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:
            self.kill()
            await self.process.wait()
        except asyncio.CancelledError:
            self.kill()  # no orphan folding on after its rebuild is gone
            raise


def _fold_here(chunk: tuple[list[str], str]) -> Folded:
    """A chunk folded in this process, failing as a folder process fails."""
    try:
        return fold_cases(*chunk)
    except Exception as err:
        raise RuntimeError(f"folding the events failed: {type(err).__name__}: {err}") from err


async def rebuild_read_model(
    pool: asyncpg.Pool, chunk: int = 5_000, workers: int | None = None
) -> int:
    """Replace complaint_cases (and its answered_steps) by the fold of complaint_events;
    returns the number of cases.

    One transaction holds complaint_cases in EXCLUSIVE mode (appends wait, readers do not),
    empties it and writes the new rows in: until it commits, readers see the old rows, never
    an empty or half-built table. A second connection reads the events in the snapshot the
    first exported after taking the lock, so every event committed before it, and no later
    one, is folded. Chunks of whole cases are folded by `workers` processes (the cores, by
    default; in this process when everything fits in one chunk); rows go in as they come.
    """
    workers = workers or os.cpu_count() or 1
    if pool.get_max_size() < 2:
        raise ValueError("a rebuild reads on one connection while it writes on another")
    # The folders' process takes ~0.3 s to import the domain: where the events look like
    # more than a chunk, it starts now and imports while the table is locked and read.
    size = await pool.fetchval("SELECT pg_relation_size('complaint_events')")
    started: list[_Folders] = []  # at most one; closed however the rebuild ends
    try:
        if size > chunk * EVENT_BYTES:
            started.append(await _Folders.start(workers))
        return await _rebuild(pool, chunk, workers, started)
    finally:
        for folders in started:
            await folders.close()


async def _rebuild(pool: asyncpg.Pool, chunk: int, workers: int, started: list[_Folders]) -> int:
    cases = 0
    async with pool.acquire() as writer, writer.transaction():
        await writer.execute("LOCK TABLE complaint_cases IN EXCLUSIVE MODE")
        snapshot = await writer.fetchval("SELECT pg_export_snapshot()")
        # The read model's two tables, emptied for this shop (row-level security) and
        # written again below from the same fold.
        await writer.execute("DELETE FROM answered_steps")
        await writer.execute("DELETE FROM complaint_cases")
        async with pool.acquire() as reader, reader.transaction(isolation="repeatable_read"):
            await reader.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            cursor = await reader.cursor(
                "SELECT case_id, data::text FROM complaint_events ORDER BY case_id, seq"
            )
            # Bounded queues: memory stays flat however many events there are.
            todo: asyncio.Queue[tuple[list[str], str] | None] = asyncio.Queue(4 * workers)
            # None: all folded; an exception: a fold failed, and so must the rebuild (a commit
            # would leave the cases it lacks out of the read model).
            done: asyncio.Queue[Folded | BaseException | None] = asyncio.Queue(2 * workers)

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
                        await done.put(_fold_here(first))
                    await done.put(None)
                    return
                if not started:
                    started.append(await _Folders.start(workers))
                folding = [asyncio.create_task(fold_in_worker(f)) for f in started[0].folders]
                try:
                    # The first chunk is folded here while the folders' process imports the
                    # domain: the loop waits, but nobody needs it meanwhile.
                    assert first is not None
                    await done.put(_fold_here(first))
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

            reading = asyncio.create_task(read())
            try:
                # Each chunk's cases and their answered steps go in as they come, in one
                # statement with an array parameter per column, the shop's policy checking
                # every row (COPY refuses a table under row-level security): PostgreSQL
                # writes a chunk while the folders fold the next ones, and nothing is left to
                # copy from table to table once the last is folded.
                insert = await _insert_statement(writer)
                while (batch := await done.get()) is not None:
                    if isinstance(batch, BaseException):
                        raise batch
                    await writer.execute(insert, *batch[0], *batch[1])
                    cases += len(batch[0][0])
                await reading
            finally:
                reading.cancel()
                await asyncio.gather(reading, return_exceptions=True)
    return cases


async def _insert_statement(writer: Conn) -> str:
    """The statement that writes a folded chunk (store/folding.py `Folded`): its case rows
    into complaint_cases and its answered steps into answered_steps, from an array per column
    typed as the table's column is. Their shop is the column's default, the scope's."""
    types = {
        (table, column): kind
        for table, column, kind in await writer.fetch(
            "SELECT attrelid::regclass::text, attname, format_type(atttypid, atttypmod)"
            " FROM pg_attribute WHERE attrelid IN ('complaint_cases'::regclass,"
            " 'answered_steps'::regclass) AND attnum > 0 AND NOT attisdropped"
        )
    }
    n = len(_COLUMNS)
    cases = ", ".join(f"${i}::{types['complaint_cases', c]}[]" for i, c in enumerate(_COLUMNS, 1))
    steps = ", ".join(
        f"${i}::{types['answered_steps', c]}[]" for i, c in enumerate(ANSWERED_COLUMNS, n + 1)
    )
    return (
        f"WITH cases AS (INSERT INTO complaint_cases ({', '.join(_COLUMNS)})"
        f" SELECT * FROM unnest({cases}))"
        f" INSERT INTO answered_steps ({', '.join(ANSWERED_COLUMNS)})"
        f" SELECT * FROM unnest({steps})"
    )

"""The fold of a rebuild: events in, read-model rows out. It runs in worker processes
(`python -m store.folding`, a chunk per request over pipes it was given), so it imports
the domain and nothing else: no asyncio, no asyncpg, and each process starts sooner."""

import gc
import os
import pickle
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, BinaryIO

from domain.clock import staff_due_at
from domain.decider import evolve
from domain.events import EVENTS_ADAPTER
from domain.model import CaseState, StepDone

CASE_COLUMNS = (
    "case_id, status, step, motive, channel, tier, fault, escalation_level, escalations, "
    "response_due_at, opened_at, resolved_at, closed_at, rating, version, updated_at, "
    "customer_phone, customer_id, state"
)


def case_row(state: CaseState) -> tuple[Any, ...]:
    """The read-model row of a state, in CASE_COLUMNS order."""
    return (
        state.case_id,
        state.status.value,
        state.stage,
        state.motive.value,
        state.channel.value,
        state.profile.tier.value,
        state.fault.value if state.fault else None,
        state.escalation_level,
        state.escalations,
        staff_due_at(state),
        state.opened_at,
        state.resolved_at,
        state.closed_at,
        state.rating,
        state.version,
        state.updated_at,
        state.customer.phone if state.customer else None,  # cases from before references
        state.customer_id,
        state.model_dump_json(exclude_defaults=True),  # a third smaller; defaults refill
    )


# The answered_steps rows of a case (migration 0022), as three parallel arrays: the step,
# when staff answered it and its first target. The append passes the steps it newly answers,
# a rebuild every step of the case; the report counts them by the time of the answer.
STEP_COLUMNS = ("step", "answered_at", "due_at")


def step_arrays(done: Sequence[StepDone]) -> tuple[list[str], list[datetime], list[datetime]]:
    """Answered steps as the arrays the append unnests into answered_steps (and the rebuild,
    a chunk's at a time)."""
    return [d.step.value for d in done], [d.at for d in done], [d.due_at for d in done]


# A rebuild's chunk of cases as columns, each a list with an entry per case (CASE_COLUMNS
# order), then its answered steps' columns (ANSWERED_COLUMNS order), an entry per step: the
# rebuild passes each column as one array parameter, so no row is handled one by one outside
# the fold.
ANSWERED_COLUMNS = ("case_id", *STEP_COLUMNS)
_NAMES = CASE_COLUMNS.split(",")
Folded = tuple[list[list[Any]], list[list[Any]]]


def rebuilt_columns(states: Sequence[CaseState]) -> Folded:
    """The read-model rows of these states, and their answered steps, as columns."""
    rows = [case_row(state) for state in states]
    cases = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in _NAMES]
    ids: list[str] = []
    steps: list[str] = []
    answered: list[datetime] = []
    due: list[datetime] = []
    for state in states:
        names, at, due_at = step_arrays(state.done)
        ids += [state.case_id] * len(names)
        steps += names
        answered += at
        due += due_at
    return cases, [ids, steps, answered, due]


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """A chunk's events and states are thousands of small objects that all live until the
    chunk is folded, and none of them is in a reference cycle (reference counting frees
    them): the cycle collector would only rescan them, again and again, as they pile up,
    which made parsing three times slower."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def fold_cases(case_ids: list[str], data: str) -> Folded:
    """The read-model rows and answered steps of whole cases (`rebuilt_columns`): `data` is a
    JSON array of their events in (case, seq) order, `case_ids` the case of each event. Runs
    in a worker process: plain values in and out."""
    with _without_cycle_collector():
        return rebuilt_columns(_fold(case_ids, data))


def _fold(case_ids: list[str], data: str) -> list[CaseState]:
    states: list[CaseState] = []
    current: str | None = None
    state: CaseState | None = None
    for case_id, event in zip(case_ids, EVENTS_ADAPTER.validate_json(data), strict=True):
        if case_id != current:
            if state is not None:
                states.append(state)
            current, state = case_id, None
        state = evolve(state, event)
    if state is not None:
        states.append(state)
    return states


def _serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """A worker process's loop: a chunk in, its case rows (or why not) out, until EOF."""
    while header := requests.read(8):
        ids, data = pickle.loads(requests.read(int.from_bytes(header, "little")))
        try:
            reply: tuple[bool, Any] = (True, fold_cases(ids, data))
        except Exception as err:  # the parent raises it; this process keeps serving
            reply = (False, f"{type(err).__name__}: {err}")
        body = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(len(body).to_bytes(8, "little") + body)
        replies.flush()


def main(pipes: list[str]) -> None:
    """One folder per `IN,OUT` pair of inherited pipe descriptors (requests, replies), all
    but one forked from this process once it has imported the domain: a fork of a process
    without threads takes a millisecond, the imports ~0.3 s of CPU each. Returns when every
    folder has seen the end of its requests."""
    pairs = [(int(r), int(w)) for r, w in (pair.split(",") for pair in pipes)]
    forked: list[int] = []
    for n, (requests, replies) in enumerate(pairs[:-1]):
        if pid := os.fork():
            forked.append(pid)  # its pipes are the child's alone: its death must show as EOF
            os.close(requests)
            os.close(replies)
            continue
        for later in pairs[n + 1 :]:  # the ones before are closed already
            os.close(later[0])
            os.close(later[1])
        code = 1  # the parent went away mid-chunk (a broken pipe): nobody to tell
        try:
            _serve_pipes(requests, replies)
            code = 0
        finally:
            os._exit(code)  # a forked child: none of the parent's exit handlers run twice
    _serve_pipes(*pairs[-1])
    for pid in forked:
        os.waitpid(pid, 0)


def _serve_pipes(requests: int, replies: int) -> None:
    with open(requests, "rb") as r, open(replies, "wb") as w:
        _serve(r, w)


if __name__ == "__main__":
    main(sys.argv[1:])

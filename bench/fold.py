"""The rebuild's fold alone, in this process: microseconds per event to parse the events,
fold them and make the case rows, for the benchmark's rebuild cases (`bench.run.rebuild_rows`).

    .venv/bin/python -m bench.fold [events, 20000] [repeats, 9]

For an A/B of a change to the fold: `git worktree add /tmp/base HEAD~1`, then run this in
both trees in turns, three or four times each (`cd` into the tree: the current directory's
modules come first). The machine drifts by 10-20 % within minutes, so compare the minima of
alternated runs, never two single runs.
"""

import gc
import sys
import time
from collections.abc import Callable
from itertools import groupby
from operator import itemgetter
from typing import Any

from bench.run import rebuild_rows
from domain.decider import fold
from domain.events import EVENTS_ADAPTER
from domain.model import CaseState
from store.folding import fold_cases, rebuilt_columns


def _timed(f: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    gc.disable()  # as fold_cases runs (store/folding.py)
    try:
        start = time.process_time()
        out = f(*args)
        return time.process_time() - start, out
    finally:
        gc.enable()


def measure(events: int, repeats: int) -> dict[str, float]:
    """The best of `repeats` runs of each part, in microseconds per event."""
    rows = list(rebuild_rows(events))
    case_ids = [r[0] for r in rows]
    data = "[" + ",".join(r[4] for r in rows) + "]"

    def states(parsed: list[Any]) -> list[CaseState | None]:
        pairs = zip(case_ids, parsed, strict=True)
        return [fold(e for _, e in case) for _, case in groupby(pairs, key=itemgetter(0))]

    best = {"parse": 1e9, "evolve": 1e9, "row": 1e9, "fold_cases": 1e9}
    for _ in range(repeats):
        parse, parsed = _timed(EVENTS_ADAPTER.validate_json, data)
        evolving, folded = _timed(states, parsed)
        row, _ = _timed(lambda done: rebuilt_columns([s for s in done if s]), folded)
        whole, _ = _timed(fold_cases, case_ids, data)
        for part, seconds in (("parse", parse), ("evolve", evolving), ("row", row)):
            best[part] = min(best[part], seconds)
        best["fold_cases"] = min(best["fold_cases"], whole)
    return {part: seconds * 1e6 / events for part, seconds in best.items()}


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    us = measure(events, repeats)
    print(
        f"{events} events, best of {repeats}, us per event: parse {us['parse']:.1f}, "
        f"evolve {us['evolve']:.1f}, rows {us['row']:.1f}; fold_cases {us['fold_cases']:.1f}"
    )


if __name__ == "__main__":
    main()

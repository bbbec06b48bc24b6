"""Compile the workflow sandbox's own code snippets once, instead of on every call.

Why it exists: the worker runs every case in temporalio's workflow sandbox, which runs a
two-line snippet of its own with `exec(text)` for every activation and every payload it
converts, and `exec` of a text compiles it again each time. That compiling was 15-25 % of
the CPU a replay takes (recorded cases replayed with and without this), and a worker
replays whenever a case leaves its cache. The texts are the SDK's constants, a few per
workflow class, so a small cache holds them all.

What it patches: `temporalio.worker.workflow_sandbox._runner`, a private module of
temporalio (read against 1.35). `compile_snippets_once` sets a module global `exec` on it,
which shadows the builtin for that module alone; `_exec` passes the same code (compiled
once), globals and locals on to the builtin. What runs, and in which namespace, does not
change; nothing else in the process is touched.

What breaks if temporalio changes it:
- `_runner` moved or renamed: the import below fails and the worker does not start (follow
  the module, or drop the call in worker.py: only speed is lost without it);
- the runner no longer runs its snippets through `exec` with a text: the patch does nothing,
  silently, and replays are as slow as without it;
- it calls `exec` with arguments `_exec` does not take: every workflow task fails.

How a test guards it: tests/workflows/test_sandbox.py replays a recorded case with the patch
on and checks that the cache was used (a few snippets, many more hits than compiles), which
fails in each case above; and that a snippet runs in the namespace it is given.
"""

import functools
from types import CodeType
from typing import Any

from temporalio.worker.workflow_sandbox import _runner


@functools.lru_cache(maxsize=64)
def compiled(code: str) -> CodeType:
    return compile(code, "<string>", "exec")  # the name exec(text) gives it


def _exec(
    code: str | CodeType,
    globals_: dict[str, Any] | None = None,
    locals_: dict[str, Any] | None = None,
) -> None:
    exec(compiled(code) if isinstance(code, str) else code, globals_, locals_)


def compile_snippets_once() -> None:
    """From now on the sandbox runner's `exec` (a module global shadows the builtin, for
    that module alone) compiles each snippet once. Idempotent."""
    setattr(_runner, "exec", _exec)  # noqa: B010 (mypy: the module declares no such name)

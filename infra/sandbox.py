"""Two fixes of the workflow sandbox's own overhead: its code snippets compiled once, and
the payload's serialization context asked of the case without entering the sandbox.

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

**The serialization context** (`ask_contexts_directly`). For every payload field of every
activation and completion, three times on the way in and once on the way out, the SDK asks
the case which context the payload belongs to (the workflow's, or one activity's: the codec
seals each shop's payloads under its key). In the sandbox that question is a snippet run
with the sandbox's import overrides applied around it: 4.5 % of a loaded worker's CPU
samples (2026-12-07, a loaded walk profiled), for an answer that is a dataclass built from
the case's workflow id and its pending activity. The patch asks the case's instance inside
the sandbox (`InSandbox.get_serialization_context`, what the snippet calls) directly: the
same method of the same object, only not wrapped in the import overrides, which it does not
need (it imports nothing and reads only the instance's own fields). Before the instance
exists it falls back to the SDK's path.

What breaks if temporalio changes it: `_Instance.get_serialization_context` renamed, or
the instance no longer kept as `__temporal_in_sandbox` in the sandbox's namespace: the
worker falls back to the SDK's path (slower, correct); the in-sandbox method renamed or
given other arguments: the call fails, every workflow task fails, and so does the test,
which replays a case of another shop (its payloads sealed under that shop's key) with it on.
"""

import functools
from types import CodeType
from typing import Any

from temporalio.converter import SerializationContext
from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowRunner, _command_aware_visitor
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, _runner

_SDK_CONTEXT = _runner._Instance.get_serialization_context


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


def _context(
    self: _runner._Instance, command_info: _command_aware_visitor.CommandInfo | None
) -> SerializationContext | None:
    in_sandbox: Any = self.globals_and_locals.get("__temporal_in_sandbox")
    if in_sandbox is None:  # not made yet (or the SDK keeps it elsewhere): its own path
        return _SDK_CONTEXT(self, command_info)
    context: SerializationContext | None = in_sandbox.get_serialization_context(command_info)
    return context


def ask_contexts_directly() -> None:
    """From now on the sandbox runner answers which context a payload belongs to without
    entering the sandbox (see the module's doc). Idempotent."""
    setattr(_runner._Instance, "get_serialization_context", _context)  # noqa: B010


def workflow_runner(sandboxed: bool) -> WorkflowRunner:
    """Cases in Temporal's sandbox, or on the module the worker imported, as Temporal's own
    UnsandboxedWorkflowRunner runs them (COMPLAINTS_WORKFLOW_SANDBOX; off by default)."""
    return SandboxedWorkflowRunner() if sandboxed else UnsandboxedWorkflowRunner()

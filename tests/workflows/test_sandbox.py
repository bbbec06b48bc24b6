"""The workflow sandbox compiles its own snippets once (infra/sandbox.py), and a recorded
case replays as before (every replay test after this one runs with it too)."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import _runner
from temporalio.worker.workflow_sandbox._in_sandbox import InSandbox

from infra import sandbox
from tests.conftest import TEST_CONVERTER
from workflows.complaint import ComplaintWorkflow

HISTORY = Path(__file__).parent / "histories" / "v6_full_walk.json"


async def test_a_recorded_case_replays_with_each_snippet_compiled_once() -> None:
    sandbox.compile_snippets_once()
    sandbox.compile_snippets_once()  # idempotent
    assert getattr(_runner, "exec") is sandbox._exec  # noqa: B009 (the SDK still calls exec)
    sandbox.compiled.cache_clear()
    history = WorkflowHistory.from_json("case", HISTORY.read_text())
    replayer = Replayer(workflows=[ComplaintWorkflow], data_converter=TEST_CONVERTER)
    for _ in range(2):
        await replayer.replay_workflow(history)
    used = sandbox.compiled.cache_info()
    assert 3 <= used.currsize <= 8  # the SDK's few snippets, not one per call
    assert used.hits > 20 * used.misses


def test_what_runs_in_the_namespace_it_is_given_is_unchanged() -> None:
    namespace: dict[str, object] = {"x": 2}
    sandbox._exec("y = x * 21\n", namespace, namespace)
    assert namespace["y"] == 42
    with pytest.raises(NameError):
        sandbox._exec("z = nowhere\n", {}, {})


async def test_a_payloads_context_is_asked_of_the_case_without_entering_the_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[object] = []
    fallbacks: list[object] = []
    sdk_path = sandbox._SDK_CONTEXT
    original = InSandbox.get_serialization_context

    def counted(self: InSandbox, command_info: object) -> object:
        asked.append(command_info)
        return original(self, command_info)  # type: ignore[arg-type]

    def fallback(self: _runner._Instance, command_info: object) -> object:
        fallbacks.append(command_info)
        return sdk_path(self, command_info)  # type: ignore[arg-type]

    monkeypatch.setattr(InSandbox, "get_serialization_context", counted)
    monkeypatch.setattr(sandbox, "_SDK_CONTEXT", fallback)
    sandbox.ask_contexts_directly()
    sandbox.ask_contexts_directly()  # idempotent
    history = WorkflowHistory.from_json("case", HISTORY.read_text())
    replayer = Replayer(workflows=[ComplaintWorkflow], data_converter=TEST_CONVERTER)
    await replayer.replay_workflow(history)
    assert len(asked) > 20  # every payload field of the walk, straight from the case
    assert fallbacks == []  # never through the sandbox's own (slower) path

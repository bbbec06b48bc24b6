"""Recorded histories of whole cases replay on the current workflow code.

A change that would break running cases (a command added, removed or reordered without
`workflow.patched`) fails here instead of in production.
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import TEST_CONVERTER
from workflows.complaint import ComplaintWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_the_recorded_histories_are_there() -> None:
    names = {p.stem.split("_", 1)[1] for p in HISTORIES}
    assert {"full_walk", "escalated_then_walked"} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_recorded_case_replays_on_current_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[ComplaintWorkflow], data_converter=TEST_CONVERTER)
    await replayer.replay_workflow(history)

"""Lengths of time as people say them, in the Web UI's rules and wherever a target is shown."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.commands import OpenCase
from domain.decider import decide
from domain.model import CarePolicy, ResponseTargets
from domain.wording import duration
from tests.helpers import open_command

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "en", "ko"),
    [
        (timedelta(minutes=2), "2 minutes", "2분"),
        (timedelta(minutes=1), "1 minute", "1분"),
        (timedelta(hours=24), "24 hours", "24시간"),
        (timedelta(hours=1), "1 hour", "1시간"),
        (timedelta(hours=4, minutes=30), "4 hours 30 minutes", "4시간 30분"),
        (timedelta(hours=47, minutes=59), "47 hours 59 minutes", "47시간 59분"),
        (timedelta(hours=48), "2 days", "2일"),
        (timedelta(days=2, hours=12), "2 days 12 hours", "2일 12시간"),
        (timedelta(days=14), "14 days", "14일"),
        (timedelta(seconds=30), "30 seconds", "30초"),
        (timedelta(seconds=1), "1 second", "1초"),
        (timedelta(minutes=1, seconds=5), "1 minute 5 seconds", "1분 5초"),
        (timedelta(0), "0 seconds", "0초"),
    ],
)
def test_a_length_of_time_in_words(delta: timedelta, en: str, ko: str) -> None:
    assert duration(delta, "en") == en
    assert duration(delta, "ko") == ko


def test_an_opening_without_rules_runs_on_the_methods_defaults() -> None:
    command = open_command("c-defaults")
    bare = OpenCase.model_validate(command.model_dump() | {"targets": None, "care": None})
    [opened] = decide(bare, None, NOW)
    assert opened.targets == ResponseTargets() and opened.care == CarePolicy()
    given = ResponseTargets(target=timedelta(minutes=2))
    [kept] = decide(bare.model_copy(update={"targets": given}), None, NOW)
    assert kept.targets == given

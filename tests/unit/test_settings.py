from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.model import Motive
from infra.settings import Settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("4h30m", timedelta(hours=4, minutes=30)),
        ("2d", timedelta(days=2)),
        ("45s", timedelta(seconds=45)),
        ("90", timedelta(seconds=90)),
        ("PT4H", timedelta(hours=4)),
    ],
)
def test_response_target_reads_the_ways_people_write_durations(
    monkeypatch: pytest.MonkeyPatch, text: str, expected: timedelta
) -> None:
    monkeypatch.setenv("COMPLAINTS_RESPONSE_TARGET", text)
    assert Settings().response_target == expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("COMPLAINTS_RESPONSE_TARGET", "soon", "is not a duration"),
        ("COMPLAINTS_RESPONSE_TARGET", "0s", "longer than zero"),
        ("COMPLAINTS_RESPONSE_TARGET", "-PT1H", "not a duration"),
        ("COMPLAINTS_WARN_FRACTION", "1.5", "less than 1"),
        ("COMPLAINTS_RESPONSE_TARGETS", '{"greed": "4h"}', "greed"),
        ("COMPLAINTS_LANGUAGE", "fr", "'ko' or 'en'"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_per_motive_targets_and_temporal_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTS_RESPONSE_TARGETS", '{"protect_others": "4h"}')
    monkeypatch.setenv("COMPLAINTS_ESCALATION_CONTACTS", '["manager", "owner", "head office"]')
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.example:7233")
    settings = Settings()
    assert settings.temporal_address == "temporal.example:7233"
    assert settings.targets_for(Motive.PROTECT_OTHERS).target == timedelta(hours=4)
    assert settings.targets_for(Motive.ANGER).target == timedelta(hours=24)
    assert settings.targets_for(Motive.ANGER).max_escalation_level == 3

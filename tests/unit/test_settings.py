from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.model import Motive, Step
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
        ("COMPLAINTS_TARGET_MODE", "office", "write wall, business, or JSON"),
        ("COMPLAINTS_TARGET_MODE", '{"apologise": "wall"}', "'apologise' is not a step"),
        ("COMPLAINTS_TARGET_MODE", '{"anger": "night"}', "anger: 'night' is not wall"),
        ("COMPLAINTS_TARGET_MODE", '["wall"]', "a JSON object"),
        ("COMPLAINTS_TARGET_MODE", "wall\u0007", "write wall, business, or JSON"),
        ("COMPLAINTS_REVIEW_COOL_OFF", "0h", "longer than zero"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("COMPLAINTS_OPENING_HOURS", "xx", "COMPLAINTS_OPENING_HOURS: opening hours are not JSON"),
        ("COMPLAINTS_CLOSED_EVERY", "blue", "COMPLAINTS_CLOSED_EVERY: closed every: 'blue'"),
        ("COMPLAINTS_HOLIDAYS", "K\x01R", "COMPLAINTS_HOLIDAYS: no public holidays known"),
        ("COMPLAINTS_QUIET_HOURS", "late", "COMPLAINTS_QUIET_HOURS: 'late' is not a window"),
        ("COMPLAINTS_CLOSED_EVERY", "mon;tue;wed;thu;fri", "COMPLAINTS_CLOSED_EVERY: calendar: a"),
    ],
)
def test_a_bad_calendar_setting_is_named_by_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, line: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    said = Settings.explain(refused.value)
    assert said.startswith(line), said
    assert "\n" not in said


def test_per_motive_targets_and_temporal_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTS_RESPONSE_TARGETS", '{"protect_others": "4h"}')
    monkeypatch.setenv("COMPLAINTS_ESCALATION_CONTACTS", '["manager", "owner", "head office"]')
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.example:7233")
    settings = Settings()
    assert settings.temporal_address == "temporal.example:7233"
    assert settings.targets_for(Motive.PROTECT_OTHERS).target == timedelta(hours=4)
    assert settings.targets_for(Motive.ANGER).target == timedelta(hours=24)
    assert settings.targets_for(Motive.ANGER).max_escalation_level == 3


def test_target_modes_per_step_and_motive_the_most_specific_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "COMPLAINTS_TARGET_MODE",
        '{"default": "business", "apologize": "wall", "anger": "wall",'
        ' "anger.offer_resolution": "business"}',
    )
    settings = Settings()
    assert settings.default_mode == "business"
    assert settings.modes_for(Motive.COMPENSATION) == ("business", {Step.APOLOGIZE: "wall"})
    mode, steps = settings.modes_for(Motive.ANGER)
    assert (mode, steps) == ("wall", {Step.OFFER_RESOLUTION: "business"})
    targets = settings.targets_for(Motive.ANGER)
    assert targets.mode_for(Step.OFFER_RESOLUTION) == "business"
    assert targets.mode_for(Step.EMPATHIZE) == "wall"

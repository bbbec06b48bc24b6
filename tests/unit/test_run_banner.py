"""`make run`'s banner says when the customer's path cannot be seen now (quiet hours hold
every customer message) and how to start so that it can; the settings it names do that."""

from datetime import UTC, datetime, timedelta

import pytest

import stack
from infra.settings import Settings

NIGHT = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)  # 23:30 in Seoul
DAY = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)  # 14:00 in Seoul


def test_in_quiet_hours_the_banner_says_until_when_and_how_to_try_the_path_now() -> None:
    settings = Settings(messages="standin", quiet_hours="21:00-09:00", timezone="Asia/Seoul")
    banner = stack._banner(settings, NIGHT)
    (line,) = [line for line in banner.splitlines() if "quiet hours" in line]
    assert line.strip() == (
        "customer messages wait until 09:00 KST (quiet hours); to try the path now: "
        "COMPLAINTS_QUIET_HOURS= COMPLAINTS_FOLLOW_UP_AFTER=2m make run"
    )
    assert (
        "Customer messages: stand-in provider"
        in banner.splitlines()[banner.splitlines().index(line) - 1]
    ), "right under the messages line"


@pytest.mark.parametrize(
    ("settings", "now"),
    [
        (Settings(messages="standin", quiet_hours="21:00-09:00"), DAY),
        (Settings(messages="standin", quiet_hours=""), NIGHT),
        (Settings(messages="off", quiet_hours="21:00-09:00"), NIGHT),
    ],
    ids=["by day", "no quiet hours", "no customer messages"],
)
def test_otherwise_the_banner_says_nothing_of_it(settings: Settings, now: datetime) -> None:
    assert stack.customer_path_hint(settings, now) is None
    assert "quiet hours" not in stack._banner(settings, now)


def test_the_settings_the_hint_names_send_at_night_and_ask_for_the_score_in_two_minutes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for assignment in stack.TRY_NOW.removesuffix(" make run").split():
        name, _, value = assignment.partition("=")
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("COMPLAINTS_MESSAGES", raising=False)
    settings = stack.with_messages(Settings.load())
    policy = settings.care_policy()
    assert settings.messages == "standin"
    assert policy.quiet_hours is None, "nothing held at night"
    assert policy.follow_up_after == timedelta(minutes=2), "the rating link two minutes on"
    assert stack.customer_path_hint(settings, NIGHT) is None

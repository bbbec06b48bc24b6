"""The rulebook's keys: each rule written back as its environment variable takes it reads
back as the same value, and a set of rules that contradicts itself is refused in one line."""

import pytest

from infra.rulebook import RULE_KEYS, Effective, apply, check_key, text_of
from infra.settings import Settings


def test_every_rule_reads_back_as_written() -> None:
    settings = Settings()
    written = {key: text_of(settings, key) for key in RULE_KEYS if text_of(settings, key)}
    again = apply(settings, written)
    for key in written:
        assert getattr(again, key) == getattr(settings, key), key


def test_rules_go_over_the_environment() -> None:
    changed = apply(Settings(), {"response_target": "48h", "closed_every": "2nd,4th mon"})
    assert text_of(changed, "response_target") == "2d"
    # Targets per motive as the owner writes them, not ISO 8601 (PT4H).
    assert text_of(changed, "first_response_targets") == '{"protect_others": "4h"}'
    per_motive = apply(Settings(), {"response_targets": '{"anger": "90m"}'})
    assert text_of(per_motive, "response_targets") == '{"anger": "1h30m"}'
    assert changed.calendar().closed_every[0].weeks == (2, 4)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"opening_hours": '{"mon": "11:00-15:00,14:00-22:00"}'}, "overlap or are out of order"),
        ({"closed_every": "mon;tue;wed;thu;fri"}, "at least one weekday"),
        ({"warn_fraction": "1.5"}, "warn_fraction"),
        ({"remedy_terms": "{"}, "remedy_terms: not JSON"),
    ],
)
def test_a_contradictory_rulebook_is_refused_in_one_line(
    rules: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        apply(Settings(), rules)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_rule_is_named_as_its_environment_variable() -> None:
    assert check_key("COMPLAINTS_OPENING_HOURS") == "opening_hours"
    with pytest.raises(ValueError, match="'webhook_url' is not a rule"):
        check_key("webhook_url")


async def test_the_effective_rules_are_read_at_most_once_a_ttl_and_outlast_a_failed_read() -> None:
    stored: dict[str, str] = {"language": "en"}
    reads, now = [], [0.0]

    async def read() -> dict[str, str]:
        reads.append(now[0])
        if stored.get("fail"):
            raise OSError("PostgreSQL away")
        return dict(stored)

    effective = Effective(Settings(language="ko"), read, ttl=5.0, clock=lambda: now[0])
    assert (await effective.get()).language == "en"
    stored["language"] = "ko"
    now[0] = 4.9
    assert (await effective.get()).language == "en", "within the TTL: no read"
    assert reads == [0.0]
    now[0] = 5.0
    assert (await effective.get()).language == "ko"
    stored["fail"] = "yes"
    now[0] = 11.0
    assert (await effective.get()).language == "ko", "the rules last read"
    effective.forget()
    assert len(reads) == 3
    assert (await effective.get()).language == "ko" and len(reads) == 4
    assert (await Effective(Settings(language="ko")).get()).language == "ko"  # no database

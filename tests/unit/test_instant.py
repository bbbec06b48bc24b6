"""Instants read back from stored JSON (events, states, payloads): the standard library's
own time zones, so a replay or a rebuild compares them at C speed, with the very values
and dumps pydantic's own reading gives."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.commands import Apologize, Command
from domain.decider import fold
from domain.events import EVENTS_ADAPTER, Apologized, Event
from domain.model import CaseState, Instant
from tests.helpers import open_command, recorded

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
OURS = TypeAdapter(Instant)
PYDANTIC = TypeAdapter(datetime)
WRITTEN = [
    "2030-01-01T00:00:00Z",
    "2030-01-01T00:00:00.250Z",
    "2030-01-01T00:00:00+00:00",
    "2030-01-01T09:30:00+09:00",
    "2030-06-30T23:59:59.999999-04:00",
]


def stored_walk() -> tuple[list[Event], CaseState]:
    """A case opened and apologized to, its events dumped and read back as the store does."""
    walk: list[tuple[Command, datetime]] = [
        (open_command("case-instants"), T0),
        (Apologize(what="Sorry"), T0 + timedelta(hours=1)),
    ]
    events = [r.event for r in recorded("case-instants", walk)]
    read = EVENTS_ADAPTER.validate_json(EVENTS_ADAPTER.dump_json(events))
    folded = fold(read)
    assert folded is not None
    return list(read), CaseState.model_validate_json(folded.model_dump_json())


def test_instants_read_from_stored_json_are_in_the_standard_utc() -> None:
    events, state = stored_walk()
    assert all(event.at.tzinfo is UTC for event in events)
    assert state.opened_at.tzinfo is UTC
    assert state.step_started_at.tzinfo is UTC
    assert state.response_due_at is not None and state.response_due_at.tzinfo is UTC
    assert [d.due_at.tzinfo for d in state.done] == [UTC]


@pytest.mark.parametrize("text", WRITTEN)
def test_an_instant_reads_as_the_same_value_and_dumps_as_pydantic_reads_it(text: str) -> None:
    ours, theirs = OURS.validate_json(f'"{text}"'), PYDANTIC.validate_json(f'"{text}"')
    assert ours == theirs
    assert ours.utcoffset() == theirs.utcoffset()
    assert type(ours.tzinfo) is timezone  # the standard library's, not pydantic's TzInfo
    assert OURS.dump_json(ours) == PYDANTIC.dump_json(theirs)
    assert OURS.validate_python(text) == theirs  # from Python values (payloads) the same


def test_an_offset_other_than_utc_is_kept() -> None:
    read = OURS.validate_json('"2030-01-01T09:30:00+09:00"')
    assert read.utcoffset() == timedelta(hours=9)
    assert read == datetime(2030, 1, 1, 0, 30, tzinfo=UTC)


def test_text_that_is_no_instant_is_refused_as_pydantic_refuses_it() -> None:
    """Python 3.11's fromisoformat lets some of these through (a NUL, a tab, the hour alone,
    the basic format): they must be refused all the same."""
    for text in (
        "yesterday",
        "2030-13-01T00:00:00Z",
        "",
        "2030-01-01T00:00:00Z\x00",
        "2030-01-01T00:00:00\x00Z",
        "2030-01-01T00:00:00\tZ",
        "2030-01-01T00Z",
        "20300101T000000Z",
        "２０３０-01-01T00:00:00Z",
    ):
        with pytest.raises(ValidationError) as ours:
            OURS.validate_python(text)
        with pytest.raises(ValidationError) as theirs:
            PYDANTIC.validate_python(text)
        assert ours.value.errors()[0]["type"] == theirs.value.errors()[0]["type"]


def test_an_optional_instant_refuses_nonsense_instead_of_reading_none() -> None:
    with pytest.raises(ValidationError, match="post_from"):
        Apologized.model_validate({"at": "2030-01-01T00:00:00Z", "what": "x", "post_from": "soon"})


def test_naive_text_and_datetimes_are_read_as_pydantic_reads_them() -> None:
    naive = "2030-01-01T00:00:00"
    assert OURS.validate_python(naive) == PYDANTIC.validate_python(naive)
    assert OURS.validate_python(naive).tzinfo is None
    assert OURS.validate_python(T0) is T0

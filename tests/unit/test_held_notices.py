"""What a held notice still means when its time comes, and the small views of a case."""

from datetime import UTC, datetime, time, timedelta

import pytest

from domain.calendar import BusinessCalendar, OpeningHours
from domain.decider import decide, fold
from domain.model import CarePolicy, Step
from domain.notifications import Notice, held_until, outdated
from domain.summary import summarize
from domain.wording import stamp
from tests.helpers import open_command

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "data", "status", "stage", "dropped"),
    [
        # a reminder about the step still due goes out; about one answered since, not
        ("response_due_soon", {"step": "empathize"}, "open", "empathize", False),
        ("response_due_soon", {"step": "empathize"}, "open", "analyze_cause", True),
        ("escalated", {"step": "apologize"}, "escalated", "apologize", False),
        ("escalated", {"step": "apologize"}, "withdrawn", "apologize", True),
        ("escalated", {"step": "apologize"}, "closed", "apologize", True),
        ("follow_up_due", {}, "resolved", "follow_up", False),
        ("follow_up_due", {}, "closed", "done", True),
        ("customer_wait_exceeded", {}, "awaiting_customer", "customer_response", False),
        ("customer_wait_exceeded", {}, "open", "show_prevention", True),
        # news, not reminders: always sent
        ("case_reopened", {"score": 1}, "closed", "done", False),
        ("reply_may_be_posted", {}, "withdrawn", "done", False),
    ],
)
def test_a_held_reminder_the_case_moved_past_is_dropped(
    kind: str, data: dict[str, str | int], status: str, stage: str, dropped: bool
) -> None:
    assert outdated(kind, data, status, stage) is dropped


def test_only_the_top_escalation_level_wakes_an_owner_who_asked() -> None:
    one_level = open_command("c0ffee")
    calendar = BusinessCalendar(
        zone="Asia/Seoul", hours=(OpeningHours(opens=time(10), closes=time(19)),) * 7
    )
    command = one_level.model_copy(
        update={
            "targets": one_level.targets.model_copy(
                update={"calendar": calendar, "max_escalation_level": 1}
            ),
            "care": CarePolicy(hold_staff_notices=True, owner_at_night=True),
        }
    )
    state = fold(decide(command, None, T0))
    assert state is not None
    night = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 00:00 in Seoul
    top = Notice(
        kind="escalated", recipient="owner", case_id="c0ffee", message="m", data={"level": 1}
    )
    unlevelled = top.model_copy(update={"data": {}})
    assert held_until(top, state, night) is None
    assert held_until(unlevelled, state, night) is not None  # no level: not the owner's


def test_an_action_answers_with_where_the_case_stands_and_nothing_of_the_customer() -> None:
    state = fold(decide(open_command("c0ffee"), None, T0))
    assert state is not None
    summary = summarize(state, ("case_opened",))
    assert summary.model_dump() == {
        "case_id": "c0ffee",
        "version": 1,
        "status": "open",
        "stage": "apologize",
        "escalation_level": 0,
        "due_at": T0 + timedelta(hours=24),
        "recorded": ("case_opened",),
    }
    assert summarize(state).recorded == ()
    assert summary.stage == Step.APOLOGIZE


def test_staff_screens_show_the_time_in_the_zone_named() -> None:
    assert stamp(T0, "Asia/Seoul") == "2026-11-20 18:00 KST"
    assert stamp(T0, "Europe/Berlin") == "2026-11-20 10:00 CET"

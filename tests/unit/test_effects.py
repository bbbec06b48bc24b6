"""What an event causes: the one answer the workflow and the event store both use."""

from datetime import UTC, datetime, time

from domain.calendar import QuietHours
from domain.decider import decide, evolve, fold
from domain.effects import DEFAULT_VOICE, Voice, effects, may_go_out
from domain.events import CaseReopened, Escalated, ImprovementReported
from domain.model import CarePolicy, CaseState, Step
from domain.notifications import held_until, notices_for
from tests.helpers import open_command

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)  # 09:00 in Seoul
NIGHT = datetime(2026, 11, 20, 13, 30, tzinfo=UTC)  # 22:30 in Seoul
NEXT_MORNING = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # 09:00 in Seoul
NOON = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
SHOP_QUIET = QuietHours(start=time(21), end=time(9), zone="Asia/Seoul")


def opened(care: CarePolicy | None = None) -> CaseState:
    command = open_command("c0ffee")
    if care is not None:
        command = command.model_copy(update={"care": care})
    state = fold(decide(command, None, T0))
    assert state is not None
    return state


def test_the_state_and_notices_are_the_fold_and_the_voice_s_wording() -> None:
    state = opened()
    event = Escalated(at=NOON, step=Step.APOLOGIZE, level=2, missed_due_at=NOON)
    voice = Voice(language="en", contacts=("lead", "boss"), zone="Europe/London")
    after, [(notice, not_before)] = effects(state, event, voice)
    assert after == evolve(state, event)
    assert [notice] == notices_for(event, after, "en", ("lead", "boss"), "Europe/London")
    assert notice.recipient == "boss" and notice.data["due"] == "2026-11-20T03:00+00:00"
    assert not_before is None


def test_without_a_voice_notices_are_korean_to_the_default_contacts_in_seoul_time() -> None:
    state = opened()
    event = Escalated(at=NOON, step=Step.APOLOGIZE, level=1, missed_due_at=NOON)
    assert effects(state, event) == effects(state, event, DEFAULT_VOICE)
    _, [(notice, _)] = effects(state, event)
    assert notice.recipient == "manager" and notice.data["due"] == "2026-11-20T12:00+09:00"
    assert "단계" in notice.message


def test_an_event_without_notices_only_moves_the_state() -> None:
    event = decide(open_command("c0ffee"), None, T0)[0]
    assert effects(None, event, Voice(quiet_hours=SHOP_QUIET)) == (evolve(None, event), [])


def test_a_case_opened_before_quiet_hours_keeps_the_voice_s_for_its_customer() -> None:
    state = opened()  # its rules hold no quiet hours
    report = ImprovementReported(at=NIGHT, measure="Allergens on the menu")
    voice = Voice(language="en", quiet_hours=SHOP_QUIET)
    _, [(notice, not_before)] = effects(state, report, voice)
    assert notice.recipient == "customer" and not_before == NEXT_MORNING
    assert effects(state, report.model_copy(update={"at": NOON}), voice)[1][0].not_before is None
    assert effects(state, report)[1][0].not_before is None  # no voice: at once


def test_the_old_case_fallback_never_holds_staff() -> None:
    _, [(notice, not_before)] = effects(
        opened(), CaseReopened(at=NIGHT, score=1), Voice(quiet_hours=SHOP_QUIET)
    )
    assert notice.recipient == "staff" and not_before is None


def test_a_case_with_its_own_quiet_hours_keeps_them_over_the_voice_s() -> None:
    own = QuietHours(start=time(23), end=time(8), zone="Asia/Seoul")
    state = opened(CarePolicy(quiet_hours=own))
    voice = Voice(quiet_hours=SHOP_QUIET)
    report = ImprovementReported(at=NIGHT, measure="Allergens on the menu")
    assert effects(state, report, voice)[1][0].not_before is None  # 22:30: not quiet for it
    late = report.model_copy(update={"at": NIGHT.replace(hour=14, minute=30)})  # 23:30
    [(notice, not_before)] = effects(state, late, voice)[1]
    assert not_before == datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # 08:00 in Seoul
    assert not_before == held_until(notice, evolve(state, late), late.at)
    assert may_go_out(notice, evolve(state, late), late.at) == not_before


def test_a_case_s_own_language_and_contacts_word_its_notices_whatever_the_voice() -> None:
    """The workflow (no voice) and the event store (the worker's voice, which may have
    changed since) work out the very same notices for a case whose rules keep them."""
    state = opened(CarePolicy(language="en", contacts=("lead", "boss")))
    event = Escalated(at=NOON, step=Step.APOLOGIZE, level=2, missed_due_at=NOON)
    in_workflow = effects(state, event)
    in_store = effects(state, event, Voice(language="ko", contacts=("팀장", "사장")))
    assert in_workflow == in_store
    _, [(notice, _)] = in_workflow
    assert notice.recipient == "boss" and notice.message.startswith("Case c0ffee is overdue")

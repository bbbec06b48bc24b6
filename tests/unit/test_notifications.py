from datetime import UTC, datetime, timedelta

import pytest

from domain.commands import Apologize, CheckClock
from domain.decider import decide, fold
from domain.notifications import notices_for
from domain.policy import escalation_contact
from tests.helpers import open_command

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_notices_name_the_case_and_step_but_never_the_customer(language: str) -> None:
    state = fold(decide(open_command("c0ffee"), None, T0))
    [breach] = decide(CheckClock(), state, T0 + timedelta(hours=25))
    after = fold([breach], state)
    [notice] = notices_for(breach, after, language, ("manager", "owner"))
    assert (notice.kind, notice.recipient, notice.data["level"]) == ("escalated", "manager", 1)
    assert "c0ffee" in notice.message and "apologize" in notice.message
    assert "Kim" not in notice.message and "1234" not in notice.message
    assert notices_for(decide(Apologize(what="x"), after, T0)[0], after) == []


def test_escalation_contacts_by_level_stay_at_the_last() -> None:
    contacts = ("manager", "owner")
    assert [escalation_contact(n, contacts) for n in (1, 2, 3)] == ["manager", "owner", "owner"]
    with pytest.raises(ValueError):
        escalation_contact(0, contacts)

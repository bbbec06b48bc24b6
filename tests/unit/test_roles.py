"""Who may do what: one table both doors obey (app.identity)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app import identity
from app.identity import Actor, Role, require
from app.refusals import Forbidden
from app.times import in_zone

ALLOWED = {
    identity.OPEN: {"intake", "staff", "manager", "owner"},
    identity.WALK: {"staff", "manager", "owner"},
    identity.READ: {"staff", "manager", "owner"},
    identity.WITHDRAW: {"manager", "owner"},
    identity.REPORT: {"manager", "owner"},
    identity.OVERRIDE: {"owner"},
    identity.ANSWER: {"staff", "manager", "owner", "customer"},
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_what_the_table_says_and_nothing_more(role: Role) -> None:
    actor = Actor("Kim", role)
    for permission, roles in ALLOWED.items():
        if role.value in roles:
            require(actor, permission)
        else:
            with pytest.raises(Forbidden, match=f"^Kim is {role.value}: only .+ may "):
                require(actor, permission)


def test_a_token_is_random_and_only_its_hash_is_kept() -> None:
    a, b = identity.new_token(), identity.new_token()
    assert a != b and a.startswith("cmp_") and len(a) > 40
    assert identity.token_hash(a) == identity.token_hash(a) != identity.token_hash(b)
    assert a not in identity.token_hash(a)


def test_times_for_scripts_carry_the_shops_offset() -> None:
    at = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    data = in_zone({"at": at, "wait": timedelta(hours=24), "nested": [at]}, ZoneInfo("Asia/Seoul"))
    assert data == {
        "at": "2026-11-23T15:00:00+09:00",
        "wait": "P1D",
        "nested": ["2026-11-23T15:00:00+09:00"],
    }

"""Response-time policy: pure functions over configuration values."""

from collections.abc import Mapping
from datetime import timedelta

from domain.model import Motive, ResponseTargets

# Who hears of a breach, by escalation level; beyond the list, the last one.
DEFAULT_ESCALATION_CONTACTS: tuple[str, ...] = ("manager", "owner")


def response_targets(
    motive: Motive,
    default: timedelta,
    warn_fraction: float,
    per_motive: Mapping[Motive, timedelta] | None = None,
    contacts: tuple[str, ...] = DEFAULT_ESCALATION_CONTACTS,
) -> ResponseTargets:
    """The clock a new case gets: the motive's own target where the shop set one, and one
    escalation level per contact."""
    target = (per_motive or {}).get(motive, default)
    return ResponseTargets(
        target=target, warn_fraction=warn_fraction, max_escalation_level=len(contacts)
    )


def escalation_contact(level: int, contacts: tuple[str, ...] = DEFAULT_ESCALATION_CONTACTS) -> str:
    if level < 1:
        raise ValueError("escalation levels start at 1")
    return contacts[min(level, len(contacts)) - 1]

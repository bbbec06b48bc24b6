"""Response-time, escalation and tier policy: pure functions over configuration values."""

from collections.abc import Mapping
from datetime import timedelta

from domain.model import Motive, ResponseTargets, Tier

# Who hears of a breach, by escalation level; beyond the list, the last one.
DEFAULT_ESCALATION_CONTACTS: tuple[str, ...] = ("manager", "owner")
# A public review spreads: the first response is due sooner (the guides: apologize quickly).
DEFAULT_FIRST_RESPONSE: dict[Motive, timedelta] = {Motive.PROTECT_OTHERS: timedelta(hours=4)}


def response_targets(
    motive: Motive,
    default: timedelta,
    warn_fraction: float,
    per_motive: Mapping[Motive, timedelta] | None = None,
    contacts: tuple[str, ...] = DEFAULT_ESCALATION_CONTACTS,
    first_response: Mapping[Motive, timedelta] | None = None,
) -> ResponseTargets:
    """The clock a new case gets: the motive's own targets where the shop set them, and one
    escalation level per contact."""
    target = (per_motive or {}).get(motive, default)
    first = (DEFAULT_FIRST_RESPONSE if first_response is None else first_response).get(motive)
    return ResponseTargets(
        target=target,
        first_target=min(first, target) if first else None,
        warn_fraction=warn_fraction,
        max_escalation_level=len(contacts),
    )


def escalation_contact(level: int, contacts: tuple[str, ...] = DEFAULT_ESCALATION_CONTACTS) -> str:
    if level < 1:
        raise ValueError("escalation levels start at 1")
    return contacts[min(level, len(contacts)) - 1]


def tier_for(visits: int, silver_from: int = 3, gold_from: int = 5) -> Tier:
    """Bronze from the first visit, silver and gold from the shop's thresholds."""
    if visits >= gold_from:
        return Tier.GOLD
    if visits >= silver_from:
        return Tier.SILVER
    return Tier.BRONZE if visits >= 1 else Tier.NEW

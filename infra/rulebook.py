"""The rulebook's keys and how a set of them applies to the settings.

A rule is named as its environment variable without the prefix (COMPLAINTS_OPENING_HOURS is
`opening_hours`) and takes the same text. The environment gives every rule its default; the
rules the owner has set (store/rulebook.py) go on top. `apply` checks the whole result as a
worker start would, so a contradictory rulebook is refused before anything is written.
"""

import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from domain.calendar import BusinessCalendar, ExtraOpening
from infra.calendar import periods
from infra.settings import Settings, explain
from store import scope

# What the owner may change, in the order `rules show` lists them.
RULE_KEYS = (
    "response_target",
    "response_targets",
    "first_response_targets",
    "warn_fraction",
    "target_mode",
    "timezone",
    "opening_hours",
    "closed_every",
    "holidays",
    "quiet_hours",
    "hold_staff_notices",
    "owner_at_night",
    "review_cool_off",
    "customer_wait",
    "follow_up_after",
    "follow_up_window",
    "improvement_report_after",
    "unanswered_close_after",
    "reopen_at_or_below",
    "remedy_terms",
    "escalation_contacts",
    "language",
)
_DURATIONS_BY_MOTIVE = frozenset({"response_targets", "first_response_targets"})
_JSON_KEYS = frozenset(
    {"response_targets", "first_response_targets", "remedy_terms", "escalation_contacts"}
)


def check_key(key: str) -> str:
    name = key.strip().lower().removeprefix("complaints_").replace("-", "_")
    if name not in RULE_KEYS:
        raise ValueError(f"{key!r} is not a rule; the rules are: {', '.join(RULE_KEYS)}")
    return name


def text_of(settings: Settings, key: str) -> str:
    """A rule's value as its environment variable would write it."""
    value = getattr(settings, key)
    if key in _DURATIONS_BY_MOTIVE:  # {"protect_others": "4h"}, as the owner writes it
        return json.dumps({str(m): _duration(d) for m, d in value.items()}, ensure_ascii=False)
    if key in _JSON_KEYS:
        dumped = settings.model_dump(mode="json", include={key})[key]
        return json.dumps(dumped, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if key.endswith(("target", "wait", "after", "window", "cool_off")) and value is not None:
        return _duration(value)
    return str(value)


def _duration(value: Any) -> str:
    """24h, 4h30m, 3d: whole days from two days on, as an owner would write them."""
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400) if seconds >= 2 * 86400 else (0, seconds)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return "".join(parts) or "0s"


def apply(settings: Settings, rules: Mapping[str, str]) -> Settings:
    """`settings` with `rules` on top, checked whole; ValueError in one line if they
    contradict each other or anything else in the settings."""
    if not rules:
        return settings
    data = settings.model_dump()
    for key, text in rules.items():
        if key not in RULE_KEYS:
            continue  # a rule this version no longer knows
        if key in _JSON_KEYS:
            try:
                data[key] = json.loads(text)
            except json.JSONDecodeError as err:
                raise ValueError(f"{key}: not JSON ({err.msg} at column {err.colno})") from None
        else:
            data[key] = text
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        raise ValueError(explain(err)) from None


_APPLIED: dict[tuple[int, tuple[tuple[str, str], ...]], tuple[Settings, Settings]] = {}


def applied(settings: Settings, rules: Mapping[str, str]) -> Settings:
    """apply, remembered: every case opening asks, and the rules seldom change (checking a
    whole Settings takes milliseconds). A rulebook that no longer applies (a rule the
    environment's other settings now contradict) leaves the environment's rules in force."""
    key = (id(settings), tuple(sorted(rules.items())))
    found = _APPLIED.get(key)
    if found is not None and found[0] is settings:  # the very settings, not a reused id
        return found[1]
    if len(_APPLIED) > 64:
        _APPLIED.clear()
    try:
        result = apply(settings, rules)
    except ValueError:
        result = settings
    _APPLIED[key] = (settings, result)
    return result


# How long a process trusts the rulebook it last read: a rule set by the owner reaches the
# notices, their holds and the pages within this many seconds, at one small read of the
# `rulebook` table per process per interval at most (never one per notice).
RULES_TTL = 5.0


class Effective:
    """The environment's settings with the owner's rules on top, as `applied` gives them,
    read again at most once every `ttl` seconds, for each shop apart (the shop the calling
    task acts for, store.scope). A TTL rather than a version check: a check would still be
    a database read per notice, and the rulebook changes a few times a year; five seconds is
    the longest a change waits. A read that fails (PostgreSQL away) keeps the rules last
    read (at first, the environment's) until the TTL is up again."""

    def __init__(
        self,
        settings: Settings,
        read: Callable[[], Awaitable[Mapping[str, str]]] | None = None,
        ttl: float = RULES_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.environment = settings
        self.read = read
        self.ttl = ttl
        self.clock = clock
        self._current: dict[str | None, Settings] = {}
        self._until: dict[str | None, float] = {}

    async def get(self) -> Settings:
        if self.read is None:
            return self.environment
        shop = scope.current()
        now = self.clock()
        last = self._current.get(shop, self.environment)
        if now < self._until.get(shop, float("-inf")):
            return last
        self._until[shop] = now + self.ttl  # a failed read too: asked again after the TTL
        try:
            rules = await self.read()
        except Exception:  # the rules last read hold until then
            return last
        self._current[shop] = applied(self.environment, rules)
        return self._current[shop]

    def forget(self) -> None:
        """Read the rulebook again at the next ask (this process has just changed it)."""
        self._until.pop(scope.current(), None)


def extra_openings(openings: Iterable[tuple[date, str]]) -> tuple[ExtraOpening, ...]:
    return tuple(ExtraOpening(day=day, hours=periods(hours)) for day, hours in openings)


def shop_calendar_now(
    settings: Settings,
    closures: Iterable[date],
    openings: Iterable[tuple[date, str]],
    now: datetime,
    years: Iterable[int] | None = None,
) -> BusinessCalendar:
    """The calendar the rules give, with the closures and openings kept in PostgreSQL."""
    try:
        return settings.calendar(closures, now, extra_openings(openings), years)
    except ValidationError as err:
        raise ValueError(f"calendar: {explain(err)}") from None

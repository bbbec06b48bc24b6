"""The shop's rulebook in the owner's hands: read it (everyone), change it (the owner), close
or open a day once (managers), list every change; and take each change to the open cases.

A change is checked whole before anything is written: a contradictory rulebook (periods
that overlap, a zone that does not exist, a calendar with no open hour in the coming year)
is refused in one line and nothing changes. Once stored, every open case is signalled
`rules_changed` (see `reach_open_cases`) and records what moved; a case missed then is
signalled by the notification sweep (app.rule_delivery).
"""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pydantic import TypeAdapter, ValidationError

from app import rule_delivery as delivery
from app.context import Context
from app.identity import CALENDAR, RULES, Actor, require
from app.reads import FIRST_DAY, LAST_DAY
from app.refusals import Conflict, InvalidInput, Unavailable
from domain.calendar import periods_of
from domain.errors import CalendarClosed
from domain.model import Text
from infra.calendar import DEFAULT_OPENING_HOURS, WEEKDAYS, day_hours, opening_hours, periods
from infra.rulebook import RULE_KEYS, applied, apply, check_key, shop_calendar_now, text_of
from infra.settings import Settings, explain
from store import rulebook as store
from store.rulebook import Change, ShopRules

_TEXT = TypeAdapter(Text)
_ORDER = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Contradiction(Conflict):
    """The rulebook would contradict itself (or the calendar it already has): nothing is
    written. A conflict with what is there, not a malformed request: each value may be
    well formed on its own."""


@dataclass(frozen=True)
class Rule:
    key: str
    value: str
    set_by: str | None  # None: the environment's (or the built-in) value


@dataclass(frozen=True)
class Applied:
    changes: list[Change]
    reached: int  # open cases signalled
    unreached: int  # open cases not reached yet (Temporal away): the sweep takes it to them


async def effective(ctx: Context) -> tuple[Settings, ShopRules]:
    """The settings with the owner's rules on top, and the closures and openings."""
    shop = await store.shop_rules(await ctx.pool())
    return applied(ctx.settings, shop.rules), shop


async def show(ctx: Context) -> list[Rule]:
    settings, shop = await effective(ctx)
    who = await store.updated_by(await ctx.pool())
    out = []
    for key in RULE_KEYS:
        value = text_of(settings, key)
        if key == "opening_hours" and not value:
            value = json.dumps(DEFAULT_OPENING_HOURS)
        out.append(Rule(key, value, who.get(key) if key in shop.rules else None))
    return out


async def changes(ctx: Context, limit: int = 50) -> list[Change]:
    if not 1 <= limit <= 1000:
        raise InvalidInput(f"--limit: {limit} is not between 1 and 1000")
    return await store.changes(await ctx.pool(), limit)


def _checked(
    settings: Settings,
    shop: ShopRules,
    closures: dict[date, str] | None = None,
    openings: tuple[tuple[date, str], ...] | None = None,
) -> None:
    """A calendar with an open hour in the coming year, or Contradiction in one line."""
    now = datetime.now(UTC)
    try:
        calendar = shop_calendar_now(
            settings,
            shop.closures if closures is None else closures,
            tuple((o.day, o.hours) for o in shop.openings) if openings is None else openings,
            now,
        )
        calendar.next_open(now)
    except CalendarClosed:
        raise Contradiction(
            "the calendar would have no open hour in the coming year; nothing changed"
        ) from None
    except ValueError as err:
        raise Contradiction(f"{err}; nothing changed") from None


async def set_rules(ctx: Context, actor: Actor, values: dict[str, str | None]) -> Applied:
    """Set rules (None: back to the environment's value), checked whole, then recorded and
    taken to the open cases."""
    require(actor, RULES)
    if not values:
        raise InvalidInput("give at least one rule: KEY VALUE, e.g. response_target 48h")
    try:
        named = {check_key(k): v for k, v in values.items()}
    except ValueError as err:
        raise InvalidInput(f"{err}; nothing changed") from None
    shop = await store.shop_rules(await ctx.pool())
    rules = {k: v for k, v in {**shop.rules, **named}.items() if v is not None}
    try:
        settings = apply(ctx.settings, rules)
    except ValueError as err:
        raise Contradiction(f"{err}; nothing changed") from None
    _checked(settings, shop)
    # Stored as the settings read them back, so `rules show` and a later read agree.
    stored = {k: (v if v is None else v.strip()) for k, v in named.items()}
    done = await store.set_rules(await ctx.pool(), stored, actor.name)
    changed = ", ".join(c.what for c in done)
    return await _reach(ctx, done, f"{changed} changed by {actor.name}")


def week_days(text: str) -> list[int]:
    """ "mon-sun", "sat,sun", "mon-fri", "월-금" -> weekday numbers (0 = Monday)."""
    out: list[int] = []
    for part in text.split(","):
        ends = [p.strip().lower() for p in part.split("-")]
        try:
            numbers = [WEEKDAYS[e] for e in ends]
        except KeyError:
            raise InvalidInput(
                f"DAYS: {part.strip()!r} is not a weekday or a range; write e.g. mon-sun, "
                "sat,sun or mon-fri"
            ) from None
        if len(numbers) == 1:
            out.append(numbers[0])
        elif len(numbers) == 2:
            first, last = numbers
            out.extend(
                range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
            )
        else:
            raise InvalidInput(f"DAYS: {part.strip()!r} is not a range like mon-fri")
    return out


async def set_hours(ctx: Context, actor: Actor, days: str, hours: str) -> Applied:
    """Opening hours of some weekdays: "11:00-15:00,17:00-22:00", "18:00-02:00" or closed."""
    require(actor, RULES)
    settings, _ = await effective(ctx)
    current = opening_hours(settings.opening_hours or DEFAULT_OPENING_HOURS)
    week: dict[str, str | None] = {
        _ORDER[n]: ",".join(p.label() for p in periods_of(h)) or None for n, h in enumerate(current)
    }
    text = hours.strip().lower()
    closed = text in ("closed", "none", "off", "휴무")
    if not closed:
        try:
            day_hours(text)
        except ValueError as err:
            raise Contradiction(f"PERIODS: {err}; nothing changed") from None
    for n in week_days(days):
        week[_ORDER[n]] = None if closed else ",".join(p.label() for p in periods(text))
    return await set_rules(ctx, actor, {"opening_hours": json.dumps(week)})


async def set_closed_every(ctx: Context, actor: Actor, text: str) -> Applied:
    """Regular closing days ("2nd,4th mon"); "none" or "" clears them."""
    value = None if text.strip().lower() in ("", "none", "off", "없음") else text
    return await set_rules(ctx, actor, {"closed_every": value})


async def close_day(ctx: Context, actor: Actor, day: date, reason: str) -> tuple[bool, Applied]:
    """A one-off closure, recorded and taken to the open cases; False if the day was
    closed already (its reason is updated)."""
    require(actor, CALENDAR)
    day, text = _a_day(day), _reason(reason)
    settings, shop = await effective(ctx)
    if day in {o.day for o in shop.openings}:
        raise Contradiction(
            f"{day} has a one-off extra opening; remove it first "
            f"(`complaints calendar open {day} none`); nothing changed"
        )
    _checked(settings, shop, closures={**shop.closures, day: text})
    new = day not in shop.closures
    change = await store.close_day(await ctx.pool(), day, text, actor.name)
    done = [change] if change else []
    return new, await _reach(ctx, done, f"closed {day.isoformat()} by {actor.name}: {text}")


async def open_day(ctx: Context, actor: Actor, day: date, hours: str, reason: str) -> Applied:
    """A one-off extra opening with its periods ("none" removes it); managers and owners."""
    require(actor, CALENDAR)
    day, text = _a_day(day), _reason(reason)
    settings, shop = await effective(ctx)
    value = None if hours.strip().lower() in ("none", "off", "") else hours.strip()
    if value is not None:
        if day in shop.closures:
            raise Contradiction(f"{day} is closed ({shop.closures[day]}); nothing changed")
        try:
            periods(value)
        except ValueError as err:
            raise Contradiction(f"HOURS: {err}; nothing changed") from None
    openings = {o.day: o.hours for o in shop.openings}
    if value is None:
        openings.pop(day, None)
    else:
        openings[day] = value
    _checked(settings, shop, openings=tuple(openings.items()))
    change = await store.open_day(await ctx.pool(), day, value, text, actor.name)
    done = [change] if change else []
    verb = "opened" if value is not None else "extra opening removed"
    return await _reach(ctx, done, f"{verb} {day.isoformat()} by {actor.name}: {text}")


def _a_day(day: date) -> date:
    """A day in the range the API's schema gives (PostgreSQL would keep 9999-12-31 as
    `infinity`, and a closure nobody can name is a closure nobody can lift)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        reason = f"{day.isoformat()} is out of range: give a day from {FIRST_DAY} to {LAST_DAY}"
        raise InvalidInput.about([("day", f"{reason}; nothing changed")])
    return day


def _reason(reason: str) -> str:
    try:
        return _TEXT.validate_python(reason)
    except ValidationError as err:
        raise InvalidInput(f"--reason: {explain(err)}") from None


async def _reach(ctx: Context, done: list[Change], reason: str) -> Applied:
    if not done:
        return Applied([], 0, 0)
    ctx.rules_changed()  # this process's pages show the change at once
    reached, unreached = await reach_open_cases(ctx, reason)
    return Applied(done, reached, unreached)


async def reach_open_cases(ctx: Context, reason: str) -> tuple[int, int]:
    """Signal `rules_changed` to every open case, SIGNAL_BATCH at a time (see
    app.rule_delivery). From here, not a Temporal batch operation: the read model names
    the open cases in one query, the caller learns at once how many took the change, and
    batches of 16 keep the workers' queue of rulebook reads short. Those missed (this
    process dies partway, Temporal is away) are signalled by the notification sweep within
    5 minutes: the change stays marked undelivered until every open case is reached.
    Returns (reached, not reached)."""
    try:
        client = await ctx.client()
    except Unavailable:
        client = None
    done = await delivery.reach_open_cases(await ctx.pool(), client, reason)
    return done.reached, done.unreached

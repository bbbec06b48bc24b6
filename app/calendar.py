"""The shop's calendar: the days ahead, when a target falls due, one-off closures. Reading
it needs no identity (it is the shop's opening hours); closing a day needs a manager."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError

from app import rules
from app.context import Context
from app.identity import Actor
from app.refusals import InvalidInput
from domain.calendar import BusinessCalendar, due_at
from domain.model import Text
from infra.calendar import holiday_names
from infra.rulebook import shop_calendar_now
from infra.settings import Duration, Settings, explain
from store.rulebook import ShopRules

_TARGET = TypeAdapter(Duration)
# The calendar counts holidays and open hours year by year: these years, a year ahead at most.
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_DAYS = 366
_TEXT = TypeAdapter(Text)
WALL, OPEN_HOURS = "wall-clock time", "open hours"


@dataclass(frozen=True)
class Day:
    day: date
    opens: datetime | None  # None: closed, and `closed_for` says why if it is known
    closes: datetime | None
    closed_for: str | None
    # Every period of the day (a break between them; the last may end the next morning).
    periods: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class Due:
    due: datetime  # in the shop's zone
    start: datetime
    counted: str  # OPEN_HOURS or WALL


def local_time(zone: ZoneInfo, text: str | None) -> datetime:
    """A time staff typed, in the shop's zone unless it names its own offset."""
    if text is None:
        return datetime.now(zone)
    try:
        at = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise InvalidInput(f"--from: {text!r} is not a time; write e.g. 2026-11-27 17:00") from None
    if not FIRST_YEAR <= at.year <= LAST_YEAR:
        raise InvalidInput(
            f"--from: {text!r} is outside the years the calendar counts ({FIRST_YEAR}-{LAST_YEAR})"
        )
    return at if at.tzinfo else at.replace(tzinfo=zone)


async def close_day(ctx: Context, actor: Actor, day: date, reason: str) -> bool:
    """Record a closure (the open cases take it); False if the day was closed already (its
    reason is updated)."""
    new, _ = await rules.close_day(ctx, actor, day, reason)
    return new


async def due(ctx: Context, target: str, start: str | None, mode: str | None) -> Due:
    try:
        length = _TARGET.validate_python(target)
    except ValidationError as err:
        raise InvalidInput(f"--target: {explain(err)}") from None
    settings, book = await rules.effective(ctx)
    begin = local_time(settings.zone, start)
    shop = (
        _calendar(settings, book, begin) if (mode or settings.default_mode) == "business" else None
    )
    return Due(
        due=due_at(begin, length, shop).astimezone(settings.zone),
        start=begin.astimezone(settings.zone),
        counted=OPEN_HOURS if shop else WALL,
    )


async def days_ahead(ctx: Context, days: int) -> list[Day]:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"--days: {days} is not between 1 and {MAX_DAYS}")
    settings, book = await rules.effective(ctx)
    closed = book.closures
    today = datetime.now(settings.zone).date()
    shop = _calendar(settings, book, datetime.now(settings.zone))
    names = holiday_names(settings.holidays, range(today.year, today.year + 2))
    extra = {o.day: o.reason for o in book.openings}
    out = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        intervals = tuple(
            (a.astimezone(settings.zone), b.astimezone(settings.zone))
            for a, b in shop.open_intervals(day)
        )
        if day in closed:
            out.append(Day(day, None, None, closed[day]))
        elif intervals:
            note = f"opened once: {extra[day]}" if day in extra else None
            out.append(Day(day, intervals[0][0], intervals[-1][1], note, intervals))
        elif day in names:
            out.append(Day(day, None, None, f"public holiday ({names[day]})"))
        elif shop.hours[day.weekday()] is not None:
            out.append(Day(day, None, None, "regular closing day"))
        else:
            out.append(Day(day, None, None, None))
    return out


def _calendar(settings: Settings, book: ShopRules, now: datetime) -> BusinessCalendar:
    try:
        return shop_calendar_now(
            settings, book.closures, tuple((o.day, o.hours) for o in book.openings), now
        )
    except ValueError as err:
        raise InvalidInput(f"the shop's calendar: {err}") from None

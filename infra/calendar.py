"""The shop's calendar from its configuration: the shell side of domain/calendar.py.

The domain stays pure: public holidays come from the `holidays` package here, and the
one-off closures (kept in PostgreSQL) are passed in by the caller. What the shell calls:

    shop_calendar(zone, hours, country, years, closures) -> BusinessCalendar
        zone: COMPLAINTS_TIMEZONE ("Asia/Seoul"); hours: COMPLAINTS_OPENING_HOURS, as its
        JSON text or a mapping; country: COMPLAINTS_HOLIDAYS ("KR"; "" or None: none);
        years: the years whose holidays to include. A case snapshots its calendar when it
        opens, so pass the opening year and the next (`snapshot_years(opened_at)`): a case
        that outlives them counts later holidays as open days.
    opening_hours(hours) -> the seven weekdays' hours, Monday first
    holiday_dates(country, years) -> tuple[date, ...]
    quiet_hours(window, zone) -> QuietHours | None   (COMPLAINTS_QUIET_HOURS "21:00-09:00")

COMPLAINTS_OPENING_HOURS names weekdays by English name ("mon", "monday"), Korean name
("월", "월요일") or number (0 = Monday .. 6 = Sunday), each mapped to "10:00-19:00", to
several periods "11:00-15:00,17:00-22:00" (a break between them), to a period past
midnight "18:00-02:00" (it belongs to the day it starts), or null (closed); a weekday it
leaves out is closed. COMPLAINTS_CLOSED_EVERY names regular closing days:
"mon" (every Monday), "2nd,4th sun", "last fri", several joined by ";". Bad input raises
ValueError with one line that says what to write instead.
"""

import functools
import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time

from pydantic import ValidationError

from domain.calendar import (
    BusinessCalendar,
    DayHours,
    ExtraOpening,
    OpeningHours,
    QuietHours,
    RegularClosing,
)

# Weekday (a name, or 0..6 from Monday) -> "10:00-19:00", or None for closed. Two mappings,
# not one keyed by str | int: a dict keyed by str alone is not a Mapping[str | int, ...].
WeekHours = Mapping[str, str | None] | Mapping[int, str | None]

# The shop's hours when COMPLAINTS_OPENING_HOURS is not set: weekdays, 10:00 to 19:00.
DEFAULT_OPENING_HOURS: dict[str, str | None] = {
    "mon": "10:00-19:00",
    "tue": "10:00-19:00",
    "wed": "10:00-19:00",
    "thu": "10:00-19:00",
    "fri": "10:00-19:00",
    "sat": None,
    "sun": None,
}
_NAMES = (
    ("mon", "monday", "월", "월요일"),
    ("tue", "tuesday", "화", "화요일"),
    ("wed", "wednesday", "수", "수요일"),
    ("thu", "thursday", "목", "목요일"),
    ("fri", "friday", "금", "금요일"),
    ("sat", "saturday", "토", "토요일"),
    ("sun", "sunday", "일", "일요일"),
)
WEEKDAYS: dict[str, int] = {
    name: number for number, names in enumerate(_NAMES) for name in (*names, str(number))
}
_CLOCK = re.compile(r"\d{1,2}:\d{2}")


def parse_window(window: str) -> tuple[time, time]:
    """ "10:00-19:00" -> (10:00, 19:00): local times of day, HH:MM."""
    parts = [p.strip() for p in window.split("-")]
    if len(parts) != 2:
        raise ValueError(f"{window!r} is not a window of two times like 10:00-19:00")
    times = []
    for part in parts:
        try:
            if not _CLOCK.fullmatch(part):
                raise ValueError
            times.append(time.fromisoformat(part.zfill(5)))
        except ValueError:
            raise ValueError(f"{part!r} in {window!r} is not a time of day like 09:30") from None
    return times[0], times[1]


def periods(text: str) -> tuple[OpeningHours, ...]:
    """ "11:00-15:00,17:00-22:00" -> its periods, in the order written."""
    out = []
    for window in text.split(","):
        opens, closes = parse_window(window)
        try:
            out.append(OpeningHours(opens=opens, closes=closes))
        except ValidationError as err:
            raise ValueError(_one_line(err)) from None
    return tuple(out)


def day_hours(text: str) -> DayHours:
    """One weekday's hours as written: one period stays one (as cases have always held it)."""
    found = periods(text)
    if len(found) == 1:
        return found[0]
    try:
        BusinessCalendar(hours=(found,) * 7)  # the periods in order, apart
    except ValidationError as err:
        raise ValueError(_one_line(err).removeprefix("mon: ")) from None
    return found


def opening_hours(hours: str | WeekHours) -> tuple[DayHours, ...]:
    """The seven weekdays' hours, Monday first, from JSON text or a mapping."""
    if isinstance(hours, str):
        try:
            hours = json.loads(hours)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"opening hours are not JSON: {err.msg} at column {err.colno}"
            ) from None
    if not isinstance(hours, Mapping):
        raise ValueError('opening hours must be a JSON object like {"mon": "10:00-19:00"}')
    week: list[DayHours] = [None] * 7
    named: dict[int, str] = {}
    for key, given in hours.items():
        window: object = given
        day = WEEKDAYS.get(str(key).strip().lower())
        if day is None:
            raise ValueError(
                f"opening hours: {key!r} is not a weekday; write mon..sun, 월..일 or 0..6 "
                "(0 is Monday)"
            )
        if day in named:
            raise ValueError(f"opening hours: {named[day]!r} and {key!r} name the same weekday")
        named[day] = str(key)
        if window is None:
            continue
        if isinstance(window, list) and all(isinstance(w, str) for w in window):
            window = ",".join(window)
        if not isinstance(window, str):
            raise ValueError(f'opening hours: {key!r} needs "10:00-19:00" or null, not {window!r}')
        try:
            week[day] = day_hours(window)
        except ValueError as err:
            raise ValueError(f"opening hours: {key!r}: {err}") from None
    return tuple(week)


_NTH = {
    "1st": 1, "first": 1, "첫째": 1, "1": 1,
    "2nd": 2, "second": 2, "둘째": 2, "2": 2,
    "3rd": 3, "third": 3, "셋째": 3, "3": 3,
    "4th": 4, "fourth": 4, "넷째": 4, "4": 4,
    "5th": 5, "fifth": 5, "다섯째": 5, "5": 5,
    "last": -1, "마지막": -1,
}  # fmt: skip


def closed_every(text: str) -> tuple[RegularClosing, ...]:
    """Regular closing days: "mon" (every Monday), "2nd,4th sun", "last fri", "둘째,넷째 월",
    several joined by ";"; empty: none."""
    out = []
    for part in text.split(";"):
        words = part.replace(",", " ").split()
        if not words:
            continue
        day = WEEKDAYS.get(words[-1].lower())
        if day is None:
            raise ValueError(
                f"closed every: {part.strip()!r} does not end with a weekday; write e.g. "
                '"mon", "2nd,4th sun" or "last fri"'
            )
        weeks = []
        for word in words[:-1]:
            nth = _NTH.get(word.lower())
            if nth is None:
                raise ValueError(
                    f"closed every: {word!r} is not a week of the month; write 1st..5th or last"
                )
            weeks.append(nth)
        out.append(RegularClosing(weekday=day, weeks=tuple(weeks)))
    return tuple(out)


def closed_every_text(days: tuple[RegularClosing, ...]) -> str:
    """closed_every's input, written back."""
    names = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th", -1: "last"}
    parts = []
    for c in days:
        weeks = ",".join(names[n] for n in c.weeks)
        parts.append(f"{weeks} {_NAMES[c.weekday][0]}" if weeks else _NAMES[c.weekday][0])
    return "; ".join(parts)


def holiday_dates(country: str | None, years: Iterable[int]) -> tuple[date, ...]:
    """The public holidays of `country` (ISO code, e.g. KR) in `years`, substitute days and
    lunar holidays included; none for an empty country."""
    if not country or not country.strip():
        return ()
    return _holiday_dates(country.strip().upper(), tuple(years))


@functools.lru_cache(maxsize=64)
def _holiday_dates(country: str, years: tuple[int, ...]) -> tuple[date, ...]:
    # Cached: every case opening snapshots them, the answer for the same years never changes,
    # and working out a country's lunar holidays takes about a millisecond.
    import holidays  # here, not at the top: a command that counts no business time skips it

    try:
        found = holidays.country_holidays(country, years=list(years))
    except NotImplementedError:
        raise ValueError(
            f"no public holidays known for {country!r}; give a country code such as KR, or "
            "leave it empty for none"
        ) from None
    return tuple(sorted(found))


def check_calendar(
    zone: str, hours: str | WeekHours, country: str | None, regular: str = ""
) -> None:
    """Refuses what `shop_calendar` refuses, with the same words, without working out a
    holiday: the settings check the calendar at every start, and the first holidays the
    package works out load every country's rules (a fifth of a second), which a command
    that never counts business time (`complaints show`) does not need."""
    shop_calendar(zone, hours, None, (), regular=regular)
    code = country.strip().upper() if country else ""
    if code and code not in DEFAULT_COUNTRIES and code not in _known_countries():
        raise ValueError(
            f"no public holidays known for {code!r}; give a country code such as KR, or leave "
            "it empty for none"
        )


# The settings' default, known to the package (a unit test asks its registry): checked
# without importing `holidays` at all, which is 35 ms of every CLI command's start.
DEFAULT_COUNTRIES = frozenset({"KR"})


@functools.cache
def _known_countries() -> frozenset[str]:
    """Every name `holidays.country_holidays` takes (codes, class names), from the package's
    registry: nothing of any country is imported for it."""
    from holidays import registry

    return frozenset(name for names in registry.COUNTRIES.values() for name in names)


def holiday_names(country: str | None, years: Iterable[int]) -> dict[date, str]:
    """The same holidays with their names, for people to read."""
    if not country or not country.strip():
        return {}
    import holidays

    try:
        return dict(holidays.country_holidays(country.strip().upper(), years=list(years)))
    except NotImplementedError:
        return {}


def shop_calendar(
    zone: str,
    hours: str | WeekHours,
    country: str | None,
    years: Iterable[int],
    closures: Iterable[date] = (),
    regular: str = "",
    openings: Iterable[ExtraOpening] = (),
) -> BusinessCalendar:
    """The shop's calendar: its hours, `country`'s public holidays in `years`, its regular
    closing days (`regular`, as closed_every reads it), its own one-off closures and extra
    openings."""
    week = opening_hours(hours)
    span = tuple(years)
    days_off = holiday_dates(country, span)
    try:
        return BusinessCalendar(
            zone=zone,
            hours=week,
            holidays=days_off,
            closures=tuple(closures),
            closed_every=closed_every(regular),
            openings=tuple(openings),
            years=(min(span), max(span)) if span else None,
        )
    except ValidationError as err:
        raise ValueError(f"calendar: {_one_line(err)}") from None


def quiet_hours(window: str | None, zone: str) -> QuietHours | None:
    """Quiet hours from "21:00-09:00" (over midnight allowed); none for an empty value."""
    if not window or not window.strip():
        return None
    start, end = parse_window(window)
    try:
        return QuietHours(start=start, end=end, zone=zone)
    except ValidationError as err:
        raise ValueError(f"quiet hours: {_one_line(err)}") from None


def snapshot_years(opened_at: datetime) -> range:
    """The years whose holidays a case opened at `opened_at` snapshots: its own and the next."""
    return range(opened_at.year, opened_at.year + 2)


def _one_line(err: ValidationError) -> str:
    """A validation error's reasons, without pydantic's framing."""
    reasons = []
    for e in err.errors():
        reason = str(e["ctx"]["error"]) if "error" in e.get("ctx", {}) else e["msg"]
        field = ".".join(str(p) for p in e["loc"])
        reasons.append(f"{field}: {reason}" if field else reason)
    return "; ".join(reasons)

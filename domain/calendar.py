"""The shop's calendar, and time counted the way the shop counts it.

A response target is wall-clock time (24 hours are 24 hours, nights and Sundays included)
or business time: only the hours the shop is open count, public holidays and one-off
closures skipped. Pure values and functions; the shell builds the calendar from its
configuration (infra/calendar.py: `shop_calendar`, which reads the `holidays` package) and
snapshots it into the case's ResponseTargets when the case opens, so a replay or a rebuild
counts over the same days even after the shop's calendar has changed.

What the shell calls (every datetime must be timezone-aware; a naive one is refused):

    cal = BusinessCalendar(zone="Asia/Seoul", hours=(...7 entries, Monday first...),
                           holidays=(date, ...), closures=(date, ...))
    cal.add_business_time(start, amount) -> datetime   # `amount` of open time after `start`
    cal.business_time_between(a, b) -> timedelta       # the open time in [a, b)
    cal.next_open(t) -> datetime                       # t itself when open (staff reminders)
    cal.is_open(t) -> bool
    cal.open_interval(day) -> (opens, closes) | None   # one local date, as UTC instants
    due_at(start, amount, cal or None) -> datetime     # None: the wall clock (what the case
    time_between(a, b, cal or None) -> timedelta       #   clock uses, via ResponseTargets)
    QuietHours(start=time(21), end=time(9), zone="Asia/Seoul").next_allowed(t) -> datetime

Results come back in the time zone of the argument (UTC in, UTC out; the shop's zone in,
the shop's zone out); all arithmetic is done on UTC instants, so every count is exact in
real elapsed time across daylight-saving changes, in any IANA zone.

A local time is the first instant at which the shop's wall clock shows that time or a
later one on that date. So an opening, closing or quiet-hours end that a spring change
skips (02:30 on the night Berlin jumps from 02:00 to 03:00) falls on the jump itself
(03:00 CEST); one an autumn change shows twice falls on its first showing (02:30 CEST, not
CET). A day whose whole hours are skipped has no open time. Opening hours end the same day
they start (no hours past midnight).

Bounds: a calendar without any open weekday is refused when it is built, and a search
gives up with CalendarClosed after MAX_CLOSED_DAYS days in a row without opening hours
(holidays and closures covering a whole year), so nothing here can loop forever.
"""

import operator
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.errors import CalendarClosed

MAX_CLOSED_DAYS = 366  # a year of closure, leap days included, and the search gives up
_DAY = timedelta(days=1)
_NONE = timedelta(0)
_TICK = timedelta(microseconds=1)


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}; e.g. Asia/Seoul or Europe/Berlin") from None
    return name


ZoneName = Annotated[str, AfterValidator(_known_zone)]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OpeningHours(_Value):
    """One weekday's hours, local time: open from `opens` until `closes`, the same day."""

    opens: time
    closes: time

    @model_validator(mode="after")
    def _opens_first(self) -> Self:
        if self.opens >= self.closes:
            raise ValueError(
                f"the shop must open before it closes, not {self.opens:%H:%M}-"
                f"{self.closes:%H:%M} (hours past midnight are not supported)"
            )
        return self


class BusinessCalendar(_Value):
    """When the shop is open: hours per weekday (Monday first; None: closed all day), minus
    public holidays and one-off closures (local dates), in one IANA zone."""

    zone: ZoneName = "Asia/Seoul"
    hours: tuple[OpeningHours | None, ...] = Field(min_length=7, max_length=7)
    holidays: tuple[date, ...] = ()
    closures: tuple[date, ...] = ()

    @field_validator("holidays", "closures")
    @classmethod
    def _sorted_once(cls, days: tuple[date, ...]) -> tuple[date, ...]:
        if all(map(operator.lt, days, days[1:])):  # as stored: every case opened reads it
            return days
        return tuple(sorted(set(days)))

    @model_validator(mode="after")
    def _opens_sometime(self) -> Self:
        if all(day is None for day in self.hours):
            raise ValueError(
                "a business calendar needs opening hours on at least one weekday; with none, "
                "business time would never pass (use wall-clock targets instead)"
            )
        return self

    def open_interval(self, day: date) -> tuple[datetime, datetime] | None:
        """When the shop is open on the local date `day`: [opens, closes) as UTC instants;
        None on a closed weekday, a holiday, a closure, or if a clock change skips it all."""
        return self._interval(self._memo().days, day)

    def _interval(
        self, days: dict[date, tuple[datetime, datetime] | None], day: date
    ) -> tuple[datetime, datetime] | None:
        """open_interval, given this calendar's memo of days (a count asks day after day)."""
        if day not in days:
            hours = self.hours[day.weekday()]
            if hours is None or day in self.holidays or day in self.closures:
                days[day] = None
            else:
                days[day] = _opening(day, hours.opens, hours.closes, self.zone)
        return days[day]

    def _memo(self) -> "_Memo":
        """What this calendar has answered: it is a frozen value, and a fold asks the same
        days and due times again and again (a step's due time when its window opens and when
        it is answered). Kept beside the fields, so equality and dumps never see it; held
        with the very field values it was answered for, so a copy with other hours,
        holidays, closures or zone (model_copy copies it along) starts afresh."""
        memo: _Memo | None = self.__dict__.get("_answers")
        if (  # spelled out: asked several times per event in a rebuild, a loop cost a third
            memo is None
            or memo.hours is not self.hours
            or memo.holidays is not self.holidays
            or memo.closures is not self.closures
            or memo.zone is not self.zone
        ):
            memo = self.__dict__["_answers"] = _Memo(
                self.hours, self.holidays, self.closures, self.zone
            )
        return memo

    def is_open(self, t: datetime) -> bool:
        at = _utc(t)
        interval = self.open_interval(at.astimezone(ZoneInfo(self.zone)).date())
        return interval is not None and interval[0] <= at < interval[1]

    def next_open(self, t: datetime) -> datetime:
        """`t` if the shop is open then, else its next opening."""
        return self.add_business_time(t, timedelta(0))

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant by which `amount` of open time has passed since `start`. A start in
        closed time counts from the next opening; an amount that runs out exactly at a
        closing is due then, not at the next opening."""
        if amount < _NONE:
            raise ValueError(f"business time cannot count back: {amount}")
        at = _utc(start)
        due = self._memo().due
        found = due.get((at, amount))
        if found is None:
            found = due[at, amount] = self._count(at, amount)
        return _back(found, start)

    def _count(self, at: datetime, amount: timedelta) -> datetime:
        """The UTC instant by which `amount` of open time has passed since `at` (UTC).
        The walk of _intervals_from written out as one loop: every due time of every fold
        and rebuild is counted here, and the generator took half of it (4.7 -> 2.5 us)."""
        days = self._memo().days
        day = at.astimezone(ZoneInfo(self.zone)).date()
        closed = 0  # days in a row without opening hours
        while closed < MAX_CLOSED_DAYS:
            interval = self._interval(days, day)
            day += _DAY
            if interval is None:
                closed += 1
                continue
            closed = 0
            opens, closes = interval
            if closes > at:
                begin = max(at, opens)
                if amount <= closes - begin:
                    return begin + amount
                amount -= closes - begin
        raise _closed(day, closed)

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """The open time in [a, b)."""
        start, end = _utc(a), _utc(b)
        if end < start:
            raise ValueError(f"the span ends before it starts: {b} is before {a}")
        total = timedelta(0)
        intervals = self._intervals_from(start)
        while True:
            opens, closes = next(intervals)
            if opens >= end:
                return total
            total += min(closes, end) - max(opens, start)

    def _intervals_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals that end after `at` (UTC), in order, from its local date on."""
        day = at.astimezone(ZoneInfo(self.zone)).date()
        days = self._memo().days  # once, not once per day through open_interval
        closed = 0  # days in a row without opening hours
        while closed < MAX_CLOSED_DAYS:
            interval = self._interval(days, day)
            day += _DAY
            if interval is None:
                closed += 1
                continue
            closed = 0
            if interval[1] > at:
                yield interval
        raise _closed(day, closed)


def _closed(day: date, closed: int) -> CalendarClosed:
    return CalendarClosed(
        f"no opening hours in the {MAX_CLOSED_DAYS} days from {day - closed * _DAY}; "
        "check the holidays and closures of the shop's calendar"
    )


class _Memo:
    """A calendar's answers so far (BusinessCalendar._memo), and the field values they
    were given for."""

    __slots__ = ("closures", "days", "due", "holidays", "hours", "zone")

    def __init__(
        self,
        hours: tuple[OpeningHours | None, ...],
        holidays: tuple[date, ...],
        closures: tuple[date, ...],
        zone: str,
    ) -> None:
        self.hours, self.holidays, self.closures, self.zone = hours, holidays, closures, zone
        self.days: dict[date, tuple[datetime, datetime] | None] = {}
        self.due: dict[tuple[datetime, timedelta], datetime] = {}


class QuietHours(_Value):
    """When customer-facing messages wait: from `start` until `end`, the shop's local time;
    over midnight when `start` is later than `end` (21:00-09:00)."""

    start: time
    end: time
    zone: ZoneName

    @model_validator(mode="after")
    def _a_window(self) -> Self:
        if self.start == self.end:
            raise ValueError(
                f"quiet hours start and end at {self.start:%H:%M}: give a window such as "
                "21:00-09:00"
            )
        return self

    def is_quiet(self, t: datetime) -> bool:
        now = _wall(_utc(t), ZoneInfo(self.zone)).time()
        return _since(self.start, now) < _since(self.start, self.end)

    def next_allowed(self, t: datetime) -> datetime:
        """`t` outside quiet hours, else the end of the quiet window."""
        if not self.is_quiet(t):
            return t
        zone = ZoneInfo(self.zone)
        wall = _wall(_utc(t), zone)
        ends = wall + _since(wall.time(), self.end)  # today's end, or tomorrow's
        return _back(_instant(ends.date(), self.end, zone), t)


def due_at(start: datetime, amount: timedelta, calendar: BusinessCalendar | None) -> datetime:
    """`amount` after `start`: on the wall clock without a calendar, else in business time."""
    if calendar is None:
        return _back(_utc(start) + amount, start)
    return calendar.add_business_time(start, amount)


def time_between(a: datetime, b: datetime, calendar: BusinessCalendar | None) -> timedelta:
    """The time from `a` to `b`: elapsed without a calendar, else the open time."""
    if calendar is None:
        return _utc(b) - _utc(a)
    return calendar.business_time_between(a, b)


def _utc(t: datetime) -> datetime:
    if t.tzinfo is UTC:
        return t
    if t.utcoffset() is None:
        raise ValueError(f"{t} has no time zone; give an aware datetime (e.g. UTC)")
    return t.astimezone(UTC)


def _back(at: datetime, like: datetime) -> datetime:
    """`at` (UTC) in the time zone `like` was given in."""
    return at if like.tzinfo is UTC else at.astimezone(like.tzinfo)


def _since(earlier: time, later: time) -> timedelta:
    """How long after showing `earlier` the clock shows `later` (within a day)."""
    return (datetime.combine(date.min, later) - datetime.combine(date.min, earlier)) % _DAY


@lru_cache(maxsize=65536)
def _opening(day: date, opens: time, closes: time, zone: str) -> tuple[datetime, datetime] | None:
    """A day's open interval (UTC). Cached: every due time of every fold and rebuild asks
    for the same few days, and finding a wall-clock time's instant is the costly part."""
    tz = ZoneInfo(zone)
    start, end = _instant(day, opens, tz), _instant(day, closes, tz)
    return (start, end) if start < end else None


def _instant(day: date, label: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the wall clock in `zone` shows `label` on `day`, or
    a later time: a repeated time's first showing, a skipped time's jump."""
    wall = datetime.combine(day, label)
    # The two readings of `wall` (PEP 495's fold) are one instant for an ordinary time; for
    # a repeated one, fold 0 is its first showing; for a skipped one, fold 1 reads it with
    # the offset after the jump (an instant before it) and fold 0 with the offset before
    # (an instant after it), so halve the span between them down to the jump.
    at = _utc(wall.replace(tzinfo=zone))
    before = _utc(wall.replace(tzinfo=zone, fold=1))
    while at - before > _TICK:
        middle = before + (at - before) // 2
        if _wall(middle, zone) < wall:
            before = middle
        else:
            at = middle
    return at


def _wall(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None)

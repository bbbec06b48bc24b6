"""The shop's calendar, and time counted the way the shop counts it.

A response target is wall-clock time (24 hours are 24 hours, nights and Sundays included)
or business time: only the hours the shop is open count, public holidays and one-off
closures skipped. Pure values and functions; the shell builds the calendar from its
configuration (infra/calendar.py: `shop_calendar`, which reads the `holidays` package) and
snapshots it into the case's ResponseTargets when the case opens, so a replay or a rebuild
counts over the same days even after the shop's calendar has changed.

What the shell calls (every datetime must be timezone-aware; a naive one is refused):

    cal = BusinessCalendar(zone="Asia/Seoul", hours=(...7 entries, Monday first...),
                           holidays=(date, ...), closures=(date, ...),
                           closed_every=(RegularClosing(weekday=0, weeks=(2, 4)), ...),
                           openings=(ExtraOpening(day=date, hours=(...)), ...))
    cal.add_business_time(start, amount) -> datetime   # `amount` of open time after `start`
    cal.business_time_between(a, b) -> timedelta       # the open time in [a, b)
    cal.next_open(t) -> datetime                       # t itself when open (staff reminders)
    cal.is_open(t) -> bool
    cal.open_interval(day) -> (opens, closes) | None   # one local date, as UTC instants
    cal.open_intervals(day) -> ((opens, closes), ...)  # its periods, as UTC instants
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
CET). A day whose whole hours are skipped has no open time.

A weekday has one period (10:00-19:00) or several (a break: 11:00-15:00 and 17:00-22:00); a
period that closes at or before its opening time runs past midnight (18:00-02:00 closes at
02:00 the next morning) and belongs to the day it starts: a holiday or closure on that day
closes it whole, and a closure on the next day leaves it alone. A regular closing day
(every Monday, the 2nd and 4th Sunday) closes the day like a holiday; a one-off extra
opening opens a date with its own periods whatever its weekday, holiday or regular
closing (a one-off closure of the same date is a contradiction, refused).

Bounds: a calendar without any open weekday is refused when it is built, and a search
gives up with CalendarClosed after MAX_CLOSED_DAYS days in a row without opening hours
(holidays and closures covering a whole year), so nothing here can loop forever.
"""

import itertools
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
_Day = tuple[tuple[datetime, datetime], ...]  # a local date's open periods, UTC instants
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
    """One period of a day, local time: open from `opens` until `closes`, the same day, or
    the next morning when `closes` is not later than `opens` (18:00-02:00)."""

    opens: time
    closes: time

    @model_validator(mode="after")
    def _a_period(self) -> Self:
        if self.opens == self.closes:
            raise ValueError(
                f"a period opens and closes at {self.opens:%H:%M}: give a window such as "
                "10:00-19:00, or 18:00-02:00 past midnight"
            )
        return self

    @property
    def past_midnight(self) -> bool:
        return self.closes <= self.opens

    def label(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


# A weekday's hours: one period, several in order (a break between them), or None (closed).
# One period is kept as it was written (cases opened before breaks hold it so).
DayHours = OpeningHours | tuple[OpeningHours, ...] | None
# Read left to right: every case's calendar is parsed again in a replay and a rebuild, and
# pydantic's smart union tried each member of each of the seven days (a third of the parse).
_DayHours = Annotated[DayHours, Field(union_mode="left_to_right")]


def periods_of(hours: DayHours) -> tuple[OpeningHours, ...]:
    """A day's periods in order; none when closed."""
    if hours is None:
        return ()
    return (hours,) if isinstance(hours, OpeningHours) else hours


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _periods_in_order(periods: tuple[OpeningHours, ...], name: str) -> None:
    """Periods of one day: in order, apart, only the last past midnight."""
    for earlier, later in itertools.pairwise(periods):
        if earlier.past_midnight or _minutes(later.opens) < _minutes(earlier.closes):
            raise ValueError(
                f"{name}: {earlier.label()} and {later.label()} overlap or are out of order; "
                "write the periods in order, e.g. 11:00-15:00,17:00-22:00"
            )


def _spill_fits(day: tuple[OpeningHours, ...], after: tuple[OpeningHours, ...], name: str) -> None:
    """A period past midnight must close before the next day's first period opens."""
    if day and after and day[-1].past_midnight and day[-1].closes > after[0].opens:
        raise ValueError(f"{name}: {day[-1].label()} runs into the next day's {after[0].label()}")


class RegularClosing(_Value):
    """A regular closing day (정기휴무): `weekday` (0 = Monday) every week, or only in the
    `weeks` of the month (1..5: the 1st..5th such weekday; -1: the last)."""

    weekday: int = Field(ge=0, le=6)
    weeks: tuple[int, ...] = ()

    @field_validator("weeks")
    @classmethod
    def _weeks(cls, weeks: tuple[int, ...]) -> tuple[int, ...]:
        for n in weeks:
            if n not in (1, 2, 3, 4, 5, -1):
                raise ValueError(f"week {n} of the month: write 1st..5th or last")
        return tuple(sorted(set(weeks)))

    def closes(self, day: date) -> bool:
        if day.weekday() != self.weekday:
            return False
        if not self.weeks:
            return True
        nth = (day.day - 1) // 7 + 1
        last = (day + timedelta(days=7)).month != day.month
        return nth in self.weeks or (last and -1 in self.weeks)


class ExtraOpening(_Value):
    """A one-off opening on a local date, with its own periods (a closed weekday, a holiday)."""

    day: date
    hours: tuple[OpeningHours, ...] = Field(min_length=1)


class BusinessCalendar(_Value):
    """When the shop is open: hours per weekday (Monday first; None: closed all day), minus
    public holidays, regular closing days and one-off closures (local dates), plus one-off
    extra openings, in one IANA zone. `years`: the first and last year whose holidays it
    holds (None in cases opened before it was kept: the opening year and the next)."""

    zone: ZoneName = "Asia/Seoul"
    hours: tuple[_DayHours, ...] = Field(min_length=7, max_length=7)
    holidays: tuple[date, ...] = ()
    closures: tuple[date, ...] = ()
    closed_every: tuple[RegularClosing, ...] = ()
    openings: tuple[ExtraOpening, ...] = ()
    years: tuple[int, int] | None = None

    @field_validator("holidays", "closures")
    @classmethod
    def _sorted_once(cls, days: tuple[date, ...]) -> tuple[date, ...]:
        if all(map(operator.lt, days, days[1:])):  # as stored: every case opened reads it
            return days
        return tuple(sorted(set(days)))

    @field_validator("hours")
    @classmethod
    def _no_empty_day(cls, hours: tuple[DayHours, ...]) -> tuple[DayHours, ...]:
        for h in hours:
            if type(h) is tuple and not h:  # no periods: a closed day
                return tuple(None if type(d) is tuple and not d else d for d in hours)
        return hours

    @model_validator(mode="after")
    def _opens_sometime(self) -> Self:
        # One loop, spelled out: every case's calendar is checked again in a replay and a
        # rebuild, and most are one period a day, none past midnight (nothing more to check).
        weekly = {c.weekday for c in self.closed_every if not c.weeks}
        opens, simple = False, not self.openings
        for n, h in enumerate(self.hours):
            if h is None:
                continue
            opens = opens or n not in weekly
            if simple and (type(h) is not OpeningHours or h.closes <= h.opens):
                simple = False
        if not opens:
            raise ValueError(
                "a business calendar needs opening hours on at least one weekday; with none, "
                "business time would never pass (use wall-clock targets instead)"
            )
        if simple:
            return self
        week = [periods_of(h) for h in self.hours]
        for n, periods in enumerate(week):
            if isinstance(self.hours[n], tuple):
                _periods_in_order(periods, _DAY_NAMES[n])
            _spill_fits(periods, week[(n + 1) % 7], _DAY_NAMES[n])
        closed = set(self.closures)
        for extra in self.openings:
            name = extra.day.isoformat()
            if extra.day in closed:
                raise ValueError(f"{name} is both closed and opened once; keep one of the two")
            _periods_in_order(extra.hours, name)
            _spill_fits(extra.hours, week[(extra.day.weekday() + 1) % 7], name)
            _spill_fits(week[(extra.day.weekday() - 1) % 7], extra.hours, name)
        return self

    def open_interval(self, day: date) -> tuple[datetime, datetime] | None:
        """When the shop is open on the local date `day`: from its first opening to its last
        closing, as UTC instants; None on a closed weekday, a holiday, a closure, a regular
        closing day, or if a clock change skips it all."""
        intervals = self._intervals(self._memo().days, day)
        return (intervals[0][0], intervals[-1][1]) if intervals else None

    def open_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open periods of the local date `day` as UTC instants, in order (a period
        past midnight ends the next morning); none when the shop is closed that day."""
        return self._intervals(self._memo().days, day)

    def _intervals(self, days: dict[date, _Day], day: date) -> _Day:
        """open_intervals, given this calendar's memo of days (a count asks day after day)."""
        found = days.get(day)
        if found is None:
            found = days[day] = self._day(day)
        return found

    def _day(self, day: date) -> _Day:
        if day in self.closures:
            return ()
        if self.openings:  # guarded: most calendars have none, and a rebuild asks often
            for extra in self.openings:
                if extra.day == day:
                    return _opening(day, extra.hours, self.zone)
        hours = self.hours[day.weekday()]
        if hours is None or day in self.holidays:
            return ()
        if self.closed_every and any(c.closes(day) for c in self.closed_every):
            return ()
        return _opening(day, (hours,) if isinstance(hours, OpeningHours) else hours, self.zone)

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
            or memo.closed_every is not self.closed_every
            or memo.openings is not self.openings
        ):
            memo = self.__dict__["_answers"] = _Memo(self)
        return memo

    def is_open(self, t: datetime) -> bool:
        at = _utc(t)
        memo = self._memo()
        days = memo.days
        day = at.astimezone(ZoneInfo(self.zone)).date()
        for d in (day - memo.back, day):  # the day before may run past midnight
            for opens, closes in self._intervals(days, d):
                if opens <= at < closes:
                    return True
        return False

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
        The walk of _intervals_from written out as one loop, not a generator: every due time
        of every fold and rebuild is counted here, and the generator's frames were half of
        its cost."""
        memo = self._memo()
        days = memo.days
        # From the day before when a period runs past midnight (into `at`'s day).
        day = at.astimezone(ZoneInfo(self.zone)).date() - memo.back
        closed = 0  # days in a row without opening hours
        while closed < MAX_CLOSED_DAYS:
            intervals = self._intervals(days, day)
            day += _DAY
            if not intervals:
                closed += 1
                continue
            closed = 0
            for opens, closes in intervals:
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
        """The open intervals that end after `at` (UTC), in order, from the day before its
        local date on (a period past midnight)."""
        memo = self._memo()  # once, not once per day through open_intervals
        days = memo.days
        day = at.astimezone(ZoneInfo(self.zone)).date() - memo.back
        closed = 0  # days in a row without opening hours
        while closed < MAX_CLOSED_DAYS:
            intervals = self._intervals(days, day)
            day += _DAY
            if not intervals:
                closed += 1
                continue
            closed = 0
            for interval in intervals:
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

    __slots__ = (
        "back",
        "closed_every",
        "closures",
        "days",
        "due",
        "holidays",
        "hours",
        "openings",
        "zone",
    )

    def __init__(self, cal: BusinessCalendar) -> None:
        self.hours, self.holidays, self.closures = cal.hours, cal.holidays, cal.closures
        self.zone, self.closed_every, self.openings = cal.zone, cal.closed_every, cal.openings
        self.days: dict[date, _Day] = {}
        self.due: dict[tuple[datetime, timedelta], datetime] = {}
        # How far back a walk starts: a day, when some period runs past midnight.
        late = any(p.past_midnight for h in cal.hours for p in periods_of(h)) or any(
            p.past_midnight for extra in cal.openings for p in extra.hours
        )
        self.back = _DAY if late else _NONE


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
def _opening(day: date, periods: tuple[OpeningHours, ...], zone: str) -> _Day:
    """A day's open periods (UTC). Cached: every due time of every fold and rebuild asks
    for the same few days, and finding a wall-clock time's instant is the costly part."""
    tz = ZoneInfo(zone)
    out = []
    for period in periods:
        start = _instant(day, period.opens, tz)
        end = _instant(day + _DAY if period.past_midnight else day, period.closes, tz)
        if start < end:
            out.append((start, end))
    return tuple(out)


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

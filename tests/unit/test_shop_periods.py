"""Calendars as shops keep them: breaks, periods past midnight, regular closing days and
one-off extra openings, checked against a minute-by-minute walk of the wall clock (across
the clock changes of Berlin and New York), then the examples an owner would check by hand.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.calendar import (
    BusinessCalendar,
    DayHours,
    ExtraOpening,
    OpeningHours,
    RegularClosing,
    periods_of,
)
from domain.errors import CalendarClosed

MINUTE = timedelta(minutes=1)
SEOUL = ZoneInfo("Asia/Seoul")


def period(window: str) -> OpeningHours:
    opens, closes = window.split("-")
    return OpeningHours(opens=time.fromisoformat(opens), closes=time.fromisoformat(closes))


def day(text: str) -> tuple[OpeningHours, ...]:
    return tuple(period(w) for w in text.split(","))


# ---------------------------------------------------------------------------------------
# The oracle: which periods a local date has, read from the calendar's fields without its
# code, and for each period a walk of the wall clock: it opens the first minute the clock
# shows its opening time (or later) on its date, and closes the first minute the clock
# shows its closing time (or later) on its date, or the next date when past midnight.


def nth_rule(rule: RegularClosing, d: date) -> bool:
    if d.weekday() != rule.weekday:
        return False
    if not rule.weeks:
        return True
    same_before = sum(
        1 for k in range(1, d.day) if date(d.year, d.month, k).weekday() == d.weekday()
    )
    later = [d + timedelta(days=7 * k) for k in (1,)]
    is_last = all(x.month != d.month for x in later)
    return (same_before + 1) in rule.weeks or (is_last and -1 in rule.weeks)


def periods_on(cal: BusinessCalendar, d: date) -> tuple[OpeningHours, ...]:
    if d in cal.closures:
        return ()
    extra = [o for o in cal.openings if o.day == d]
    if extra:
        return extra[0].hours
    if d in cal.holidays or any(nth_rule(r, d) for r in cal.closed_every):
        return ()
    return periods_of(cal.hours[d.weekday()])


def open_minutes(cal: BusinessCalendar, start: datetime) -> Iterator[bool]:
    zone = ZoneInfo(cal.zone)
    phase: dict[tuple[date, int], str] = {}
    warm_up = 36 * 60  # from the day before yesterday: a period past midnight is known
    moment = start - warm_up * MINUTE
    for i in range(warm_up + 40 * 24 * 60):
        wall = moment.astimezone(zone)
        today, now = wall.date(), wall.time()
        is_open = False
        for d in (today - timedelta(days=1), today):
            for k, p in enumerate(periods_on(cal, d)):
                state = phase.get((d, k), "before")
                if state == "before" and (today > d or now >= p.opens):
                    state = "open"
                ends = d + timedelta(days=1) if p.closes <= p.opens else d
                if state == "open" and (today > ends or (today == ends and now >= p.closes)):
                    state = "after"
                phase[d, k] = state
                is_open = is_open or state == "open"
        if i >= warm_up:
            yield is_open
        moment += MINUTE
    raise AssertionError("the oracle walked 40 days")


def oracle_add(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    counted = 0
    for i, is_open in enumerate(open_minutes(cal, start)):
        if is_open and minutes == 0:
            return start + i * MINUTE
        counted += is_open
        if is_open and counted == minutes:
            return start + (i + 1) * MINUTE
    raise AssertionError("unreachable")


PLACES = (
    ("Europe/Berlin", datetime(2026, 3, 29, 1, tzinfo=UTC)),  # 02:00 -> 03:00, a last Sunday
    ("Europe/Berlin", datetime(2026, 10, 25, 1, tzinfo=UTC)),  # 03:00 -> 02:00
    ("America/New_York", datetime(2026, 3, 8, 7, tzinfo=UTC)),  # 02:00 -> 03:00, a 2nd Sunday
    ("America/New_York", datetime(2026, 11, 1, 6, tzinfo=UTC)),  # 02:00 -> 01:00, a 1st Sunday
    ("Asia/Seoul", datetime(2026, 9, 24, 1, tzinfo=UTC)),
)


def at(minutes: int) -> time:
    return time(minutes // 60 % 24, minutes % 60)


@st.composite
def day_periods(draw: st.DrawFn) -> DayHours:
    """Closed, one period, a break (two periods), or a late period that closes between
    00:30 and 04:30 the next morning (where the clocks change); every opening is at 06:00 or
    later, so a late period never runs into the next day."""
    kind = draw(st.sampled_from(["closed", "one", "break", "late", "late"]))
    if kind == "closed":
        return None
    if kind == "late":
        opens = draw(st.integers(16 * 60, 22 * 60))
        closes = draw(st.integers(30, 270))
        return OpeningHours(opens=at(opens), closes=at(closes))
    opens = draw(st.integers(6 * 60, 11 * 60))
    first = opens + draw(st.integers(60, 240))
    if kind == "one":
        return OpeningHours(opens=at(opens), closes=at(first))
    again = first + draw(st.integers(15, 180))
    closes = min(again + draw(st.integers(60, 300)), 23 * 60 + 59)
    return (
        OpeningHours(opens=at(opens), closes=at(first)),
        OpeningHours(opens=at(again), closes=at(closes)),
    )


@st.composite
def shops(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime]:
    zone, change = draw(st.sampled_from(PLACES))
    week = tuple(draw(day_periods()) for _ in range(7))
    near = st.integers(-6, 10).map(lambda i: change.date() + timedelta(days=i))
    rules = draw(
        st.lists(
            st.builds(
                RegularClosing,
                weekday=st.integers(0, 6),
                weeks=st.lists(st.sampled_from([1, 2, 3, 4, 5, -1]), max_size=2).map(tuple),
            ),
            max_size=2,
        )
    )
    extra_hours = st.one_of(st.just(day("12:00-16:00")), st.just(day("20:00-02:30")))
    openings = draw(
        st.lists(
            st.builds(ExtraOpening, day=near, hours=extra_hours),
            max_size=2,
            unique_by=lambda o: o.day,
        )
    )
    closures = tuple(draw(st.lists(near, max_size=3)))
    holidays = tuple(draw(st.lists(near, max_size=2)))
    try:
        cal = BusinessCalendar(
            zone=zone,
            hours=week,
            holidays=holidays,
            closures=closures,
            closed_every=tuple(rules),
            openings=tuple(openings),
        )
    except ValidationError:
        assume(False)
        raise
    # A weekday that opens, and no more than a week closed: the oracle walks 40 days.
    assume(sum(h is not None for h in week) >= 3)
    return cal, change + draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)) * MINUTE


ORACLE = settings(max_examples=40, deadline=None)


@ORACLE
@given(shops(), st.integers(0, 12 * 60))
def test_due_times_count_the_open_minutes_the_wall_clock_shows(
    shop: tuple[BusinessCalendar, datetime], minutes: int
) -> None:
    cal, start = shop
    assert cal.add_business_time(start, minutes * MINUTE) == oracle_add(cal, start, minutes)


@ORACLE
@given(shops(), st.integers(0, 2 * 24 * 60))
def test_open_time_between_two_instants_is_what_the_wall_clock_shows(
    shop: tuple[BusinessCalendar, datetime], minutes: int
) -> None:
    cal, a = shop
    flags = open_minutes(cal, a)
    expected = sum(next(flags) for _ in range(minutes)) * MINUTE
    assert cal.business_time_between(a, a + minutes * MINUTE) == expected


@ORACLE
@given(shops())
def test_open_now_is_what_the_wall_clock_shows(shop: tuple[BusinessCalendar, datetime]) -> None:
    cal, t = shop
    assert cal.is_open(t) == next(open_minutes(cal, t))


# ---------------------------------------------------------------------------------------
# The owner's examples.

BREAK = BusinessCalendar(zone="Asia/Seoul", hours=(day("11:00-15:00,17:00-22:00"),) * 7)


def seoul(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SEOUL)


def test_an_hour_from_tuesday_1430_lands_after_the_break() -> None:
    start = seoul("2026-12-08 14:30")  # a Tuesday
    assert BREAK.add_business_time(start, timedelta(hours=1)) == seoul("2026-12-08 17:30")
    assert BREAK.business_time_between(start, seoul("2026-12-08 17:30")) == timedelta(hours=1)
    assert not BREAK.is_open(seoul("2026-12-08 16:00"))


def test_a_period_past_midnight_belongs_to_the_day_it_starts() -> None:
    bar = BusinessCalendar(
        zone="Asia/Seoul",
        hours=(period("18:00-02:00"),) * 7,
        holidays=(date(2026, 12, 8),),  # Tuesday: its night is closed whole
        closures=(date(2026, 12, 10),),  # Thursday: Wednesday's night still runs to 02:00
    )
    assert bar.is_open(seoul("2026-12-08 01:30"))  # Monday's night
    assert not bar.is_open(seoul("2026-12-08 20:00"))
    assert not bar.is_open(seoul("2026-12-09 01:00"))
    assert bar.is_open(seoul("2026-12-10 01:59"))
    assert bar.add_business_time(seoul("2026-12-09 23:00"), timedelta(hours=4)) == seoul(
        "2026-12-11 19:00"  # 3 h of Wednesday's night, Thursday closed, 1 h on Friday
    )
    assert bar.open_intervals(date(2026, 12, 9)) == (
        (seoul("2026-12-09 18:00").astimezone(UTC), seoul("2026-12-10 02:00").astimezone(UTC)),
    )


def test_the_2nd_and_4th_monday_are_closed() -> None:
    cal = BusinessCalendar(
        zone="Asia/Seoul",
        hours=(period("10:00-19:00"),) * 7,
        closed_every=(RegularClosing(weekday=0, weeks=(2, 4)),),
    )
    mondays = [date(2026, 12, d) for d in (7, 14, 21, 28)]  # 1st..4th Monday
    assert [cal.open_interval(d) is None for d in mondays] == [False, True, False, True]
    last = RegularClosing(weekday=0, weeks=(-1,))
    assert last.closes(date(2026, 12, 28)) and not last.closes(date(2026, 12, 21))


def test_an_extra_opening_opens_a_closed_day() -> None:
    sunday = date(2026, 12, 13)
    cal = BusinessCalendar(
        zone="Asia/Seoul",
        hours=(period("10:00-19:00"),) * 5 + (None, None),
        openings=(ExtraOpening(day=sunday, hours=day("12:00-16:00")),),
    )
    assert cal.is_open(seoul("2026-12-13 13:00")) and not cal.is_open(seoul("2026-12-13 11:00"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hours": (day("11:00-15:00,14:00-22:00"),) * 7}, "overlap or are out of order"),
        ({"hours": (day("18:00-02:00,20:00-23:00"),) * 7}, "overlap or are out of order"),
        (
            {"hours": (period("18:00-11:00"), period("10:00-19:00"), *(None,) * 5)},
            "mon: 18:00-11:00 runs into the next day's 10:00-19:00",
        ),
        (
            {
                "hours": (period("10:00-19:00"),) * 7,
                "closed_every": tuple(RegularClosing(weekday=d) for d in range(7)),
            },
            "needs opening hours on at least one weekday",
        ),
        (
            {
                "hours": (period("10:00-19:00"),) * 7,
                "closures": (date(2026, 12, 13),),
                "openings": (ExtraOpening(day=date(2026, 12, 13), hours=day("12:00-16:00")),),
            },
            "2026-12-13 is both closed and opened once",
        ),
    ],
)
def test_a_contradictory_calendar_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BusinessCalendar.model_validate({"zone": "Asia/Seoul", **kwargs})


def test_a_year_of_closures_leaves_no_open_hour() -> None:
    first = date(2026, 12, 7)
    cal = BusinessCalendar(
        zone="Asia/Seoul",
        hours=(period("10:00-19:00"),) * 7,
        closures=tuple(first + timedelta(days=i) for i in range(370)),
    )
    with pytest.raises(CalendarClosed, match="no opening hours in the 366 days"):
        cal.next_open(seoul("2026-12-07 09:00"))

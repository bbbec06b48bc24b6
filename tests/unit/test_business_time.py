"""Business time: only the shop's open hours count.

First properties against a brute-force oracle that walks the calendar minute by minute and
reads the shop's wall clock, then the examples a shop owner would check by hand.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.calendar import (
    MAX_CLOSED_DAYS,
    BusinessCalendar,
    OpeningHours,
    QuietHours,
    due_at,
    time_between,
)
from domain.clock import staff_due_at
from domain.commands import (
    AnalyzeCause,
    Apologize,
    CheckClock,
    Command,
    Empathize,
    OfferedRemedy,
    OfferResolution,
)
from domain.decider import decide, fold
from domain.errors import CalendarClosed
from domain.events import EVENT_ADAPTER, CaseOpened
from domain.model import CaseState, CaseStatus, Fault, Motive, RemedyKind, ResponseTargets, Step
from domain.policy import response_targets
from tests.helpers import open_command

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
TICK = timedelta(microseconds=1)
SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def hours(window: str) -> OpeningHours:
    opens, closes = window.split("-")
    return OpeningHours(opens=time.fromisoformat(opens), closes=time.fromisoformat(closes))


WEEKDAYS = (hours("10:00-19:00"),) * 5 + (None, None)
SHOP = BusinessCalendar(zone="Asia/Seoul", hours=WEEKDAYS)


def every_day(window: str, zone: str) -> BusinessCalendar:
    return BusinessCalendar(zone=zone, hours=(hours(window),) * 7)


# ---------------------------------------------------------------------------------------
# The oracle: minute by minute, off the wall clock. A day's shop opens the first time the
# wall clock shows its opening time (or later) on that date, and closes the first time it
# shows the closing time (or later): a time the clocks skip opens or closes at the jump, a
# time they repeat counts at its first showing.


def open_minutes(cal: BusinessCalendar, start: datetime) -> Iterator[bool]:
    """Whether the shop is open during each minute from `start` on (at most 60 days)."""
    zone = ZoneInfo(cal.zone)
    closed_dates = set(cal.holidays) | set(cal.closures)
    state: dict[date, str] = {}  # per local date: before, open, after
    # Walk from before the local midnight of start's date, so that date's state is known.
    midnight = datetime.combine(start.astimezone(zone).date(), time(), tzinfo=zone)
    warm_up = (start - midnight) // MINUTE + 180
    moment = start - warm_up * MINUTE
    for i in range(warm_up + 60 * 24 * 60):
        wall = moment.astimezone(zone)
        day, now = wall.date(), wall.time()
        day_hours = cal.hours[day.weekday()]
        phase = state.get(day, "before")
        if day_hours is not None and phase == "before" and now >= day_hours.opens:
            phase = "open"
        if day_hours is not None and phase == "open" and now >= day_hours.closes:
            phase = "after"
        state[day] = phase
        if i >= warm_up:
            yield phase == "open" and day not in closed_dates
        moment += MINUTE
    raise AssertionError("the oracle walked 60 days")


def oracle_add(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    counted = 0
    for i, is_open in enumerate(open_minutes(cal, start)):
        if is_open and minutes == 0:
            return start + i * MINUTE
        counted += is_open
        if is_open and counted == minutes:
            return start + (i + 1) * MINUTE
    raise AssertionError("unreachable")


def oracle_between(cal: BusinessCalendar, a: datetime, minutes: int) -> timedelta:
    flags = open_minutes(cal, a)
    return sum(next(flags) for _ in range(minutes)) * MINUTE


# Each zone with the instants (UTC) where its 2026 clock changes, Seoul with Chuseok.
PLACES = (
    ("Europe/Berlin", datetime(2026, 3, 29, 1, tzinfo=UTC)),  # 02:00 -> 03:00
    ("Europe/Berlin", datetime(2026, 10, 25, 1, tzinfo=UTC)),  # 03:00 -> 02:00
    ("America/New_York", datetime(2026, 3, 8, 7, tzinfo=UTC)),  # 02:00 -> 03:00
    ("America/New_York", datetime(2026, 11, 1, 6, tzinfo=UTC)),  # 02:00 -> 01:00
    ("Asia/Seoul", datetime(2026, 9, 24, 1, tzinfo=UTC)),
)


@st.composite
def day_hours(draw: st.DrawFn) -> OpeningHours:
    # One draw in four opens between 01:50 and 03:10, so that clock changes hit openings.
    opens = draw(st.integers(0, 960))
    opens = opens if opens <= 720 else 110 + (opens - 721) % 81
    closes = opens + draw(st.integers(180, 24 * 60 - 1 - opens))
    return OpeningHours(opens=time(opens // 60, opens % 60), closes=time(closes // 60, closes % 60))


@st.composite
def shops(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime]:
    """A calendar open at least three weekdays, and an instant (whole minute) near its
    zone's clock change."""
    zone, change = draw(st.sampled_from(PLACES))
    week: list[OpeningHours | None] = [draw(day_hours()) for _ in range(7)]
    for closed in draw(st.sets(st.integers(0, 6), max_size=4)):
        week[closed] = None
    near = st.lists(st.integers(-6, 14), max_size=4).map(
        lambda offsets: tuple(change.date() + timedelta(days=i) for i in offsets)
    )
    cal = BusinessCalendar(zone=zone, hours=tuple(week), holidays=draw(near), closures=draw(near))
    return cal, change + draw(st.integers(-4 * 24 * 60, 3 * 24 * 60)) * MINUTE


@st.composite
def shops_any_instant(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime]:
    cal, start = draw(shops())
    return cal, start + draw(st.integers(0, 59_999_999)) * TICK


# Example counts keep the file to a few seconds (and `make mutation` runs it per mutant).
ORACLE = settings(max_examples=30, deadline=None)
CHEAP = settings(max_examples=60, deadline=None)


@ORACLE
@given(shops(), st.integers(0, 16 * 60))
def test_adding_business_time_counts_the_open_minutes_the_wall_clock_shows(
    shop: tuple[BusinessCalendar, datetime], minutes: int
) -> None:
    cal, start = shop
    assert cal.add_business_time(start, minutes * MINUTE) == oracle_add(cal, start, minutes)


@ORACLE
@given(shops(), st.integers(0, 3 * 24 * 60))
def test_business_time_between_counts_the_open_minutes_in_the_span(
    shop: tuple[BusinessCalendar, datetime], minutes: int
) -> None:
    cal, a = shop
    assert cal.business_time_between(a, a + minutes * MINUTE) == oracle_between(cal, a, minutes)


@ORACLE
@given(shops())
def test_open_now_and_the_next_opening_are_what_the_wall_clock_shows(
    shop: tuple[BusinessCalendar, datetime],
) -> None:
    cal, t = shop
    assert cal.is_open(t) == next(open_minutes(cal, t))
    assert cal.next_open(t) == oracle_add(cal, t, 0)
    assert (cal.next_open(t) == t) == cal.is_open(t)


@ORACLE
@given(shops(), st.integers(1, 16 * 60))
def test_nothing_falls_due_on_a_holiday_a_closure_or_outside_the_hours(
    shop: tuple[BusinessCalendar, datetime], minutes: int
) -> None:
    cal, start = shop
    due = cal.add_business_time(start, minutes * MINUTE)
    last_minute = due - MINUTE
    assert next(open_minutes(cal, last_minute))
    assert cal.is_open(last_minute) and cal.is_open(due - TICK)
    day = last_minute.astimezone(ZoneInfo(cal.zone)).date()
    assert day not in cal.holidays and day not in cal.closures
    assert cal.hours[day.weekday()] is not None


def clock_time(minutes: int) -> time:
    """Minutes since midnight, one draw in four around the small hours clocks change in."""
    minutes = minutes if minutes < 24 * 60 else 60 + (minutes - 24 * 60) % 121
    return time(minutes // 60, minutes % 60)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PLACES[:4]), st.integers(-1, 1), st.integers(0, 1919), st.integers(0, 1919))
def test_a_days_hours_are_where_the_wall_clock_shows_them(
    place: tuple[str, datetime], shift: int, a: int, b: int
) -> None:
    zone, change = place
    opens, closes = sorted((clock_time(a), clock_time(b)))
    if opens == closes:
        return
    tz = ZoneInfo(zone)
    day = change.astimezone(tz).date() + shift * timedelta(days=1)
    alone = BusinessCalendar(
        zone=zone,
        hours=(OpeningHours(opens=opens, closes=closes),) * 7,
        closures=(day - timedelta(days=1), day + timedelta(days=1)),
    )
    start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC) - 2 * HOUR
    walk = open_minutes(alone, start)
    minutes = [i for i in range(30 * 60) if next(walk)]
    if not minutes:  # the clocks skipped all of that day's hours
        assert alone.open_interval(day) is None
        return
    expected = (start + minutes[0] * MINUTE, start + (minutes[-1] + 1) * MINUTE)
    assert alone.open_interval(day) == expected


@CHEAP
@given(shops_any_instant(), st.integers(0, 40 * 3600 * 10**6))
def test_counting_back_the_time_added_gives_the_amount_exactly(
    shop: tuple[BusinessCalendar, datetime], micros: int
) -> None:
    cal, start = shop
    amount = micros * TICK
    assert cal.business_time_between(start, cal.add_business_time(start, amount)) == amount


@CHEAP
@given(shops_any_instant(), st.integers(0, 3 * 24 * 3600), st.integers(0, 20 * 3600))
def test_a_later_start_is_never_due_sooner(
    shop: tuple[BusinessCalendar, datetime], later_by: int, seconds: int
) -> None:
    cal, start = shop
    amount = seconds * timedelta(seconds=1)
    later = start + later_by * timedelta(seconds=1)
    assert cal.add_business_time(start, amount) <= cal.add_business_time(later, amount)


@CHEAP
@given(shops_any_instant(), st.integers(0, 20 * 3600), st.integers(1, 20 * 3600))
def test_more_time_is_always_due_later(
    shop: tuple[BusinessCalendar, datetime], seconds: int, more: int
) -> None:
    cal, start = shop
    less, longer = seconds * timedelta(seconds=1), (seconds + more) * timedelta(seconds=1)
    assert cal.add_business_time(start, less) < cal.add_business_time(start, longer)


# ---------------------------------------------------------------------------------------
# What a shop owner checks by hand (Seoul, open 10:00-19:00 Monday to Friday).


def kst(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SEOUL)


@pytest.mark.parametrize(
    ("start", "amount", "due"),
    [
        (kst(11, 20, 17), 8 * HOUR, "2026-11-23T16:00:00+09:00"),  # Friday 17:00: Monday 16:00
        (kst(11, 20, 10), 9 * HOUR, "2026-11-20T19:00:00+09:00"),  # due at closing, not Monday
        (kst(11, 20, 10), 9 * HOUR + TICK, "2026-11-23T10:00:00.000001+09:00"),
        (kst(11, 21, 12), 2 * HOUR, "2026-11-23T12:00:00+09:00"),  # Saturday: Monday's opening
        (kst(11, 23, 7, 30), 30 * MINUTE, "2026-11-23T10:30:00+09:00"),  # before opening
        (kst(11, 23, 19), HOUR, "2026-11-24T11:00:00+09:00"),  # at closing
        (kst(11, 22, 9), timedelta(0), "2026-11-23T10:00:00+09:00"),  # zero: the next opening
        (kst(11, 23, 11), timedelta(0), "2026-11-23T11:00:00+09:00"),
        (kst(11, 23, 19), timedelta(0), "2026-11-24T10:00:00+09:00"),  # closing is closed
        (kst(11, 20, 17), 50 * HOUR, "2026-11-30T13:00:00+09:00"),  # over two weekends
    ],
)
def test_business_time_by_hand(start: datetime, amount: timedelta, due: str) -> None:
    assert SHOP.add_business_time(start, amount).isoformat() == due


def test_the_due_time_comes_back_in_the_zone_it_was_asked_in() -> None:
    start = kst(11, 20, 17).astimezone(UTC)
    assert str(SHOP.add_business_time(start, 8 * HOUR)) == "2026-11-23 07:00:00+00:00"
    assert str(SHOP.next_open(start)) == "2026-11-20 08:00:00+00:00"


@pytest.mark.parametrize(
    ("a", "b", "between"),
    [
        (kst(11, 20, 17), kst(11, 23, 16), 8 * HOUR),
        (kst(11, 20, 9), kst(11, 20, 20), 9 * HOUR),
        (kst(11, 21, 0), kst(11, 23, 0), timedelta(0)),  # a weekend
        (kst(11, 23, 12), kst(11, 23, 12), timedelta(0)),
        (kst(11, 23, 18, 59), kst(11, 23, 19), MINUTE),
        (kst(11, 23, 10), kst(11, 30, 10), 45 * HOUR),  # a whole week
    ],
)
def test_business_time_between_by_hand(a: datetime, b: datetime, between: timedelta) -> None:
    assert SHOP.business_time_between(a, b) == between


@pytest.mark.parametrize(
    ("t", "is_open"),
    [
        (kst(11, 23, 9, 59), False),
        (kst(11, 23, 10), True),
        (kst(11, 23, 18, 59), True),
        (kst(11, 23, 19), False),
        (kst(11, 22, 12), False),  # Sunday
    ],
)
def test_open_from_the_opening_up_to_the_closing(t: datetime, is_open: bool) -> None:
    assert SHOP.is_open(t) is is_open


def test_holidays_and_closures_are_closed_days() -> None:
    cal = SHOP.model_copy(
        update={"holidays": (date(2026, 11, 23),), "closures": (date(2026, 11, 24),)}
    )
    assert not cal.is_open(kst(11, 23, 12)) and not cal.is_open(kst(11, 24, 12))
    assert cal.add_business_time(kst(11, 20, 17), 8 * HOUR) == kst(11, 25, 16)
    assert cal.business_time_between(kst(11, 23), kst(11, 26)) == 9 * HOUR
    assert cal.open_interval(date(2026, 11, 23)) is None
    assert cal.open_interval(date(2026, 11, 24)) is None
    assert cal.open_interval(date(2026, 11, 22)) is None  # Sunday
    assert cal.open_interval(date(2026, 11, 25)) == (kst(11, 25, 10), kst(11, 25, 19))


def test_holidays_and_closures_are_kept_sorted_and_once() -> None:
    d1, d2 = date(2026, 9, 24), date(2026, 9, 25)
    cal = BusinessCalendar(hours=WEEKDAYS, holidays=(d2, d1, d2), closures=(d2, d1, d1))
    assert (cal.holidays, cal.closures) == ((d1, d2), (d1, d2))
    assert cal.zone == "Asia/Seoul"
    # in order already, as stored ones are (read as they are), or in order but twice
    cal = BusinessCalendar(hours=WEEKDAYS, holidays=(d1, d2), closures=(d1, d1, d2))
    assert (cal.holidays, cal.closures) == ((d1, d2), (d1, d2))


def test_the_wall_clock_counts_every_hour_and_business_time_only_open_ones() -> None:
    start = kst(11, 20, 17)
    assert due_at(start, 8 * HOUR, None) == kst(11, 21, 1)
    assert due_at(start, 8 * HOUR, SHOP) == kst(11, 23, 16)
    assert time_between(start, kst(11, 23, 16), None) == 71 * HOUR
    assert time_between(start, kst(11, 23, 16), SHOP) == 8 * HOUR


# ---------------------------------------------------------------------------------------
# Clock changes: counted in real elapsed time, the local hours read off the shop's clock.


def test_a_night_across_the_spring_change_still_counts_the_open_hours() -> None:
    berlin = every_day("10:00-19:00", "Europe/Berlin")
    saturday = datetime(2026, 3, 28, 18, tzinfo=BERLIN)
    assert berlin.add_business_time(saturday, 2 * HOUR).isoformat() == ("2026-03-29T11:00:00+02:00")
    # The wall clock counts elapsed time too: 24 hours, where Python's own arithmetic on
    # two times in one zone would give 23.
    noon = datetime(2026, 3, 28, 12, tzinfo=BERLIN)
    assert due_at(noon, 24 * HOUR, None).isoformat() == "2026-03-29T13:00:00+02:00"
    assert time_between(noon, datetime(2026, 3, 29, 13, tzinfo=BERLIN), None) == 24 * HOUR


@pytest.mark.parametrize(
    ("zone", "day", "hours_open"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 5),  # 02:00-03:00 never happens
        ("Europe/Berlin", date(2026, 10, 25), 7),  # 02:00-03:00 happens twice
        ("America/New_York", date(2026, 3, 8), 5),
        ("America/New_York", date(2026, 11, 1), 7),
        ("Asia/Seoul", date(2026, 3, 29), 6),
    ],
)
def test_a_night_shop_is_open_as_long_as_the_clock_change_allows(
    zone: str, day: date, hours_open: int
) -> None:
    cal = every_day("00:00-06:00", zone)
    tz = ZoneInfo(zone)
    midnight = datetime.combine(day, time(), tzinfo=tz)
    next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    assert cal.business_time_between(midnight, next_midnight) == hours_open * HOUR
    opens, closes = cal.open_interval(day) or (midnight, midnight)
    assert closes - opens == hours_open * HOUR
    assert cal.add_business_time(midnight, hours_open * HOUR) == closes


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("window", "day", "interval"),
    [
        # Opening at a time the spring change skips: open from the jump (03:00 CEST).
        ("02:30-06:00", date(2026, 3, 29), (utc(3, 29, 1), utc(3, 29, 4))),
        # Closing at a skipped time: closed from the jump.
        ("00:00-02:30", date(2026, 3, 29), (utc(3, 28, 23), utc(3, 29, 1))),
        # Opening at a time shown twice in autumn: from its first showing (02:30 CEST).
        ("02:30-06:00", date(2026, 10, 25), (utc(10, 25, 0, 30), utc(10, 25, 5))),
        # Closing at a time shown twice: at its first showing.
        ("00:00-02:30", date(2026, 10, 25), (utc(10, 24, 22), utc(10, 25, 0, 30))),
        # Both skipped: no hours that day.
        ("02:10-02:50", date(2026, 3, 29), None),
        ("02:10-02:50", date(2026, 3, 30), (utc(3, 30, 0, 10), utc(3, 30, 0, 50))),
    ],
)
def test_hours_at_a_time_the_clocks_skip_or_repeat(
    window: str, day: date, interval: tuple[datetime, datetime] | None
) -> None:
    assert every_day(window, "Europe/Berlin").open_interval(day) == interval


def test_no_hours_on_a_day_the_clocks_skip_them_all() -> None:
    cal = every_day("02:10-02:50", "Europe/Berlin")
    sunday = datetime(2026, 3, 29, tzinfo=BERLIN)
    assert cal.next_open(sunday).isoformat() == "2026-03-30T02:10:00+02:00"
    assert cal.business_time_between(sunday, sunday + 2 * 24 * HOUR) == 40 * MINUTE


def test_a_shop_in_new_york_across_the_autumn_change() -> None:
    cal = every_day("01:00-03:00", "America/New_York")  # 01:00-02:00 happens twice
    sunday = datetime(2026, 11, 1, tzinfo=NEW_YORK)
    assert cal.open_interval(date(2026, 11, 1)) == (utc(11, 1, 5), utc(11, 1, 8))
    assert cal.add_business_time(sunday, 150 * MINUTE) == utc(11, 1, 7, 30)


# ---------------------------------------------------------------------------------------
# Refusals and bounds.


def test_a_calendar_without_opening_hours_is_refused() -> None:
    with pytest.raises(ValidationError, match="opening hours on at least one weekday"):
        BusinessCalendar(hours=(None,) * 7)


@pytest.mark.parametrize("week", [WEEKDAYS[:6], (*WEEKDAYS, None)])
def test_a_calendar_names_all_seven_weekdays(week: tuple[OpeningHours | None, ...]) -> None:
    with pytest.raises(ValidationError, match="7 items"):
        BusinessCalendar(hours=week)


def test_a_period_opens_and_closes_at_different_times() -> None:
    with pytest.raises(ValidationError, match="opens and closes at 10:00: give a window"):
        hours("10:00-10:00")


def test_a_period_that_closes_before_it_opens_runs_past_midnight() -> None:
    assert hours("19:00-10:00").past_midnight and not hours("10:00-19:00").past_midnight


@pytest.mark.parametrize("zone", ["Asia/Busan", "", "../etc/passwd", "Asia"])
def test_an_unknown_zone_is_refused(zone: str) -> None:
    with pytest.raises(ValidationError, match=f"unknown time zone {zone!r}; e.g. Asia/Seoul"):
        BusinessCalendar(zone=zone, hours=WEEKDAYS)


def test_times_without_a_zone_are_refused() -> None:
    naive = datetime(2026, 11, 20, 17)
    for call in (
        lambda: SHOP.add_business_time(naive, HOUR),
        lambda: SHOP.business_time_between(naive, kst(11, 23)),
        lambda: SHOP.is_open(naive),
        lambda: QuietHours(start=time(21), end=time(9), zone="Asia/Seoul").next_allowed(naive),
    ):
        with pytest.raises(ValueError, match="2026-11-20 17:00:00 has no time zone"):
            call()


def test_negative_business_time_and_reversed_spans_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot count back: -1 day, 23:00:00"):
        SHOP.add_business_time(kst(11, 20), -HOUR)
    with pytest.raises(ValueError, match="ends before it starts"):
        SHOP.business_time_between(kst(11, 20), kst(11, 19))


def test_a_search_gives_up_after_a_year_of_closure() -> None:
    new_year = date(2026, 1, 1)
    days = [new_year + timedelta(days=i) for i in range(MAX_CLOSED_DAYS)]
    shut = every_day("10:00-19:00", "Asia/Seoul")
    almost = shut.model_copy(update={"closures": tuple(days[:-1])})
    assert almost.next_open(kst(1, 1)) == kst(1, 1, 10, year=2027)
    assert MAX_CLOSED_DAYS == 366
    closed = shut.model_copy(update={"closures": tuple(days)})
    message = "no opening hours in the 366 days from 2026-01-01; check the holidays and closures"
    for call in (
        lambda: closed.next_open(kst(1, 1)),
        lambda: closed.add_business_time(kst(1, 1, 12), HOUR),
        lambda: closed.business_time_between(kst(1, 1), kst(1, 1, year=2028)),
    ):
        with pytest.raises(CalendarClosed, match=message):
            call()
    # The run is counted from the first closed day, not from the start of the search.
    late = shut.model_copy(update={"closures": tuple(d + timedelta(days=1) for d in days)})
    for call in (
        lambda: late.next_open(kst(1, 1, 20)),
        lambda: late.business_time_between(kst(1, 1, 20), kst(1, 1, year=2028)),
    ):
        with pytest.raises(CalendarClosed, match="366 days from 2026-01-02"):
            call()
    assert almost.business_time_between(kst(1, 1), kst(1, 1, 11, year=2027)) == HOUR


# ---------------------------------------------------------------------------------------
# Quiet hours: customer-facing messages wait for the end of the window.

NIGHT = QuietHours(start=time(21), end=time(9), zone="Asia/Seoul")
LUNCH = QuietHours(start=time(12), end=time(13), zone="Asia/Seoul")
EVENINGS = QuietHours(start=time(21), end=time(9), zone="America/New_York")


@pytest.mark.parametrize(
    ("quiet", "t", "allowed"),
    [
        (NIGHT, kst(11, 20, 22, 30), kst(11, 21, 9)),
        (NIGHT, kst(11, 20, 8, 59), kst(11, 20, 9)),
        (NIGHT, kst(11, 20, 9), kst(11, 20, 9)),
        (NIGHT, kst(11, 20, 20, 59), kst(11, 20, 20, 59)),
        (NIGHT, kst(11, 20, 21), kst(11, 21, 9)),
        (NIGHT, kst(11, 20, 0), kst(11, 20, 9)),
        (LUNCH, kst(11, 20, 12, 30), kst(11, 20, 13)),
        (LUNCH, kst(11, 20, 12), kst(11, 20, 13)),
        (LUNCH, kst(11, 20, 13), kst(11, 20, 13)),
        (LUNCH, kst(11, 20, 11, 59), kst(11, 20, 11, 59)),
        (LUNCH, kst(11, 20, 22), kst(11, 20, 22)),
        (
            EVENINGS,
            datetime(2026, 11, 20, 8, tzinfo=NEW_YORK),
            datetime(2026, 11, 20, 9, tzinfo=NEW_YORK),
        ),
        (
            EVENINGS,
            datetime(2026, 11, 20, 23, tzinfo=NEW_YORK),
            datetime(2026, 11, 21, 9, tzinfo=NEW_YORK),
        ),
    ],
)
def test_quiet_hours_hold_a_message_until_they_end(
    quiet: QuietHours, t: datetime, allowed: datetime
) -> None:
    assert quiet.next_allowed(t) == allowed
    assert quiet.is_quiet(t) is (allowed != t)


def test_the_end_of_quiet_hours_is_read_off_the_shops_clock() -> None:
    late = kst(11, 20, 22, 30).astimezone(UTC)
    assert str(NIGHT.next_allowed(late)) == "2026-11-21 00:00:00+00:00"
    berlin = QuietHours(start=time(1), end=time(2, 30), zone="Europe/Berlin")
    # 02:30 never happens on 29 March: the wait ends when the clocks jump to 03:00.
    at = datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)
    assert berlin.next_allowed(at).isoformat() == "2026-03-29T03:00:00+02:00"


def test_quiet_hours_need_a_window() -> None:
    with pytest.raises(ValidationError, match="quiet hours start and end at 21:00"):
        QuietHours(start=time(21), end=time(21), zone="Asia/Seoul")
    with pytest.raises(ValidationError, match="unknown time zone"):
        QuietHours(start=time(21), end=time(9), zone="Mars/Olympus")


# ---------------------------------------------------------------------------------------
# A case on business time: its response clock counts the shop's open hours.

FRIDAY_5PM = kst(11, 20, 17).astimezone(UTC)  # the workflow's clock is UTC
BUSINESS = ResponseTargets(target=8 * HOUR, mode="business", calendar=SHOP)


def business_case(
    targets: ResponseTargets = BUSINESS, at: datetime = FRIDAY_5PM, motive: Motive = Motive.ANGER
) -> CaseState:
    opening = open_command("c0ffee", motive=motive).model_copy(update={"targets": targets})
    state = fold(decide(opening, None, at))
    assert state is not None
    return state


def run(state: CaseState, command: Command, at: datetime) -> CaseState:
    after = fold(decide(command, state, at), state)
    assert after is not None
    return after


@CHEAP
@given(shops_any_instant(), st.integers(1, 30 * 60), st.sampled_from(list(Motive)))
def test_a_case_on_business_time_is_due_when_that_much_open_time_has_passed(
    shop: tuple[BusinessCalendar, datetime], minutes: int, motive: Motive
) -> None:
    cal, opened_at = shop
    targets = response_targets(motive, minutes * MINUTE, 0.75).model_copy(
        update={"mode": "business", "calendar": cal}
    )
    state = business_case(targets, opened_at, motive)
    first = targets.target_for(Step.APOLOGIZE)
    assert state.response_due_at == cal.add_business_time(opened_at, first)
    assert state.warn_at == cal.add_business_time(opened_at, first * 0.75)


def test_a_case_opened_friday_evening_is_due_monday_afternoon() -> None:
    state = business_case()
    assert state.response_due_at == kst(11, 23, 16)  # 2 h on Friday, 6 h on Monday
    assert state.warn_at == kst(11, 23, 14)  # 6 of the 8 open hours
    assert staff_due_at(state) == kst(11, 23, 16)


def test_a_public_review_is_due_sooner_in_business_time_too() -> None:
    targets = response_targets(Motive.PROTECT_OTHERS, 8 * HOUR, 0.75).model_copy(
        update={"mode": "business", "calendar": SHOP}
    )
    state = business_case(targets, motive=Motive.PROTECT_OTHERS)
    assert state.response_due_at == kst(11, 23, 12)  # 4 h: 2 on Friday, 2 on Monday
    assert state.warn_at == kst(11, 23, 11)


def test_the_business_clock_warns_escalates_and_opens_a_new_window_in_open_hours() -> None:
    state = business_case()
    assert run(state, CheckClock(), kst(11, 23, 13, 59)) == state  # nothing due yet
    warned = run(state, CheckClock(), kst(11, 23, 14))
    assert warned.warned and warned.version == state.version + 1
    late = run(warned, CheckClock(), kst(11, 23, 16))
    assert (late.status, late.escalation_level) == (CaseStatus.ESCALATED, 1)
    assert late.response_due_at == kst(11, 24, 15)  # 3 h on Monday, 5 h on Tuesday
    assert late.warn_at == kst(11, 24, 13)


def test_each_step_gets_its_target_in_open_hours() -> None:
    apology = Apologize(what="Sorry the cake was crushed")
    state = run(business_case(), apology, kst(11, 23, 11, 30))
    assert state.done[0].due_at == kst(11, 23, 16)
    assert state.done[0].within_target
    assert state.response_due_at == kst(11, 24, 10, 30)  # 8 h from Monday 11:30
    assert state.warn_at == kst(11, 23, 17, 30)


def test_wall_clock_targets_ignore_a_calendar_they_carry() -> None:
    targets = ResponseTargets(target=8 * HOUR, calendar=SHOP)
    state = business_case(targets)
    assert targets.mode == "wall"
    assert state.response_due_at == FRIDAY_5PM + 8 * HOUR
    assert state.warn_at == FRIDAY_5PM + 6 * HOUR


def test_business_time_targets_need_a_calendar() -> None:
    with pytest.raises(ValidationError, match="business-time targets need the shop's calendar"):
        ResponseTargets(mode="business")


def test_a_case_opened_before_calendars_folds_as_it_did() -> None:
    """An opening event recorded before business time (no mode, no calendar) parses as
    wall-clock targets; a new one keeps its calendar through storage."""
    old = business_case(ResponseTargets(target=8 * HOUR))
    recorded = EVENT_ADAPTER.dump_python(
        decide(open_command("c0ffee"), None, FRIDAY_5PM)[0], mode="json"
    )
    del recorded["targets"]["mode"], recorded["targets"]["calendar"]
    opened = EVENT_ADAPTER.validate_python(recorded)
    assert isinstance(opened, CaseOpened) and opened.targets == ResponseTargets()
    assert old.targets.mode == "wall"
    new = decide(open_command("c0ffee").model_copy(update={"targets": BUSINESS}), None, FRIDAY_5PM)[
        0
    ]
    assert EVENT_ADAPTER.validate_json(EVENT_ADAPTER.dump_json(new)) == new


def test_an_evening_in_new_york_counts_that_evenings_hours_not_the_utc_days() -> None:
    """At 20:00 in New York it is already tomorrow in UTC; the shop's own day decides which
    hours are left (10:00-22:00 here): one hour from 20:00 is 21:00 the same evening."""
    ny = ZoneInfo("America/New_York")
    late = BusinessCalendar(
        zone="America/New_York", hours=(OpeningHours(opens=time(10), closes=time(22)),) * 7
    )
    start = datetime(2026, 11, 24, 20, 0, tzinfo=ny)
    assert late.add_business_time(start, HOUR) == datetime(2026, 11, 24, 21, 0, tzinfo=ny)
    assert late.business_time_between(start, datetime(2026, 11, 24, 23, 0, tzinfo=ny)) == 2 * HOUR


def test_a_calendar_remembers_its_answers_but_not_for_a_copy_with_other_days() -> None:
    """A fold asks the same due times again; the answers are kept with the calendar, out of
    its equality and dumps, and a copy with another closure does not inherit them."""
    shop = every_day("10:00-19:00", "Asia/Seoul")
    due = shop.add_business_time(kst(11, 23, 18), 2 * HOUR)
    assert due == kst(11, 24, 11)
    assert shop.add_business_time(kst(11, 23, 18), 2 * HOUR) == due  # the same answer again
    assert shop == every_day("10:00-19:00", "Asia/Seoul")
    assert "answers" not in shop.model_dump_json()
    closed = shop.model_copy(update={"closures": (date(2026, 11, 24),)})
    assert closed.open_interval(date(2026, 11, 24)) is None
    assert closed.add_business_time(kst(11, 23, 18), 2 * HOUR) == kst(11, 25, 11)
    assert shop.open_interval(date(2026, 11, 24)) is not None  # the original is unchanged
    # a copy with other hours alone (the same holidays and closures) counts them afresh
    later = shop.model_copy(update={"hours": (OpeningHours(opens=time(10), closes=time(21)),) * 7})
    assert later.add_business_time(kst(11, 23, 18), 2 * HOUR) == kst(11, 23, 20)
    # an answer given in another zone comes back in that zone, as without the memo
    utc = kst(11, 23, 18).astimezone(UTC)
    assert shop.add_business_time(utc, 2 * HOUR).tzinfo == UTC


def counting_counts(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The starts of every due time the calendars count from now on (not remembered ones)."""
    counted: list[datetime] = []
    count = BusinessCalendar._count

    def counting(self: BusinessCalendar, at: datetime, amount: timedelta) -> datetime:
        counted.append(at)
        return count(self, at, amount)

    monkeypatch.setattr(BusinessCalendar, "_count", counting)
    return counted


def test_a_due_time_is_counted_once_per_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fold asks a step's due time when its window opens and again when it is
    answered: the second answer is the remembered one, not a second count."""
    shop = every_day("10:00-19:00", "Asia/Seoul")
    counted = counting_counts(monkeypatch)
    for _ in range(3):
        assert shop.add_business_time(kst(11, 23, 18), 2 * HOUR) == kst(11, 24, 11)
    assert len(counted) == 1
    shop.add_business_time(kst(11, 23, 18), 3 * HOUR)  # another amount is another count
    assert len(counted) == 2


def test_an_offer_pauses_the_clock_without_counting_a_due_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the customer decides there is no staff due time, so none is counted: a replay
    and a rebuild fold every offer of every case again."""
    state = business_case(motive=Motive.COMPENSATION)
    for step, command in (
        (Step.APOLOGIZE, Apologize(what="Sorry")),
        (Step.EMPATHIZE, Empathize(customer_words="I waited")),
        (Step.ANALYZE_CAUSE, AnalyzeCause(cause="Misread", fault=Fault.OURS)),
    ):
        assert state.next_step == step
        state = run(state, command, FRIDAY_5PM + HOUR)
    counted = counting_counts(monkeypatch)
    offer = OfferResolution(options=[OfferedRemedy(kind=RemedyKind.FREE_REDO)], plan="Redo")
    offered = run(state, offer, FRIDAY_5PM + 2 * HOUR)
    assert offered.status == CaseStatus.AWAITING_CUSTOMER and offered.response_due_at is None
    assert offered.done[-1].due_at == state.response_due_at  # the answered step's, as before
    assert counted == []

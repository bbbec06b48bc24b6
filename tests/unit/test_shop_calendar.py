"""The shop's calendar from configuration: Korean public holidays from the `holidays`
package, opening hours as the owner writes them, and one-line refusals."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import OpeningHours
from infra.calendar import (
    DEFAULT_COUNTRIES,
    DEFAULT_OPENING_HOURS,
    _known_countries,
    check_calendar,
    holiday_dates,
    opening_hours,
    parse_window,
    quiet_hours,
    shop_calendar,
    snapshot_years,
)

SEOUL = ZoneInfo("Asia/Seoul")
HOUR = timedelta(hours=1)
TEN_TO_SEVEN = OpeningHours(opens=time(10), closes=time(19))


def kst(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SEOUL)


def days(year: int, month: int, *numbers: int) -> set[date]:
    return {date(year, month, n) for n in numbers}


KOREA = shop_calendar("Asia/Seoul", DEFAULT_OPENING_HOURS, "KR", [2026, 2027])


def test_chuseok_2026_is_three_days_with_no_substitute_for_its_saturday() -> None:
    september = {d for d in holiday_dates("KR", [2026]) if d.month == 9}
    assert september == days(2026, 9, 24, 25, 26)  # Thursday to Saturday
    # A Saturday does not earn Chuseok a substitute; National Foundation Day's does.
    assert date(2026, 9, 28) not in KOREA.holidays
    assert date(2026, 10, 5) in KOREA.holidays


def test_seollal_2027_falls_on_a_weekend_and_gets_its_substitute_tuesday() -> None:
    february = {d for d in holiday_dates("kr ", [2027]) if d.month == 2}
    assert february == days(2027, 2, 6, 7, 8, 9)  # Saturday to Monday, and Tuesday for Sunday
    assert days(2026, 2, 16, 17, 18) <= set(KOREA.holidays)  # Seollal 2026: Monday-Wednesday


@pytest.mark.parametrize(
    ("start", "due"),
    [
        # The eve of Chuseok: Wednesday 17:00 + 8 h skips Thursday to Sunday.
        (kst(2026, 9, 23, 17), kst(2026, 9, 28, 16)),
        # Before Seollal 2027: Friday 17:00 + 8 h skips Saturday to the substitute Tuesday.
        (kst(2027, 2, 5, 17), kst(2027, 2, 10, 16)),
        # An ordinary Friday.
        (kst(2026, 11, 20, 17), kst(2026, 11, 23, 16)),
    ],
)
def test_business_time_skips_korean_public_holidays(start: datetime, due: datetime) -> None:
    assert KOREA.add_business_time(start, 8 * HOUR) == due


def test_the_shops_own_closures_are_closed_days_too() -> None:
    closed = shop_calendar(
        "Asia/Seoul", DEFAULT_OPENING_HOURS, "KR", [2026], closures=[date(2026, 11, 23)]
    )
    assert closed.closures == (date(2026, 11, 23),)
    assert closed.add_business_time(kst(2026, 11, 20, 17), 8 * HOUR) == kst(2026, 11, 24, 16)


@pytest.mark.parametrize("country", ["", None, "  "])
def test_no_country_means_no_public_holidays(country: str | None) -> None:
    assert holiday_dates(country, [2026]) == ()
    assert shop_calendar("Asia/Seoul", '{"mon": "10:00-19:00"}', country, [2026]).holidays == ()


def test_a_case_snapshots_the_holidays_of_its_year_and_the_next() -> None:
    assert snapshot_years(datetime(2026, 12, 30, tzinfo=UTC)) == range(2026, 2028)


@pytest.mark.parametrize(
    "hours",
    [
        '{"mon": "10:00-19:00", "tue": "10:00-19:00", "wed": "10:00-19:00", '
        '"thu": "10:00-19:00", "fri": "10:00-19:00", "sat": null, "sun": null}',
        '{"Monday": "10:00-19:00", "TUESDAY": "10:00-19:00", "wed": "10:00-19:00", '
        '"4": "10:00-19:00", "3": "10:00-19:00"}',
        '{"월": "10:00-19:00", "화요일": "10:00-19:00", "수": "10:00-19:00", '
        '"목": "10:00-19:00", "금": " 10:00 - 19:00 ", "토": null}',
        {0: "10:00-19:00", 1: "10:00-19:00", 2: "10:00-19:00", 3: "10:00-19:00", 4: "10:00-19:00"},
        DEFAULT_OPENING_HOURS,
    ],
    ids=["short names", "long names and numbers", "korean", "numbers", "default"],
)
def test_opening_hours_as_the_owner_writes_them(hours: str | dict[int, str]) -> None:
    assert opening_hours(hours) == (TEN_TO_SEVEN,) * 5 + (None, None)


def test_a_saturday_morning_and_early_hours() -> None:
    week = opening_hours('{"sat": "9:30-13:00", "sun": "07:05-23:59"}')
    assert week[:5] == (None,) * 5
    assert week[5] == OpeningHours(opens=time(9, 30), closes=time(13))
    assert week[6] == OpeningHours(opens=time(7, 5), closes=time(23, 59))


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (
            '{"mon": "10:00-19:00"',
            "opening hours are not JSON: Expecting ',' delimiter at column 22",
        ),
        ('["10:00-19:00"]', 'opening hours must be a JSON object like {"mon": "10:00-19:00"}'),
        (
            '{"funday": "10:00-19:00"}',
            "opening hours: 'funday' is not a weekday; write mon..sun, 월..일 or 0..6 "
            "(0 is Monday)",
        ),
        ('{"7": "10:00-19:00"}', "opening hours: '7' is not a weekday"),
        (
            '{"mon": "10:00-19:00", "0": null}',
            "opening hours: 'mon' and '0' name the same weekday",
        ),
        ('{"mon": 10}', "opening hours: 'mon' needs \"10:00-19:00\" or null, not 10"),
        (
            '{"mon": "10-19"}',
            "opening hours: 'mon': '10' in '10-19' is not a time of day like 09:30",
        ),
        (
            '{"mon": "10:00"}',
            "opening hours: 'mon': '10:00' is not a window of two times like 10:00-19:00",
        ),
        (
            '{"mon": "10:00-24:00"}',
            "opening hours: 'mon': '24:00' in '10:00-24:00' is not a time of day like 09:30",
        ),
        (
            '{"mon": "10:00-19:00-20:00"}',
            "opening hours: 'mon': '10:00-19:00-20:00' is not a window of two times",
        ),
        (
            '{"tue": "10:00-10:00"}',
            "opening hours: 'tue': a period opens and closes at 10:00: give a window",
        ),
        (
            '{"tue": "11:00-15:00,14:00-22:00"}',
            "opening hours: 'tue': 11:00-15:00 and 14:00-22:00 overlap or are out of order",
        ),
    ],
)
def test_bad_opening_hours_are_refused_in_one_line(hours: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        opening_hours(hours)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("zone", "hours", "country", "message"),
    [
        (
            "Asia/Busan",
            DEFAULT_OPENING_HOURS,
            "KR",
            "calendar: zone: unknown time zone 'Asia/Busan'; e.g. Asia/Seoul or Europe/Berlin",
        ),
        (
            "Asia/Seoul",
            '{"sat": null, "sun": null}',
            "KR",
            "calendar: a business calendar needs opening hours on at least one weekday",
        ),
        (
            "Asia/Seoul",
            DEFAULT_OPENING_HOURS,
            "XX",
            "no public holidays known for 'XX'; give a country code such as KR, or leave it "
            "empty for none",
        ),
    ],
)
def test_a_bad_calendar_is_refused_in_one_line(
    zone: str, hours: str | dict[str, str | None], country: str, message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        shop_calendar(zone, hours, country, [2026])
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_the_countries_checked_without_the_package_are_in_its_registry() -> None:
    assert _known_countries() >= DEFAULT_COUNTRIES
    check_calendar("Asia/Seoul", DEFAULT_OPENING_HOURS, " kr ")  # no error
    with pytest.raises(ValueError, match="no public holidays known for 'XX'"):
        check_calendar("Asia/Seoul", DEFAULT_OPENING_HOURS, "xx")


def test_quiet_hours_from_configuration() -> None:
    night = quiet_hours("21:00-09:00", "Asia/Seoul")
    assert night is not None
    assert night.next_allowed(kst(2026, 11, 20, 22)) == kst(2026, 11, 21, 9)
    assert quiet_hours("", "Asia/Seoul") is None and quiet_hours(None, "Asia/Seoul") is None
    with pytest.raises(ValueError, match="quiet hours: quiet hours start and end at 21:00"):
        quiet_hours("21:00-21:00", "Asia/Seoul")
    with pytest.raises(ValueError, match="quiet hours: zone: unknown time zone 'Nowhere'"):
        quiet_hours("21:00-09:00", "Nowhere")


def test_a_window_is_two_times_of_day() -> None:
    assert parse_window("21:00-09:00") == (time(21), time(9))
    assert parse_window("7:05 - 9:00") == (time(7, 5), time(9))

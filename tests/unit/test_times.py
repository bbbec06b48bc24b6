"""Times for scripts are RFC 3339 in the shop's offset, also where history gives a zone an
offset in seconds (Seoul's local mean time before 1908)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.times import in_zone

SEOUL = ZoneInfo("Asia/Seoul")


def test_a_time_is_written_in_the_shop_s_offset() -> None:
    assert in_zone(datetime(2026, 3, 24, tzinfo=UTC), SEOUL) == "2026-03-24T09:00:00+09:00"


def test_an_offset_in_seconds_is_written_as_utc_instead() -> None:
    old = datetime(1905, 3, 24, tzinfo=SEOUL)  # +08:27:52 local mean time
    assert in_zone(old, SEOUL) == "1905-03-23T15:32:08Z"
    assert in_zone({"start": old}, SEOUL) == {"start": "1905-03-23T15:32:08Z"}

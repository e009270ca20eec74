"""The center's time zone (``--center-timezone``): the local day and hour an event counts in, the days' bounds and
the report's points, over real daylight-saving dates (America/New_York, 2026-03-08: 02:00 -> 03:00; 2026-11-01:
02:00 -> 01:00) and a half-hour zone (Asia/Kolkata, UTC+5:30)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.config import from_sources
from gateway.errors import ConfigError
from gateway.ops.rollups import day_hours, day_start, hour_starts, local_start
from gateway.store.rollup_store import day_start_ms, local_slot

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
HOUR_MS = 3_600_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_an_event_counts_in_the_centers_local_day_and_hour() -> None:
    at = ms("2026-12-05T03:30:00+00:00")
    assert local_slot(at, ZoneInfo("UTC")) == ("20261205", 3)
    assert local_slot(at, NEW_YORK) == ("20261204", 22)  # 22:30 the evening before
    assert local_slot(at, KOLKATA) == ("20261205", 9)  # 09:00 on the dot: the hours split at :30 UTC
    assert local_slot(ms("2026-12-05T03:29:59.999+00:00"), KOLKATA) == ("20261205", 8)
    assert local_slot(ms("2026-12-05T18:29:59+00:00"), KOLKATA) == ("20261205", 23)
    assert local_slot(ms("2026-12-05T18:30:00+00:00"), KOLKATA) == ("20261206", 0)


def test_the_day_the_clock_skips_an_hour_has_23_hours_and_no_point_for_the_skipped_one() -> None:
    # 2026-03-08 in New York: 01:59:59 EST, then 03:00:00 EDT
    assert local_slot(ms("2026-03-08T06:59:59+00:00"), NEW_YORK) == ("20260308", 1)
    assert local_slot(ms("2026-03-08T07:00:00+00:00"), NEW_YORK) == ("20260308", 3)
    first, next_day = day_start_ms(date(2026, 3, 8), NEW_YORK), day_start_ms(date(2026, 3, 9), NEW_YORK)
    assert first == ms("2026-03-08T05:00:00+00:00") and next_day - first == 23 * HOUR_MS
    points = day_hours({"01|offered": 2, "03|offered": 5}, hour_starts(date(2026, 3, 8), NEW_YORK))
    assert len(points) == 23
    starts = [start for start, _ in points]
    assert starts[:4] == [
        "2026-03-08T00:00:00-05:00",
        "2026-03-08T01:00:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T04:00:00-04:00",
    ]
    assert starts[-1] == "2026-03-08T23:00:00-04:00"
    assert [c.get("offered", 0) for _, c in points[:3]] == [0, 2, 5]
    assert local_start(date(2026, 3, 8), 2, NEW_YORK) is None
    # counters of another zone's hours (before a change of zone) in the skipped hour go to where the clock went on
    carried = day_hours({"02|offered": 1, "03|offered": 5}, hour_starts(date(2026, 3, 8), NEW_YORK))
    assert carried[2] == ("2026-03-08T03:00:00-04:00", {"offered": 6})


def test_the_day_the_clock_repeats_an_hour_has_25_hours_and_its_repeated_hour_holds_both() -> None:
    # 2026-11-01 in New York: 01:00-01:59 EDT, then 01:00-01:59 EST again
    first_time, second_time = ms("2026-11-01T05:30:00+00:00"), ms("2026-11-01T06:30:00+00:00")
    assert local_slot(first_time, NEW_YORK) == local_slot(second_time, NEW_YORK) == ("20261101", 1)
    assert local_slot(ms("2026-11-01T07:00:00+00:00"), NEW_YORK) == ("20261101", 2)
    first, next_day = day_start_ms(date(2026, 11, 1), NEW_YORK), day_start_ms(date(2026, 11, 2), NEW_YORK)
    assert first == ms("2026-11-01T04:00:00+00:00") and next_day - first == 25 * HOUR_MS
    points = day_hours({"01|offered": 2, "02|offered": 1}, hour_starts(date(2026, 11, 1), NEW_YORK))
    assert len(points) == 24
    assert points[1] == ("2026-11-01T01:00:00-04:00", {"offered": 2})  # the first 01:00's offset, both hours' counts
    assert points[2] == ("2026-11-01T02:00:00-05:00", {"offered": 1})
    assert day_start(date(2026, 11, 1), NEW_YORK) == "2026-11-01T00:00:00-04:00"
    assert day_start(date(2026, 11, 2), NEW_YORK) == "2026-11-02T00:00:00-05:00"


def test_a_utc_center_reads_as_before_and_a_half_hour_zone_has_its_offset() -> None:
    utc = ZoneInfo("UTC")
    assert day_start(date(2026, 12, 5), utc) == "2026-12-05T00:00:00Z"
    assert [s for s, _ in day_hours({}, hour_starts(date(2026, 12, 5), utc))] == [
        f"2026-12-05T{h:02d}:00:00Z" for h in range(24)
    ]
    assert day_start_ms(date(2026, 12, 5), utc) == ms("2026-12-05T00:00:00+00:00")
    assert day_start(date(2026, 12, 5), KOLKATA) == "2026-12-05T00:00:00+05:30"
    assert day_start_ms(date(2026, 12, 5), KOLKATA) == ms("2026-12-04T18:30:00+00:00")
    assert local_start(date(2026, 12, 5), 9, KOLKATA) == "2026-12-05T09:00:00+05:30"
    assert datetime.fromisoformat("2026-12-05T09:00:00+05:30").astimezone(UTC).hour == 3


def test_the_center_timezone_setting_is_an_iana_zone_checked_at_start() -> None:
    assert from_sources({}, {}).center_timezone == "UTC"
    assert from_sources({}, {"CG_CENTER_TIMEZONE": "Asia/Kolkata"}).center_timezone == "Asia/Kolkata"
    assert from_sources({"center_timezone": "America/New_York"}, {}).center_timezone == "America/New_York"
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "EST+5 hours"):
        with pytest.raises(ConfigError) as raised:
            from_sources({}, {"CG_CENTER_TIMEZONE": bad})
        assert raised.value.field == "center_timezone" and "center timezone" in str(raised.value)

"""Cadences against real tzdata: every expected instant below is written out in UTC.

The 2025 transitions the walks cross (the clock reading at the transition instant):
  America/New_York     03-09 07:00Z 02:00 EST -> 03:00 EDT     11-02 06:00Z 02:00 EDT -> 01:00 EST
  Europe/Berlin        03-30 01:00Z 02:00 CET -> 03:00 CEST    10-26 01:00Z 03:00 CEST -> 02:00 CET
  Australia/Sydney     04-05 16:00Z 03:00 AEDT -> 02:00 AEST   10-04 16:00Z 02:00 AEST -> 03:00 AEDT
  Australia/Lord_Howe  04-05 15:00Z 02:00 +11 -> 01:30 +1030   10-04 15:30Z 02:00 +1030 -> 02:30 +11
  Asia/Kolkata         none (+05:30 all year)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from time_machine import TimeMachineFixture, travel

from runyard.domain.cadence import (
    Cadence,
    CadenceKind,
    DayOfWeek,
    describe,
    fires_between,
    last_fire_at_or_before,
    next_fire_after,
    parse_cron,
    parse_timezone,
    to_cron,
    upcoming,
)
from runyard.errors import InvalidField


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


_H = timedelta(hours=1)


def hourly(zone: str, minute: int) -> Cadence:
    return Cadence(CadenceKind.HOURLY, zone, minute=minute)


def daily(zone: str, hour: int, minute: int) -> Cadence:
    return Cadence(CadenceKind.DAILY, zone, hour=hour, minute=minute)


def weekly(zone: str, day: DayOfWeek, hour: int, minute: int) -> Cadence:
    return Cadence(CadenceKind.WEEKLY, zone, day_of_week=day, hour=hour, minute=minute)


def monthly(zone: str, day: int, hour: int, minute: int) -> Cadence:
    return Cadence(CadenceKind.MONTHLY, zone, day=day, hour=hour, minute=minute)


def custom(zone: str, cron: str) -> Cadence:
    return Cadence(CadenceKind.CUSTOM, zone, cron=cron)


# --- DST walks: (cadence, start, the fires that follow, in UTC) --------------------------------

NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"
SYDNEY = "Australia/Sydney"
LORD_HOWE = "Australia/Lord_Howe"
KOLKATA = "Asia/Kolkata"

WALKS = {
    # New York, spring forward: 02:00-02:59 does not exist on 2025-03-09.
    "new_york_daily_in_the_gap_fires_at_the_gap_end": (
        daily(NEW_YORK, 2, 30),
        utc(2025, 3, 8),
        [utc(2025, 3, 8, 7, 30), utc(2025, 3, 9, 7, 0), utc(2025, 3, 10, 6, 30)],
    ),
    "new_york_hourly_skips_nothing_across_the_gap": (
        hourly(NEW_YORK, 30),
        utc(2025, 3, 9, 5),
        # 00:30 EST, 01:30 EST, 03:30 EDT, 04:30 EDT: one fire per elapsed hour, no 07:00Z.
        [
            utc(2025, 3, 9, 5, 30),
            utc(2025, 3, 9, 6, 30),
            utc(2025, 3, 9, 7, 30),
            utc(2025, 3, 9, 8, 30),
        ],
    ),
    "new_york_hourly_on_the_hour_across_the_gap": (
        hourly(NEW_YORK, 0),
        utc(2025, 3, 9, 5, 30),
        [utc(2025, 3, 9, 6), utc(2025, 3, 9, 7), utc(2025, 3, 9, 8)],
    ),
    "new_york_weekly_sunday_in_the_gap": (
        weekly(NEW_YORK, DayOfWeek.SUNDAY, 2, 30),
        utc(2025, 3, 1),
        [utc(2025, 3, 2, 7, 30), utc(2025, 3, 9, 7, 0), utc(2025, 3, 16, 6, 30)],
    ),
    "new_york_monthly_in_the_gap": (
        monthly(NEW_YORK, 9, 2, 30),
        utc(2025, 2, 1),
        [utc(2025, 2, 9, 7, 30), utc(2025, 3, 9, 7, 0), utc(2025, 4, 9, 6, 30)],
    ),
    "new_york_cron_wall_times_in_one_gap_fire_once": (
        custom(NEW_YORK, "*/10 2 * * *"),
        utc(2025, 3, 8, 8),
        [utc(2025, 3, 9, 7, 0), utc(2025, 3, 10, 6, 0), utc(2025, 3, 10, 6, 10)],
    ),
    "new_york_cron_gap_times_and_the_gap_end_fire_once": (
        custom(NEW_YORK, "0,30 2,3 * * *"),
        utc(2025, 3, 9, 5),
        # 02:00 and 02:30 do not exist; 03:00 EDT is their gap end and a match itself.
        [utc(2025, 3, 9, 7, 0), utc(2025, 3, 9, 7, 30), utc(2025, 3, 10, 6, 0)],
    ),
    # New York, fall back: 01:00-01:59 happens twice on 2025-11-02.
    "new_york_daily_in_the_overlap_fires_once_at_the_first": (
        daily(NEW_YORK, 1, 30),
        utc(2025, 11, 1),
        [utc(2025, 11, 1, 5, 30), utc(2025, 11, 2, 5, 30), utc(2025, 11, 3, 6, 30)],
    ),
    "new_york_hourly_fires_in_both_repeated_hours": (
        hourly(NEW_YORK, 30),
        utc(2025, 11, 2, 4),
        # 00:30 EDT, 01:30 EDT, 01:30 EST, 02:30 EST.
        [
            utc(2025, 11, 2, 4, 30),
            utc(2025, 11, 2, 5, 30),
            utc(2025, 11, 2, 6, 30),
            utc(2025, 11, 2, 7, 30),
        ],
    ),
    "new_york_weekly_in_the_overlap": (
        weekly(NEW_YORK, DayOfWeek.SUNDAY, 1, 30),
        utc(2025, 10, 25),
        [utc(2025, 10, 26, 5, 30), utc(2025, 11, 2, 5, 30), utc(2025, 11, 9, 6, 30)],
    ),
    "new_york_monthly_in_the_overlap": (
        monthly(NEW_YORK, 2, 1, 15),
        utc(2025, 10, 1),
        [utc(2025, 10, 2, 5, 15), utc(2025, 11, 2, 5, 15), utc(2025, 12, 2, 6, 15)],
    ),
    "new_york_hourly_looking_cron_fires_once_in_the_overlap": (
        custom(NEW_YORK, "30 * * * *"),
        utc(2025, 11, 2, 5),
        # CUSTOM keeps the first occurrence only: no 06:30Z (01:30 EST).
        [utc(2025, 11, 2, 5, 30), utc(2025, 11, 2, 7, 30), utc(2025, 11, 2, 8, 30)],
    ),
    # Berlin: 02:00-02:59 skipped on 2025-03-30 and repeated on 2025-10-26.
    "berlin_daily_in_the_gap": (
        daily(BERLIN, 2, 15),
        utc(2025, 3, 29),
        [utc(2025, 3, 29, 1, 15), utc(2025, 3, 30, 1, 0), utc(2025, 3, 31, 0, 15)],
    ),
    "berlin_daily_in_the_overlap": (
        daily(BERLIN, 2, 15),
        utc(2025, 10, 25),
        [utc(2025, 10, 25, 0, 15), utc(2025, 10, 26, 0, 15), utc(2025, 10, 27, 1, 15)],
    ),
    "berlin_hourly_across_the_gap": (
        hourly(BERLIN, 15),
        utc(2025, 3, 29, 23, 30),
        [utc(2025, 3, 30, 0, 15), utc(2025, 3, 30, 1, 15), utc(2025, 3, 30, 2, 15)],
    ),
    "berlin_hourly_across_the_overlap": (
        hourly(BERLIN, 15),
        utc(2025, 10, 25, 23, 30),
        # 02:15 CEST, 02:15 CET, 03:15 CET.
        [utc(2025, 10, 26, 0, 15), utc(2025, 10, 26, 1, 15), utc(2025, 10, 26, 2, 15)],
    ),
    "berlin_weekly_sunday_in_the_gap": (
        weekly(BERLIN, DayOfWeek.SUNDAY, 2, 15),
        utc(2025, 3, 29),
        [utc(2025, 3, 30, 1, 0), utc(2025, 4, 6, 0, 15)],
    ),
    "berlin_monthly_in_the_overlap": (
        monthly(BERLIN, 26, 2, 30),
        utc(2025, 9, 1),
        [utc(2025, 9, 26, 0, 30), utc(2025, 10, 26, 0, 30), utc(2025, 11, 26, 1, 30)],
    ),
    "berlin_cron_in_the_gap": (
        custom(BERLIN, "0 2 * * *"),
        utc(2025, 3, 29, 12),
        [utc(2025, 3, 30, 1, 0), utc(2025, 3, 31, 0, 0)],
    ),
    # Sydney, southern hemisphere: DST ends in April (02:00-02:59 twice on 2025-04-06) and
    # starts in October (02:00-02:59 skipped on 2025-10-05).
    "sydney_daily_in_the_april_overlap": (
        daily(SYDNEY, 2, 30),
        utc(2025, 4, 4),
        [utc(2025, 4, 4, 15, 30), utc(2025, 4, 5, 15, 30), utc(2025, 4, 6, 16, 30)],
    ),
    "sydney_daily_in_the_october_gap": (
        daily(SYDNEY, 2, 30),
        utc(2025, 10, 3),
        [utc(2025, 10, 3, 16, 30), utc(2025, 10, 4, 16, 0), utc(2025, 10, 5, 15, 30)],
    ),
    "sydney_hourly_across_the_april_overlap": (
        hourly(SYDNEY, 30),
        utc(2025, 4, 5, 14),
        # 01:30 AEDT, 02:30 AEDT, 02:30 AEST, 03:30 AEST.
        [
            utc(2025, 4, 5, 14, 30),
            utc(2025, 4, 5, 15, 30),
            utc(2025, 4, 5, 16, 30),
            utc(2025, 4, 5, 17, 30),
        ],
    ),
    "sydney_hourly_across_the_october_gap": (
        hourly(SYDNEY, 30),
        utc(2025, 10, 4, 14),
        # 00:30 AEST, 01:30 AEST, 03:30 AEDT.
        [utc(2025, 10, 4, 14, 30), utc(2025, 10, 4, 15, 30), utc(2025, 10, 4, 16, 30)],
    ),
    "sydney_weekly_sunday_in_the_october_gap": (
        weekly(SYDNEY, DayOfWeek.SUNDAY, 2, 30),
        utc(2025, 9, 28),
        [utc(2025, 10, 4, 16, 0), utc(2025, 10, 11, 15, 30)],
    ),
    "sydney_monthly_in_the_april_overlap": (
        monthly(SYDNEY, 6, 2, 30),
        utc(2025, 3, 1),
        [utc(2025, 3, 5, 15, 30), utc(2025, 4, 5, 15, 30), utc(2025, 5, 5, 16, 30)],
    ),
    "sydney_cron_in_the_october_gap_fires_once": (
        custom(SYDNEY, "*/20 2 * * SUN"),
        utc(2025, 10, 1),
        [utc(2025, 10, 4, 16, 0), utc(2025, 10, 11, 15, 0)],
    ),
    "sydney_cron_in_the_april_overlap_fires_the_first_hour_only": (
        custom(SYDNEY, "*/20 2 * * SUN"),
        utc(2025, 4, 1),
        [
            utc(2025, 4, 5, 15, 0),
            utc(2025, 4, 5, 15, 20),
            utc(2025, 4, 5, 15, 40),
            utc(2025, 4, 12, 16, 0),
        ],
    ),
    # Lord Howe shifts by 30 minutes: 02:00-02:29 skipped on 2025-10-05 (+10:30 -> +11:00),
    # 01:30-01:59 repeated on 2025-04-06 (+11:00 -> +10:30).
    "lord_howe_hourly_minute_15_gets_the_gap_end": (
        hourly(LORD_HOWE, 15),
        utc(2025, 10, 4, 14),
        # 01:15 +1030, 02:30 +11 (for the skipped 02:15), 03:15 +11: 45 and 45 minutes.
        [utc(2025, 10, 4, 14, 45), utc(2025, 10, 4, 15, 30), utc(2025, 10, 4, 16, 15)],
    ),
    "lord_howe_hourly_minute_0_gets_the_gap_end": (
        hourly(LORD_HOWE, 0),
        utc(2025, 10, 4, 14),
        # 01:00 +1030, 02:30 +11 (for the skipped 02:00), 03:00 +11: 60 and 30 minutes.
        [utc(2025, 10, 4, 14, 30), utc(2025, 10, 4, 15, 30), utc(2025, 10, 4, 16, 0)],
    ),
    "lord_howe_hourly_minute_45_is_not_swallowed": (
        hourly(LORD_HOWE, 45),
        utc(2025, 10, 4, 14, 30),
        # 01:45 +1030, 02:45 +11: only 30 minutes apart, and nothing is skipped.
        [utc(2025, 10, 4, 15, 15), utc(2025, 10, 4, 15, 45), utc(2025, 10, 4, 16, 45)],
    ),
    "lord_howe_hourly_minute_30_lands_on_the_gap_end": (
        hourly(LORD_HOWE, 30),
        utc(2025, 10, 4, 14, 30),
        # 01:30 +1030, 02:30 +11 (exists: the gap is 02:00-02:29).
        [utc(2025, 10, 4, 15, 0), utc(2025, 10, 4, 15, 30), utc(2025, 10, 4, 16, 30)],
    ),
    "lord_howe_hourly_minute_45_repeats_in_the_overlap": (
        hourly(LORD_HOWE, 45),
        utc(2025, 4, 5, 14),
        # 01:45 +11, 01:45 +1030, 02:45 +1030: 30 then 60 minutes.
        [utc(2025, 4, 5, 14, 45), utc(2025, 4, 5, 15, 15), utc(2025, 4, 5, 16, 15)],
    ),
    "lord_howe_hourly_minute_15_waits_90_minutes_in_the_overlap": (
        hourly(LORD_HOWE, 15),
        utc(2025, 4, 5, 14),
        # 01:15 +11, then 02:15 +1030: the clock shows :15 nowhere in between.
        [utc(2025, 4, 5, 14, 15), utc(2025, 4, 5, 15, 45), utc(2025, 4, 5, 16, 45)],
    ),
    "lord_howe_daily_in_the_gap": (
        daily(LORD_HOWE, 2, 15),
        utc(2025, 10, 3),
        [utc(2025, 10, 3, 15, 45), utc(2025, 10, 4, 15, 30), utc(2025, 10, 5, 15, 15)],
    ),
    "lord_howe_daily_in_the_overlap": (
        daily(LORD_HOWE, 1, 45),
        utc(2025, 4, 4),
        [utc(2025, 4, 4, 14, 45), utc(2025, 4, 5, 14, 45), utc(2025, 4, 6, 15, 15)],
    ),
    "lord_howe_weekly_sunday_in_the_gap": (
        weekly(LORD_HOWE, DayOfWeek.SUNDAY, 2, 15),
        utc(2025, 9, 29),
        [utc(2025, 10, 4, 15, 30), utc(2025, 10, 11, 15, 15)],
    ),
    "lord_howe_monthly_in_the_gap": (
        monthly(LORD_HOWE, 5, 2, 0),
        utc(2025, 9, 1),
        [utc(2025, 9, 4, 15, 30), utc(2025, 10, 4, 15, 30), utc(2025, 11, 4, 15, 0)],
    ),
    "lord_howe_cron_across_the_gap": (
        custom(LORD_HOWE, "*/15 1-2 * * *"),
        utc(2025, 10, 4, 14),
        # 01:00-01:45 +1030; 02:00 and 02:15 are skipped and fire with 02:30 at the gap end.
        [
            utc(2025, 10, 4, 14, 30),
            utc(2025, 10, 4, 14, 45),
            utc(2025, 10, 4, 15, 0),
            utc(2025, 10, 4, 15, 15),
            utc(2025, 10, 4, 15, 30),
            utc(2025, 10, 4, 15, 45),
            utc(2025, 10, 5, 14, 0),
        ],
    ),
    "lord_howe_cron_across_the_overlap": (
        custom(LORD_HOWE, "*/15 1 * * *"),
        utc(2025, 4, 5, 13),
        # 01:00-01:45 +11 once each; the repeated 01:30 and 01:45 +1030 do not fire again.
        [
            utc(2025, 4, 5, 14, 0),
            utc(2025, 4, 5, 14, 15),
            utc(2025, 4, 5, 14, 30),
            utc(2025, 4, 5, 14, 45),
            utc(2025, 4, 6, 14, 30),
        ],
    ),
    # Kolkata: +05:30 all year; nothing changes while New York and Berlin change.
    "kolkata_hourly_is_half_past_in_utc": (
        hourly(KOLKATA, 0),
        utc(2025, 3, 30, 0),
        [utc(2025, 3, 30, 0, 30), utc(2025, 3, 30, 1, 30), utc(2025, 3, 30, 2, 30)],
    ),
    "kolkata_daily": (
        daily(KOLKATA, 2, 30),
        utc(2025, 3, 8),
        [utc(2025, 3, 8, 21, 0), utc(2025, 3, 9, 21, 0), utc(2025, 3, 10, 21, 0)],
    ),
    "kolkata_weekly": (
        weekly(KOLKATA, DayOfWeek.MONDAY, 7, 0),
        utc(2025, 10, 25),
        [utc(2025, 10, 27, 1, 30), utc(2025, 11, 3, 1, 30)],
    ),
    "kolkata_monthly": (
        monthly(KOLKATA, 1, 6, 0),
        utc(2025, 10, 15),
        [utc(2025, 11, 1, 0, 30), utc(2025, 12, 1, 0, 30), utc(2026, 1, 1, 0, 30)],
    ),
    "kolkata_cron": (
        custom(KOLKATA, "*/15 9-17 * * MON-FRI"),
        utc(2025, 11, 2),  # a Sunday
        [utc(2025, 11, 3, 3, 30), utc(2025, 11, 3, 3, 45), utc(2025, 11, 3, 4, 0)],
    ),
    # Fixed offsets: no DST, ever.
    "fixed_offset_daily_ignores_us_dst": (
        daily("+08:00", 9, 0),
        utc(2025, 3, 8, 2),
        [utc(2025, 3, 9, 1, 0), utc(2025, 3, 10, 1, 0), utc(2025, 3, 11, 1, 0)],
    ),
    "negative_half_hour_offset": (
        daily("-03:30", 0, 15),
        utc(2025, 11, 1),
        [utc(2025, 11, 1, 3, 45), utc(2025, 11, 2, 3, 45), utc(2025, 11, 3, 3, 45)],
    ),
    "zulu_hourly": (
        hourly("Z", 59),
        utc(2025, 3, 9, 6, 59),
        [utc(2025, 3, 9, 7, 59), utc(2025, 3, 9, 8, 59)],
    ),
    "every_minute_cron_across_the_new_york_gap": (
        custom(NEW_YORK, "* * * * *"),
        utc(2025, 3, 9, 6, 58),
        [utc(2025, 3, 9, 6, 59), utc(2025, 3, 9, 7, 0), utc(2025, 3, 9, 7, 1)],
    ),
    "every_minute_cron_across_the_new_york_overlap": (
        custom(NEW_YORK, "* * * * *"),
        utc(2025, 11, 2, 5, 58),
        # 01:59 EDT, then the repeated 01:00-01:59 EST fires nothing, then 02:00 EST.
        [utc(2025, 11, 2, 5, 59), utc(2025, 11, 2, 7, 0), utc(2025, 11, 2, 7, 1)],
    ),
    "leap_day_cron_skips_to_the_next_leap_year": (
        custom("UTC", "0 0 29 2 *"),
        utc(2024, 3, 1),
        [utc(2028, 2, 29)],
    ),
}


@pytest.mark.parametrize(("cadence", "start", "expected"), WALKS.values(), ids=WALKS.keys())
def test_fires_at_the_written_instants(
    cadence: Cadence, start: datetime, expected: list[datetime]
) -> None:
    assert upcoming(cadence, start, len(expected)) == expected


@pytest.mark.parametrize(("cadence", "start", "expected"), WALKS.values(), ids=WALKS.keys())
def test_each_fire_is_found_again_from_just_before_it(
    cadence: Cadence, start: datetime, expected: list[datetime]
) -> None:
    for fire in expected:
        assert next_fire_after(cadence, fire - timedelta(microseconds=1)) == fire
        assert last_fire_at_or_before(cadence, fire) == fire
        assert last_fire_at_or_before(cadence, fire + timedelta(seconds=59)) == fire


@pytest.mark.parametrize(("cadence", "start", "expected"), WALKS.values(), ids=WALKS.keys())
def test_fires_between_returns_the_walk(
    cadence: Cadence, start: datetime, expected: list[datetime]
) -> None:
    assert fires_between(cadence, start, expected[-1], 100) == expected
    assert (
        fires_between(cadence, start, expected[-1] - timedelta(seconds=1), 100) == (expected[:-1])
    )
    assert fires_between(cadence, expected[0], expected[-1], 100) == expected[1:]


# --- after and at inside a repeated hour --------------------------------------------------------


def test_after_the_second_occurrence_the_first_is_not_fired_again() -> None:
    # 06:10Z is 01:10 EST, the repeat of 01:10 EDT; daily 01:30 already fired at 05:30Z.
    assert next_fire_after(daily(NEW_YORK, 1, 30), utc(2025, 11, 2, 6, 10)) == (
        utc(2025, 11, 3, 6, 30)
    )


def test_hourly_after_the_first_occurrence_still_fires_the_second() -> None:
    # 05:45Z is 01:45 EDT; 01:30 EST (06:30Z) is still ahead.
    assert next_fire_after(hourly(NEW_YORK, 30), utc(2025, 11, 2, 5, 45)) == (
        utc(2025, 11, 2, 6, 30)
    )


def test_latest_fire_seen_from_the_second_occurrence() -> None:
    # 06:45Z is 01:45 EST: the latest HOURLY :30 is 01:30 EST, the latest DAILY 01:30 is
    # its first occurrence, 01:30 EDT.
    assert last_fire_at_or_before(hourly(NEW_YORK, 30), utc(2025, 11, 2, 6, 45)) == (
        utc(2025, 11, 2, 6, 30)
    )
    assert last_fire_at_or_before(daily(NEW_YORK, 1, 30), utc(2025, 11, 2, 6, 45)) == (
        utc(2025, 11, 2, 5, 30)
    )
    assert last_fire_at_or_before(daily(NEW_YORK, 1, 45), utc(2025, 11, 2, 6, 20)) == (
        utc(2025, 11, 2, 5, 45)
    )


def test_latest_fire_is_the_gap_end_for_a_skipped_time() -> None:
    assert last_fire_at_or_before(daily(NEW_YORK, 2, 30), utc(2025, 3, 9, 12)) == (
        utc(2025, 3, 9, 7, 0)
    )
    assert last_fire_at_or_before(daily(NEW_YORK, 2, 30), utc(2025, 3, 9, 6, 59)) == (
        utc(2025, 3, 8, 7, 30)
    )


def test_after_may_be_given_in_any_zone_and_the_answer_is_utc() -> None:
    after = datetime(2025, 3, 9, 16, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 07:00Z
    fire = next_fire_after(daily(NEW_YORK, 2, 30), after - timedelta(seconds=1))
    assert fire == utc(2025, 3, 9, 7, 0)
    assert fire.tzinfo is UTC


def test_fire_instants_are_strictly_after() -> None:
    c = daily(BERLIN, 9, 0)
    fire = utc(2025, 6, 2, 7, 0)
    assert next_fire_after(c, fire) == utc(2025, 6, 3, 7, 0)
    assert next_fire_after(c, fire - timedelta(microseconds=1)) == fire


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire_after(daily(BERLIN, 9, 0), datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        last_fire_at_or_before(daily(BERLIN, 9, 0), datetime(2025, 1, 1))


# --- HOURLY: once per elapsed hour, over every transition of 2024-2027 ---------------------

TRANSITIONS = {
    NEW_YORK: [
        (2024, 3, 10, 7, 0),
        (2024, 11, 3, 6, 0),
        (2025, 3, 9, 7, 0),
        (2025, 11, 2, 6, 0),
        (2026, 3, 8, 7, 0),
        (2026, 11, 1, 6, 0),
        (2027, 3, 14, 7, 0),
        (2027, 11, 7, 6, 0),
    ],
    BERLIN: [
        (2024, 3, 31, 1, 0),
        (2024, 10, 27, 1, 0),
        (2025, 3, 30, 1, 0),
        (2025, 10, 26, 1, 0),
        (2026, 3, 29, 1, 0),
        (2026, 10, 25, 1, 0),
        (2027, 3, 28, 1, 0),
        (2027, 10, 31, 1, 0),
    ],
    SYDNEY: [
        (2024, 4, 6, 16, 0),
        (2024, 10, 5, 16, 0),
        (2025, 4, 5, 16, 0),
        (2025, 10, 4, 16, 0),
        (2026, 4, 4, 16, 0),
        (2026, 10, 3, 16, 0),
        (2027, 4, 3, 16, 0),
        (2027, 10, 2, 16, 0),
    ],
    LORD_HOWE: [
        (2024, 4, 6, 15, 0),
        (2024, 10, 5, 15, 30),
        (2025, 4, 5, 15, 0),
        (2025, 10, 4, 15, 30),
        (2026, 4, 4, 15, 0),
        (2026, 10, 3, 15, 30),
        (2027, 4, 3, 15, 0),
        (2027, 10, 2, 15, 30),
    ],
}


def test_the_transition_table_matches_tzdata() -> None:
    for zone_name, moments in TRANSITIONS.items():
        zone = ZoneInfo(zone_name)
        for moment in moments:
            instant = utc(*moment)
            before = (instant - timedelta(seconds=1)).astimezone(zone).utcoffset()
            assert before != instant.astimezone(zone).utcoffset(), (zone_name, moment)


@pytest.mark.parametrize("zone_name", [NEW_YORK, BERLIN, SYDNEY])
def test_hourly_fires_exactly_once_per_elapsed_hour_in_whole_hour_zones(zone_name: str) -> None:
    for moment in TRANSITIONS[zone_name]:
        start = utc(*moment) - timedelta(hours=3)
        for minute in range(60):
            fires = upcoming(hourly(zone_name, minute), start, 7)
            gaps = {b - a for a, b in pairwise(fires)}
            assert gaps == {timedelta(hours=1)}, (zone_name, moment, minute)


def test_hourly_in_lord_howe_is_30_to_90_minutes_apart_and_at_most_an_hour_in_spring() -> None:
    zone = ZoneInfo(LORD_HOWE)
    for moment in TRANSITIONS[LORD_HOWE]:
        transition = utc(*moment)
        spring = transition.astimezone(zone).utcoffset() == timedelta(hours=11)
        for minute in range(60):
            fires = upcoming(hourly(LORD_HOWE, minute), transition - timedelta(hours=3), 7)
            gaps = [b - a for a, b in pairwise(fires)]
            assert all(timedelta(minutes=30) <= g <= timedelta(minutes=90) for g in gaps)
            if spring:
                assert max(gaps) <= timedelta(hours=1), (moment, minute, fires)
            else:
                # Fall back: minutes 30-59 repeat (30 minutes apart), 00-29 do not (90).
                odd = timedelta(minutes=30) if minute >= 30 else timedelta(minutes=90)
                assert sorted(set(gaps)) == [min(odd, _H), max(odd, _H)], (moment, minute)
            for fire in fires:
                local = fire.astimezone(zone)
                # Every fire shows minute M, except a spring gap end standing in for it.
                assert local.minute == minute or (spring and fire == transition)


def test_hourly_in_kolkata_is_every_hour_at_utc_half_past() -> None:
    fires = upcoming(hourly(KOLKATA, 0), utc(2024, 1, 1), 24 * 366)
    assert {f.minute for f in fires} == {30}
    assert {b - a for a, b in pairwise(fires)} == {_H}


# --- now, frozen ---------------------------------------------------------------------------


@travel(datetime(2025, 3, 9, 6, 59, 30, tzinfo=UTC), tick=False)
def test_the_next_five_from_a_frozen_now_include_the_gap_end_once() -> None:
    now = datetime.now(UTC)
    assert upcoming(daily(NEW_YORK, 2, 30), now, 3) == [
        utc(2025, 3, 9, 7, 0),
        utc(2025, 3, 10, 6, 30),
        utc(2025, 3, 11, 6, 30),
    ]
    assert upcoming(custom(NEW_YORK, "*/10 2 * * *"), now, 2) == [
        utc(2025, 3, 9, 7, 0),
        utc(2025, 3, 10, 6, 0),
    ]


def test_catch_up_after_downtime_over_the_fall_back(time_machine: TimeMachineFixture) -> None:
    # The scheduler went down at 04:00Z and is back at 05:45Z, then at 07:45Z.
    time_machine.move_to(utc(2025, 11, 2, 5, 45), tick=False)
    c = hourly(NEW_YORK, 30)
    down_since = utc(2025, 11, 2, 4, 0)
    now = datetime.now(UTC)
    assert fires_between(c, down_since, now, 10) == [
        utc(2025, 11, 2, 4, 30),
        utc(2025, 11, 2, 5, 30),
    ]
    assert last_fire_at_or_before(c, now) == utc(2025, 11, 2, 5, 30)
    time_machine.shift(timedelta(hours=2))
    later = datetime.now(UTC)
    assert fires_between(c, now, later, 10) == [utc(2025, 11, 2, 6, 30), utc(2025, 11, 2, 7, 30)]
    assert fires_between(c, now, later, 1) == [utc(2025, 11, 2, 6, 30)]
    assert last_fire_at_or_before(c, later) == utc(2025, 11, 2, 7, 30)


def test_fires_between_edges() -> None:
    c = hourly("UTC", 0)
    assert fires_between(c, utc(2025, 1, 1), utc(2025, 1, 1), 10) == []
    assert fires_between(c, utc(2025, 1, 1, 5), utc(2025, 1, 1), 10) == []
    assert fires_between(c, utc(2025, 1, 1), utc(2025, 1, 1, 5), 0) == []
    assert fires_between(c, utc(2025, 1, 1), utc(2025, 1, 1, 2), 10) == [
        utc(2025, 1, 1, 1),
        utc(2025, 1, 1, 2),
    ]
    with pytest.raises(ValueError, match="limit"):
        fires_between(c, utc(2025, 1, 1), utc(2025, 1, 2), -1)
    with pytest.raises(ValueError, match="count"):
        upcoming(c, utc(2025, 1, 1), -1)
    assert upcoming(c, utc(2025, 1, 1), 0) == []


# --- validation ----------------------------------------------------------------------------

INVALID = {
    "monthly_day_31": (
        lambda: monthly("UTC", 31, 0, 0),
        "monthly.day",
        "must be between 1 and 28",
    ),
    "monthly_day_0": (lambda: monthly("UTC", 0, 0, 0), "monthly.day", "must be between 1 and 28"),
    "hourly_minute_60": (lambda: hourly("UTC", 60), "hourly.minute", "must be between 0 and 59"),
    "daily_hour_24": (lambda: daily("UTC", 24, 0), "daily.hour", "must be between 0 and 23"),
    "weekly_negative_minute": (
        lambda: weekly("UTC", DayOfWeek.MONDAY, 1, -1),
        "weekly.minute",
        "must be between 0 and 59",
    ),
    "minute_as_text": (
        lambda: Cadence(CadenceKind.HOURLY, "UTC", minute="ten"),  # type: ignore[arg-type]
        "hourly.minute",
        "must be an integer, got 'ten'",
    ),
    "minute_as_bool": (
        lambda: Cadence(CadenceKind.HOURLY, "UTC", minute=True),
        "hourly.minute",
        "must be an integer, got True",
    ),
    "daily_without_hour": (
        lambda: Cadence(CadenceKind.DAILY, "UTC", minute=0),
        "daily.hour",
        "is required for DAILY cadences",
    ),
    "hourly_with_an_hour": (
        lambda: Cadence(CadenceKind.HOURLY, "UTC", minute=0, hour=3),
        "hourly.hour",
        "does not apply to HOURLY cadences",
    ),
    "custom_with_a_minute": (
        lambda: Cadence(CadenceKind.CUSTOM, "UTC", cron="* * * * *", minute=3),
        "custom.minute",
        "does not apply to CUSTOM cadences",
    ),
    "unknown_day_of_week": (
        lambda: Cadence(
            CadenceKind.WEEKLY,
            "UTC",
            day_of_week="FUNDAY",  # type: ignore[arg-type]
            hour=1,
            minute=0,
        ),
        "weekly.dayOfWeek",
        "must be one of SUNDAY, MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, "
        "got 'FUNDAY'",
    ),
    "unknown_kind": (
        lambda: Cadence("YEARLY", "UTC"),  # type: ignore[arg-type]
        "cadence",
        "must be one of HOURLY, DAILY, WEEKLY, MONTHLY, CUSTOM, got 'YEARLY'",
    ),
    "unknown_zone": (
        lambda: daily("Mars/Base", 9, 0),
        "timezone",
        "unknown time zone 'Mars/Base' (an IANA name such as 'Europe/Berlin', or an offset "
        "such as '+08:00')",
    ),
    "zone_in_the_wrong_case": (
        lambda: daily("america/new_york", 9, 0),
        "timezone",
        "unknown time zone 'america/new_york' (did you mean 'America/New_York'?)",
    ),
    "machine_local_zone": (
        lambda: daily("localtime", 9, 0),
        "timezone",
        "unknown time zone 'localtime'",
    ),
    "zone_path": (lambda: daily("../etc/passwd", 9, 0), "timezone", "unknown time zone"),
    "empty_zone": (lambda: daily("", 9, 0), "timezone", "must be a time zone name or offset"),
    "offset_too_large": (
        lambda: daily("+15:00", 9, 0),
        "timezone",
        "offset '+15:00' is out of range (-14:00 to +14:00)",
    ),
    "offset_minutes_too_large": (
        lambda: daily("+05:75", 9, 0),
        "timezone",
        "offset '+05:75' is out of range",
    ),
    "offset_without_two_digits": (lambda: daily("+8", 9, 0), "timezone", "unknown time zone '+8'"),
    "cron_word": (
        lambda: custom("UTC", "x * * * *"),
        "custom.cron",
        "cron 'x * * * *' is invalid: minute field has 'x' where a number belongs",
    ),
    "cron_with_seconds": (
        lambda: custom("UTC", "*/10 * * * * *"),
        "custom.cron",
        "cron '*/10 * * * * *' is invalid: it has 6 fields; a seconds field would fire more "
        "often than once a minute",
    ),
    "cron_with_years": (
        lambda: custom("UTC", "0 0 1 1 * 2030 x"),
        "custom.cron",
        "cron '0 0 1 1 * 2030 x' is invalid: it has 7 fields; use the 5 fields",
    ),
    "cron_too_short": (
        lambda: custom("UTC", "* * *"),
        "custom.cron",
        "it has 3 fields",
    ),
    "cron_february_30": (
        lambda: custom("UTC", "0 0 30 2 *"),
        "custom.cron",
        "cron '0 0 30 2 *' is invalid: it can never fire: February has no day 30",
    ),
    "cron_31_in_short_months": (
        lambda: custom("UTC", "0 0 31 APR,JUN,SEP,NOV *"),
        "custom.cron",
        "it can never fire: April, June, September and November have no day 31",
    ),
    "cron_minute_out_of_range": (
        lambda: custom("UTC", "61 * * * *"),
        "custom.cron",
        "minute value 61 is out of range 0-59",
    ),
    "cron_month_zero": (
        lambda: custom("UTC", "0 0 1 0 *"),
        "custom.cron",
        "month value 0 is out of range 1-12",
    ),
    "cron_weekday_8": (
        lambda: custom("UTC", "0 0 * * 8"),
        "custom.cron",
        "day-of-week value 8 is out of range 0-7",
    ),
    "cron_backwards_range": (
        lambda: custom("UTC", "0 0 * * FRI-MON"),
        "custom.cron",
        "day-of-week field 'FRI-MON': range FRI-MON runs backwards",
    ),
    "cron_step_zero": (
        lambda: custom("UTC", "*/0 * * * *"),
        "custom.cron",
        "minute field '*/0': a step must be at least 1",
    ),
    "cron_last_day": (
        lambda: custom("UTC", "0 0 L * *"),
        "custom.cron",
        "day-of-month field has 'L' where a number belongs",
    ),
    "cron_nth_weekday": (
        lambda: custom("UTC", "0 0 * * MON#2"),
        "custom.cron",
        "(L, W, #, ? and H are not supported)",
    ),
    "cron_unknown_month_name": (
        lambda: custom("UTC", "0 0 1 FOO *"),
        "custom.cron",
        "month field has unknown name 'FOO' (use JAN-DEC or numbers)",
    ),
    "cron_weekday_name_in_month": (
        lambda: custom("UTC", "0 0 1 MON *"),
        "custom.cron",
        "month field has unknown name 'MON'",
    ),
    "cron_unknown_shorthand": (
        lambda: custom("UTC", "@reboot"),
        "custom.cron",
        "unknown shorthand '@reboot'",
    ),
    "cron_empty_list_item": (
        lambda: custom("UTC", "1,,2 * * * *"),
        "custom.cron",
        "minute field '1,,2': '' is not a number",
    ),
    "cron_empty": (lambda: custom("UTC", "  "), "custom.cron", "must be a cron expression"),
}


@pytest.mark.parametrize(("build", "field", "reason"), INVALID.values(), ids=INVALID.keys())
def test_invalid_values_name_the_field_and_the_reason(
    build: object, field: str, reason: str
) -> None:
    assert callable(build)
    with pytest.raises(InvalidField) as caught:
        build()
    assert caught.value.field_name == field
    assert caught.value.reason.startswith(reason) or reason in caught.value.reason
    assert caught.value.issues == [f"{field}: {caught.value.reason}"]


def test_kind_and_day_of_week_given_as_strings_become_enums() -> None:
    c = Cadence("WEEKLY", "UTC", day_of_week="MONDAY", hour=7, minute=0)  # type: ignore[arg-type]
    assert c.kind is CadenceKind.WEEKLY
    assert c.day_of_week is DayOfWeek.MONDAY
    assert c == weekly("UTC", DayOfWeek.MONDAY, 7, 0)


@pytest.mark.parametrize(
    ("name", "offset"),
    [
        ("+08:00", timedelta(hours=8)),
        ("-03:30", timedelta(hours=-3, minutes=-30)),
        ("+0530", timedelta(hours=5, minutes=30)),
        ("+05", timedelta(hours=5)),
        ("+14:00", timedelta(hours=14)),
        ("-12:00", timedelta(hours=-12)),
        ("Z", timedelta(0)),
        ("UTC", timedelta(0)),
        ("+00:00", timedelta(0)),
        ("-00:00", timedelta(0)),
    ],
)
def test_fixed_offsets_parse_to_fixed_zones(name: str, offset: timedelta) -> None:
    zone = parse_timezone(name)
    assert isinstance(zone, timezone)
    assert zone.utcoffset(None) == offset


def test_iana_names_parse_to_zoneinfo_and_the_cadence_keeps_the_text() -> None:
    assert parse_timezone("Australia/Lord_Howe") == ZoneInfo("Australia/Lord_Howe")
    assert daily("Etc/GMT-3", 9, 0).timezone == "Etc/GMT-3"
    assert daily("+08:00", 9, 0).timezone == "+08:00"


# --- cron syntax -----------------------------------------------------------------------------


def test_cron_fields_expand_to_their_values() -> None:
    spec = parse_cron("*/15 9-17 1,15 JAN-MAR mon-FRI")
    assert spec.minutes == {0, 15, 30, 45}
    assert spec.hours == set(range(9, 18))
    assert spec.days == {1, 15}
    assert spec.months == {1, 2, 3}
    assert spec.weekdays == {1, 2, 3, 4, 5}
    assert spec.day_or


def test_cron_steps_from_a_start_and_over_a_range() -> None:
    assert parse_cron("5/20 * * * *").minutes == {5, 25, 45}
    assert parse_cron("10-30/10 * * * *").minutes == {10, 20, 30}
    assert parse_cron("5-5 * * * *").minutes == {5}  # croniter alone would read every minute
    assert parse_cron("0 0 * * 7").weekdays == {0}
    assert parse_cron("0 0 * * 5-7").weekdays == {5, 6, 0}
    assert parse_cron("0 0 * * */2").weekdays == {0, 2, 4, 6}


@pytest.mark.parametrize(
    ("shorthand", "fields"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@DAILY", "0 0 * * *"),
    ],
)
def test_shorthands_expand(shorthand: str, fields: str) -> None:
    assert to_cron(custom("UTC", shorthand)) == fields


def test_day_of_month_and_day_of_week_both_restricted_match_either() -> None:
    # 2025-06-01 is a Sunday, 2025-06-02 a Monday.
    c = custom("UTC", "0 0 1 * MON")
    assert upcoming(c, utc(2025, 5, 30), 3) == [
        utc(2025, 6, 1),
        utc(2025, 6, 2),
        utc(2025, 6, 9),
    ]
    # With day-of-month a bare *, day-of-week alone decides.
    assert upcoming(custom("UTC", "0 0 * * MON"), utc(2025, 5, 30), 1) == [utc(2025, 6, 2)]
    # Written but unrestricted still counts as restricted: 1-31 OR Monday is every day.
    assert upcoming(custom("UTC", "0 0 1-31 * MON"), utc(2025, 5, 30), 2) == [
        utc(2025, 5, 31),
        utc(2025, 6, 1),
    ]
    # A step is restricted too (Vixie cron would AND here): odd days, or Mondays.
    assert upcoming(custom("UTC", "0 0 */2 * MON"), utc(2025, 6, 1), 3) == [
        utc(2025, 6, 2),
        utc(2025, 6, 3),
        utc(2025, 6, 5),
    ]


def test_a_day_only_some_months_have_fires_in_those() -> None:
    assert upcoming(custom("UTC", "0 0 31 * *"), utc(2025, 1, 31, 1), 2) == [
        utc(2025, 3, 31),
        utc(2025, 5, 31),
    ]
    # Under the OR rule the impossible day is harmless: Mondays in February still match.
    assert upcoming(custom("UTC", "0 0 30 2 MON"), utc(2025, 1, 1), 1) == [utc(2025, 2, 3)]


# --- words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "text"),
    [
        (hourly(BERLIN, 15), "Every hour at minute 15 (Europe/Berlin)"),
        (daily(NEW_YORK, 9, 30), "Every day at 09:30 (America/New_York)"),
        (weekly("UTC", DayOfWeek.MONDAY, 7, 0), "Every Monday at 07:00 (UTC)"),
        (monthly(KOLKATA, 1, 6, 0), "On day 1 of every month at 06:00 (Asia/Kolkata)"),
        (daily("+08:00", 0, 5), "Every day at 00:05 (+08:00)"),
        (
            custom(BERLIN, "*/15 9-17 * * MON-FRI"),
            "Cron '*/15 9-17 * * MON-FRI' (Europe/Berlin): every 15 minutes, 09:00\u201317:59,"
            " Monday to Friday",
        ),
        (custom("UTC", "* * * * *"), "Cron '* * * * *' (UTC): every minute"),
        (custom("UTC", "@hourly"), "Cron '@hourly' (UTC): every hour at minute 0"),
        (custom("UTC", "@daily"), "Cron '@daily' (UTC): every day at 00:00"),
        (custom("UTC", "@weekly"), "Cron '@weekly' (UTC): at 00:00, on Sunday"),
        (custom("UTC", "@monthly"), "Cron '@monthly' (UTC): at 00:00, on day 1 of the month"),
        (
            custom("UTC", "@yearly"),
            "Cron '@yearly' (UTC): at 00:00, on day 1 of the month, in January",
        ),
        (custom("UTC", "0 */2 * * *"), "Cron '0 */2 * * *' (UTC): every 2 hours from 00:00"),
        (
            custom("UTC", "30 9-17 * * *"),
            "Cron '30 9-17 * * *' (UTC): every hour from 09:30 to 17:30",
        ),
        (
            custom("UTC", "0,30 9 * * 1-5"),
            "Cron '0,30 9 * * 1-5' (UTC): at 09:00 and 09:30, Monday to Friday",
        ),
        (
            custom("UTC", "0 8 * * SAT,SUN"),
            "Cron '0 8 * * SAT,SUN' (UTC): at 08:00, on Saturday and Sunday",
        ),
        (
            custom("UTC", "0 12 1,15 * *"),
            "Cron '0 12 1,15 * *' (UTC): at 12:00, on days 1 and 15 of the month",
        ),
        (
            custom("UTC", "0 0 1 * MON"),
            "Cron '0 0 1 * MON' (UTC): at 00:00, on day 1 of the month or on Monday",
        ),
        (
            custom("UTC", "5/15 * * JAN-MAR *"),
            "Cron '5/15 * * JAN-MAR *' (UTC): every 15 minutes from minute 5, from January to"
            " March",
        ),
        (
            custom("UTC", "0,15,45 * * * *"),
            "Cron '0,15,45 * * * *' (UTC): at minutes 0, 15 and 45",
        ),
        (
            custom("UTC", "0 0 1-31 * MON"),
            "Cron '0 0 1-31 * MON' (UTC): every day at 00:00",
        ),
        # Too irregular to read aloud: the expression speaks for itself.
        (
            custom("UTC", "1,3,7,8,20,40,41,50 1,3,5,7,9,11,13 * * *"),
            "Cron '1,3,7,8,20,40,41,50 1,3,5,7,9,11,13 * * *' (UTC)",
        ),
    ],
)
def test_describe(cadence: Cadence, text: str) -> None:
    assert describe(cadence) == text


@pytest.mark.parametrize(
    ("cadence", "cron"),
    [
        (hourly(BERLIN, 15), "15 * * * *"),
        (daily(BERLIN, 9, 30), "30 9 * * *"),
        (weekly(BERLIN, DayOfWeek.SUNDAY, 7, 0), "0 7 * * 0"),
        (weekly(BERLIN, DayOfWeek.SATURDAY, 7, 5), "5 7 * * 6"),
        (monthly(BERLIN, 28, 23, 59), "59 23 28 * *"),
        (custom(BERLIN, "  */15   9-17 * *  MON-FRI "), "*/15 9-17 * * MON-FRI"),
    ],
)
def test_to_cron(cadence: Cadence, cron: str) -> None:
    assert to_cron(cadence) == cron
    assert parse_cron(cron).fields == cadence.cron_spec.fields


def test_fixed_kinds_fire_where_their_cron_matches_outside_transitions() -> None:
    for c in [daily(BERLIN, 9, 30), weekly(BERLIN, DayOfWeek.FRIDAY, 17, 0)]:
        fires = upcoming(c, utc(2025, 5, 1), 5)
        spec = parse_cron(to_cron(c))
        assert all(spec.matches(f.astimezone(c.zone).replace(tzinfo=None)) for f in fires)


# --- cost ------------------------------------------------------------------------------------


def test_next_fire_after_does_not_scan_minute_by_minute() -> None:
    # A leap-day cron is up to 8 years away: a minute scan would take millions of steps.
    c = custom(LORD_HOWE, "0 2 29 2 *")
    began = time.perf_counter()
    for day in range(200):
        next_fire_after(c, utc(2025, 1, 1) + timedelta(days=day))
    assert time.perf_counter() - began < 2.0

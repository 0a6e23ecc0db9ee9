"""Leaderboard windows follow the guild's local calendar, including daylight-saving days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.economy.errors import InvalidSetting
from bot.economy.periods import Period, Window, previous_window, window, zone

NEW_YORK = ZoneInfo("America/New_York")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def length(span: Window) -> timedelta:
    assert span.start is not None and span.end is not None
    return span.end - span.start


@pytest.mark.parametrize("tz", [None, ZoneInfo("UTC"), NEW_YORK, ZoneInfo("Asia/Kolkata")])
def test_all_time_is_unbounded(tz):
    assert window(Period.ALL, utc(2026, 5, 5, 12), tz) == Window(None, None)
    assert previous_window(Period.ALL, utc(2026, 5, 5, 12), tz) == Window(None, None)


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        (Period.DAY, utc(2026, 5, 6, 13, 30), utc(2026, 5, 6), utc(2026, 5, 7)),
        (Period.DAY, utc(2026, 5, 6), utc(2026, 5, 6), utc(2026, 5, 7)),
        (Period.DAY, utc(2026, 5, 6, 23, 59, 59), utc(2026, 5, 6), utc(2026, 5, 7)),
        # 2026-05-06 is a Wednesday; weeks start on Monday.
        (Period.WEEK, utc(2026, 5, 6, 13), utc(2026, 5, 4), utc(2026, 5, 11)),
        (Period.WEEK, utc(2026, 5, 4), utc(2026, 5, 4), utc(2026, 5, 11)),  # a Monday itself
        (Period.WEEK, utc(2026, 5, 10, 23, 59), utc(2026, 5, 4), utc(2026, 5, 11)),  # Sunday night
        (Period.WEEK, utc(2026, 1, 1, 12), utc(2025, 12, 29), utc(2026, 1, 5)),  # across the year
        (Period.MONTH, utc(2026, 5, 6), utc(2026, 5, 1), utc(2026, 6, 1)),
        (Period.MONTH, utc(2026, 12, 31, 23, 59), utc(2026, 12, 1), utc(2027, 1, 1)),
        (Period.MONTH, utc(2026, 2, 28, 12), utc(2026, 2, 1), utc(2026, 3, 1)),
        (Period.MONTH, utc(2028, 2, 29, 12), utc(2028, 2, 1), utc(2028, 3, 1)),
        (Period.YEAR, utc(2026, 5, 6), utc(2026, 1, 1), utc(2027, 1, 1)),
        (Period.YEAR, utc(2026, 1, 1), utc(2026, 1, 1), utc(2027, 1, 1)),
        (Period.YEAR, utc(2026, 12, 31, 23, 59, 59), utc(2026, 1, 1), utc(2027, 1, 1)),
    ],
)
def test_windows_in_utc(period, now, start, end):
    assert window(period, now) == Window(start, end)
    assert window(period, now, ZoneInfo("UTC")) == Window(start, end)


@pytest.mark.parametrize("period", [Period.DAY, Period.WEEK, Period.MONTH, Period.YEAR])
@pytest.mark.parametrize("tz", [None, NEW_YORK, ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Asia/Kathmandu")])
@pytest.mark.parametrize(
    "now", [utc(2026, 3, 8, 6, 30), utc(2026, 11, 1, 5, 30), utc(2026, 12, 31, 23), utc(2027, 1, 1, 0, 0)]
)
def test_now_is_inside_its_half_open_window_and_windows_tile(period, tz, now):
    span = window(period, now, tz)
    assert span.start is not None and span.end is not None
    assert span.start <= now < span.end
    assert span.start.tzinfo is UTC and span.end.tzinfo is UTC
    assert window(period, span.end, tz).start == span.end  # the next window starts where this ends
    assert window(period, span.end - timedelta(microseconds=1), tz) == span
    assert previous_window(period, now, tz).end == span.start


# New York: 2026-03-08 springs forward (23-hour day), 2026-11-01 falls back (25-hour day).
@pytest.mark.parametrize(
    ("now", "start", "end", "hours"),
    [
        (utc(2026, 3, 8, 5), utc(2026, 3, 8, 5), utc(2026, 3, 9, 4), 23),  # local midnight EST
        (utc(2026, 3, 8, 12), utc(2026, 3, 8, 5), utc(2026, 3, 9, 4), 23),
        (utc(2026, 3, 9, 3, 59), utc(2026, 3, 8, 5), utc(2026, 3, 9, 4), 23),  # 23:59 EDT
        (utc(2026, 3, 9, 4), utc(2026, 3, 9, 4), utc(2026, 3, 10, 4), 24),  # next midnight EDT
        (utc(2026, 3, 8, 4, 59), utc(2026, 3, 7, 5), utc(2026, 3, 8, 5), 24),  # 23:59 the night before
        (utc(2026, 11, 1, 4), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5), 25),  # local midnight EDT
        (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5), 25),  # first 01:30
        (utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5), 25),  # second 01:30
        (utc(2026, 11, 2, 4, 59), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5), 25),  # 23:59 EST
        (utc(2026, 11, 2, 5), utc(2026, 11, 2, 5), utc(2026, 11, 3, 5), 24),
    ],
)
def test_new_york_days_around_daylight_saving(now, start, end, hours):
    span = window(Period.DAY, now, NEW_YORK)
    assert span == Window(start, end)
    assert length(span) == timedelta(hours=hours)


def test_new_york_weeks_months_and_years_span_the_dst_change():
    # Sunday 2026-03-08 belongs to the week starting Monday 2026-03-02.
    week = window(Period.WEEK, utc(2026, 3, 8, 12), NEW_YORK)
    assert week == Window(utc(2026, 3, 2, 5), utc(2026, 3, 9, 4))
    assert length(week) == timedelta(days=7, hours=-1)
    month = window(Period.MONTH, utc(2026, 11, 15), NEW_YORK)
    assert month == Window(utc(2026, 11, 1, 4), utc(2026, 12, 1, 5))
    year = window(Period.YEAR, utc(2026, 7, 4), NEW_YORK)
    assert year == Window(utc(2026, 1, 1, 5), utc(2027, 1, 1, 5))


def test_a_monday_in_new_york_starts_its_own_week():
    monday_morning = utc(2026, 3, 9, 4, 30)  # 00:30 EDT on Monday 2026-03-09
    assert window(Period.WEEK, monday_morning, NEW_YORK) == Window(utc(2026, 3, 9, 4), utc(2026, 3, 16, 4))
    sunday_night = utc(2026, 3, 9, 3, 30)  # 23:30 EDT on Sunday
    assert window(Period.WEEK, sunday_night, NEW_YORK).start == utc(2026, 3, 2, 5)


def test_new_years_eve_in_new_york_is_still_the_old_year():
    eve = utc(2027, 1, 1, 3)  # 22:00 on 2026-12-31 in New York
    assert window(Period.YEAR, eve, NEW_YORK) == Window(utc(2026, 1, 1, 5), utc(2027, 1, 1, 5))
    assert window(Period.MONTH, eve, NEW_YORK) == Window(utc(2026, 12, 1, 5), utc(2027, 1, 1, 5))
    assert window(Period.DAY, eve, NEW_YORK) == Window(utc(2026, 12, 31, 5), utc(2027, 1, 1, 5))
    assert window(Period.YEAR, eve) == Window(utc(2027, 1, 1), utc(2028, 1, 1))


@pytest.mark.parametrize(
    ("period", "now", "tz", "expected"),
    [
        (Period.DAY, utc(2026, 3, 9, 12), NEW_YORK, Window(utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))),
        (Period.DAY, utc(2026, 1, 1, 12), None, Window(utc(2025, 12, 31), utc(2026, 1, 1))),
        (Period.WEEK, utc(2026, 5, 4), None, Window(utc(2026, 4, 27), utc(2026, 5, 4))),
        (Period.WEEK, utc(2026, 3, 10), NEW_YORK, Window(utc(2026, 3, 2, 5), utc(2026, 3, 9, 4))),
        (Period.MONTH, utc(2026, 1, 15), None, Window(utc(2025, 12, 1), utc(2026, 1, 1))),
        (Period.MONTH, utc(2026, 3, 1), None, Window(utc(2026, 2, 1), utc(2026, 3, 1))),
        (Period.MONTH, utc(2026, 12, 1, 12), NEW_YORK, Window(utc(2026, 11, 1, 4), utc(2026, 12, 1, 5))),
        (Period.YEAR, utc(2026, 1, 1), None, Window(utc(2025, 1, 1), utc(2026, 1, 1))),
        (Period.YEAR, utc(2026, 6, 1), NEW_YORK, Window(utc(2025, 1, 1, 5), utc(2026, 1, 1, 5))),
    ],
)
def test_previous_window_is_the_last_closed_period(period, now, tz, expected):
    assert previous_window(period, now, tz) == expected


def test_period_labels():
    assert [p.label for p in Period] == ["today", "this week", "this month", "this year", "all time"]
    assert Period("week") is Period.WEEK


@pytest.mark.parametrize("name", ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata"])
def test_zone_knows_iana_names(name):
    assert zone(name) == ZoneInfo(name)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "Not a zone", "../../etc/passwd", "America/"])
def test_zone_refuses_unknown_names(name):
    with pytest.raises(InvalidSetting):
        zone(name)

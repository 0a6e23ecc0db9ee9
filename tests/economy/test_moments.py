"""Promotion times as moderators type them, in the server's timezone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.economy.moments import InvalidTime, parse_duration, parse_moment, promotion_span
from bot.economy.packages import Promotion, promotion_bonus

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("1d 12h", timedelta(days=1, hours=12)),
        ("90 minutes", timedelta(minutes=90)),
        ("2 weeks", timedelta(weeks=2)),
        ("1w2d", timedelta(days=9)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "h", "2", "2 fortnights", "0h", "-2h", "2h and then"])
def test_durations_that_make_no_sense_are_refused_clearly(text):
    with pytest.raises(InvalidTime) as caught:
        parse_duration(text)
    assert caught.value.user_message


def test_now_in_and_plus_count_from_now_or_from_the_start():
    assert parse_moment("now", now=NOW, tz=BERLIN) == NOW
    assert parse_moment("NOW ", now=NOW, tz=BERLIN) == NOW
    assert parse_moment("in 2h", now=NOW, tz=BERLIN) == NOW + timedelta(hours=2)
    assert parse_moment("+3d", now=NOW, tz=BERLIN) == NOW + timedelta(days=3)
    start = NOW + timedelta(days=1)
    assert parse_moment("+3d", now=NOW, tz=BERLIN, after=start) == start + timedelta(days=3)
    assert parse_moment("in 3d", now=NOW, tz=BERLIN, after=start) == NOW + timedelta(days=3)


def test_a_local_date_and_time_is_read_in_the_server_timezone():
    # Berlin is UTC+1 in winter and UTC+2 in summer.
    assert parse_moment("2026-03-01 18:00", now=NOW, tz=BERLIN) == datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
    assert parse_moment("2026-07-01T18:00", now=NOW, tz=BERLIN) == datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
    assert parse_moment("2026-03-02", now=NOW, tz=BERLIN) == datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    assert parse_moment("2026-03-01 18:00", now=NOW, tz=ZoneInfo("UTC")) == datetime(
        2026, 3, 1, 18, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("text", ["tomorrow", "2026-02-30 10:00", "2026-03-01 25:00", "01/03/2026", "<@1>"])
def test_times_that_make_no_sense_are_refused_clearly(text):
    with pytest.raises(InvalidTime) as caught:
        parse_moment(text, now=NOW, tz=BERLIN)
    assert "@" not in caught.value.user_message.replace("@\u200b", "")


def test_a_promotion_span_starts_now_or_later_and_ends_after_it():
    span = promotion_span("now", "+3d", now=NOW, tz=BERLIN)
    assert (span.start, span.end) == (NOW, NOW + timedelta(days=3))
    later = promotion_span("in 1d", "+2h", now=NOW, tz=BERLIN)
    assert (later.start, later.end) == (NOW + timedelta(days=1), NOW + timedelta(days=1, hours=2))
    # typed a few seconds ago: taken as now
    assert promotion_span("2026-03-01 13:00", "+1h", now=NOW + timedelta(seconds=30), tz=BERLIN).start == (
        NOW + timedelta(seconds=30)
    )


@pytest.mark.parametrize(
    ("starts", "ends", "why"),
    [
        ("2026-03-01 10:00", "+1h", "past"),
        ("now", "now", "after"),
        ("in 2h", "in 1h", "after"),
        ("now", "+91d", "90 days"),
        ("in 400d", "+1d", "year"),
    ],
)
def test_promotion_spans_that_cannot_run_are_refused(starts, ends, why):
    with pytest.raises(InvalidTime) as caught:
        promotion_span(starts, ends, now=NOW, tz=BERLIN)
    assert why in caught.value.user_message


def promo(percent: int, start: datetime, end: datetime, cancelled: datetime | None = None) -> Promotion:
    return Promotion(1, 1, percent, start, end, 7, cancelled)


def test_a_promotion_runs_from_its_start_until_its_end_or_its_cancellation():
    running = promo(20, NOW, NOW + timedelta(hours=1))
    assert not running.running_at(NOW - timedelta(microseconds=1))
    assert running.running_at(NOW)
    assert not running.running_at(NOW + timedelta(hours=1))
    cancelled = promo(20, NOW, NOW + timedelta(hours=1), cancelled=NOW + timedelta(minutes=10))
    assert cancelled.running_at(NOW + timedelta(minutes=9))
    assert not cancelled.running_at(NOW + timedelta(minutes=10))
    assert promotion_bonus(388, [running], NOW) == (77, 1)
    assert promotion_bonus(388, [cancelled], NOW + timedelta(minutes=30)) == (0, None)

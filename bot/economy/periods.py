"""Leaderboard periods: day, week (from Monday), month, year and all time, in a timezone.

Period starts are computed on the local calendar and converted back to UTC, so a day that is
23 or 25 hours long around a daylight-saving change is still exactly one day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidSetting, quoted


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    ALL = "all"

    @property
    def label(self) -> str:
        return {
            Period.DAY: "today",
            Period.WEEK: "this week",
            Period.MONTH: "this month",
            Period.YEAR: "this year",
            Period.ALL: "all time",
        }[self]


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open span [start, end) in UTC; `start is None` means since the beginning."""

    start: datetime | None
    end: datetime | None


def zone(name: str) -> ZoneInfo:
    """A timezone by IANA name, or InvalidSetting with a message a member can act on."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidSetting(
            f"“{quoted(name)}” is not a timezone I know. Use a name like Europe/Berlin or America/New_York."
        ) from exc


def _local_start(period: Period, local: datetime) -> datetime:
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.DAY:
        return midnight
    if period is Period.WEEK:
        return midnight - timedelta(days=midnight.weekday())
    if period is Period.MONTH:
        return midnight.replace(day=1)
    if period is Period.YEAR:
        return midnight.replace(month=1, day=1)
    raise ValueError(period)


def _next_local_start(period: Period, start: datetime) -> datetime:
    if period is Period.DAY:
        return start + timedelta(days=1)
    if period is Period.WEEK:
        return start + timedelta(days=7)
    if period is Period.MONTH:
        return start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    if period is Period.YEAR:
        return start.replace(year=start.year + 1)
    raise ValueError(period)


def _to_utc(local_naive: datetime, tz: ZoneInfo) -> datetime:
    # Midnight can fall in a DST gap in a few zones; fold=0 picks the earlier reading,
    # and normalising through UTC lands on the first instant that exists.
    return local_naive.replace(tzinfo=tz).astimezone(UTC)


def window(period: Period, now: datetime, tz: ZoneInfo | None = None) -> Window:
    """The period containing `now`, as UTC instants."""
    if now.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
    if period is Period.ALL:
        return Window(start=None, end=None)
    tz = tz or ZoneInfo("UTC")
    local = now.astimezone(tz).replace(tzinfo=None)
    start = _local_start(period, local)
    end = _next_local_start(period, start)
    return Window(start=_to_utc(start, tz), end=_to_utc(end, tz))


def previous_window(period: Period, now: datetime, tz: ZoneInfo | None = None) -> Window:
    """The last closed period before the one containing `now`."""
    current = window(period, now, tz)
    if current.start is None:
        return current
    return window(period, current.start - timedelta(microseconds=1), tz)

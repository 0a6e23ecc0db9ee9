"""Moments typed by moderators, such as a promotion's start and end, in the server's timezone.

Accepted: `now`; a local date and time `2026-03-01 18:00` (or a date alone, meaning midnight);
`in 2h` (from now); `+3d` (from now, or for an end, from the start). Units: m, h, d, w, and
several may follow each other (`1d 12h`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .errors import InvalidSetting, quoted

UNITS: dict[str, int] = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3_600),
    **dict.fromkeys(("d", "day", "days"), 86_400),
    **dict.fromkeys(("w", "wk", "week", "weeks"), 604_800),
}
_DURATION = re.compile(r"(?:\s*\d{1,5}\s*[a-z]+)+\s*")
_PART = re.compile(r"(\d{1,5})\s*([a-z]+)")
_LOCAL = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ tT](\d{1,2}):(\d{2}))?")

GRACE = timedelta(minutes=1)
"""A start this little in the past is taken as now (the moderator typed it a moment ago)."""
MAX_LEAD = timedelta(days=365)
MAX_LENGTH = timedelta(days=90)
EXAMPLES = "`now`, `2026-03-01 18:00`, `in 2h` or `+3d`"


class InvalidTime(InvalidSetting):
    """A moment or a span a member typed that cannot be used."""


def parse_duration(text: str) -> timedelta:
    """`2h`, `3d`, `1d 12h`, `90 minutes`."""
    raw = text.strip().lower()
    if not _DURATION.fullmatch(raw):
        raise InvalidTime(f"“{quoted(text)}” is not a length of time. Write one like `2h`, `3d` or `1d 12h`.")
    seconds = 0
    for amount, unit in _PART.findall(raw):
        if unit not in UNITS:
            raise InvalidTime(f"“{quoted(unit)}” is not a unit I know. Use m, h, d or w.")
        seconds += int(amount) * UNITS[unit]
    if seconds <= 0:
        raise InvalidTime("The length of time must be more than zero.")
    return timedelta(seconds=seconds)


def parse_moment(text: str, *, now: datetime, tz: ZoneInfo, after: datetime | None = None) -> datetime:
    """The UTC moment `text` names. `+…` counts from `after` when given (an end after its start)."""
    raw = " ".join(text.split())
    lowered = raw.lower()
    if lowered == "now":
        return now
    if lowered.startswith("in "):
        return now + parse_duration(lowered[3:])
    if lowered.startswith("+"):
        return (after or now) + parse_duration(lowered[1:])
    match = _LOCAL.fullmatch(raw)
    if match is None:
        raise InvalidTime(f"“{quoted(text)}” is not a time I understand. Write {EXAMPLES}.")
    year, month, day = (int(match[i]) for i in (1, 2, 3))
    hour, minute = int(match[4] or 0), int(match[5] or 0)
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError as exc:
        raise InvalidTime(f"“{quoted(text)}” is not a real date and time.") from exc
    return local.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime


def promotion_span(starts: str, ends: str, *, now: datetime, tz: ZoneInfo) -> Span:
    """When a promotion runs: it may not start in the past, must end after it starts, and may
    last at most 90 days and start at most a year ahead."""
    start = parse_moment(starts, now=now, tz=tz)
    if start < now - GRACE:
        raise InvalidTime("A promotion can't start in the past. Use `now` or a later time.")
    start = max(start, now)
    if start > now + MAX_LEAD:
        raise InvalidTime("A promotion can start at most a year from now.")
    end = parse_moment(ends, now=now, tz=tz, after=start)
    if end <= start:
        raise InvalidTime("The end must come after the start.")
    if end - start > MAX_LENGTH:
        raise InvalidTime("A promotion can run for at most 90 days.")
    return Span(start, end)

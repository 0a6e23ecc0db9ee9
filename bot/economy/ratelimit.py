"""A sliding-window limit: at most `limit` events in any `per` span.

Used per channel, so that however many gifts arrive, the bot's own posts and edits stay inside
Discord's comfort zone (5 per 5 seconds per channel).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class SlidingWindow:
    def __init__(self, limit: int = 5, per: timedelta = timedelta(seconds=5)) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.per = per
        self._events: deque[datetime] = deque()

    def _trim(self, now: datetime) -> None:
        while self._events and now - self._events[0] >= self.per:
            self._events.popleft()

    def try_acquire(self, now: datetime) -> bool:
        """Take a slot if one is free at `now`."""
        self._trim(now)
        if len(self._events) >= self.limit:
            return False
        self._events.append(now)
        return True

    def next_free(self, now: datetime) -> datetime:
        """The earliest moment a slot is free (now, if one already is)."""
        self._trim(now)
        if len(self._events) < self.limit:
            return now
        return self._events[0] + self.per

    def used(self, now: datetime) -> int:
        self._trim(now)
        return len(self._events)

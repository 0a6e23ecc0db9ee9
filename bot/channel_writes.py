"""The bot's own posts and edits per channel, whoever makes them: at most 5 in any 5 seconds.

Combo edits, gift-wall posts and announcements all draw from the same budget, so a busy gift
channel that also receives an announcement still stays inside Discord's comfort zone.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.economy.clock import Now
from bot.economy.ratelimit import SlidingWindow

WRITES_PER_WINDOW = 5
WRITE_WINDOW = timedelta(seconds=5)


class ChannelWrites:
    def __init__(self, now: Now, *, limit: int = WRITES_PER_WINDOW, per: timedelta = WRITE_WINDOW) -> None:
        self.now = now
        self.limit = limit
        self.per = per
        self._windows: dict[int, SlidingWindow] = {}

    def try_acquire(self, channel_id: int) -> bool:
        """Take a write slot now if one is free."""
        window = self._windows.setdefault(channel_id, SlidingWindow(self.limit, self.per))
        return window.try_acquire(self.now())

    async def acquire(self, channel_id: int) -> None:
        """Wait for a write slot (a few seconds at most), then take it."""
        while not self.try_acquire(channel_id):
            now = self.now()
            await asyncio.sleep(max((self._windows[channel_id].next_free(now) - now).total_seconds(), 0.05))

    def used(self, channel_id: int) -> int:
        window = self._windows.get(channel_id)
        return 0 if window is None else window.used(self.now())

    def forget_idle(self) -> None:
        """Drop channels whose last write is older than the window (keeps memory flat)."""
        now = self.now()
        for channel_id in [c for c, window in self._windows.items() if window.used(now) == 0]:
            del self._windows[channel_id]

"""A per-member rate limit on /gift: at most N uses in any S seconds (`gift_cooldown`, 10 per 10s).

Generous enough for a quick run of Roses, it stops a member (or a script) flooding the
ledger and the channel. The refusal is private and says when to try again. Counts live in
memory: a restart forgets them, which only ever loosens the limit for a few seconds.
"""

from __future__ import annotations

import math
import weakref
from datetime import datetime, timedelta

import discord
from discord import app_commands

from bot.economy.clock import Now, from_millis, to_millis
from bot.economy.ratelimit import SlidingWindow
from bot.ui import format as fmt

PRUNE_ABOVE = 1024  # members tracked before idle windows are dropped


class GiftCooldown(app_commands.CheckFailure):
    def __init__(self, *, retry_at: datetime, limit: int, seconds: int) -> None:
        self.retry_at = retry_at
        self.user_message = (
            f"Slow down a little: this server allows {fmt.plural(limit, 'gift')} every "
            f"{fmt.plural(seconds, 'second')}. You can send again {fmt.when(retry_at)}."
        )
        super().__init__(self.user_message)


class GiftCooldowns:
    """One sliding window per (server, member)."""

    def __init__(self, now: Now) -> None:
        self.now = now
        self._windows: dict[tuple[int, int], SlidingWindow] = {}

    def take(self, guild_id: int, user_id: int, *, limit: int, seconds: int) -> datetime | None:
        """Count one use. None when allowed; otherwise when the member may send again."""
        now = self.now()
        per = timedelta(seconds=seconds)
        window = self._windows.get((guild_id, user_id))
        if window is None or window.limit != limit or window.per != per:  # new, or the setting changed
            self._prune(now)
            window = self._windows[(guild_id, user_id)] = SlidingWindow(limit, per)
        if window.try_acquire(now):
            return None
        # Whole seconds, rounded up: a Discord timestamp shows no fractions, and must not say "now".
        return from_millis(math.ceil(to_millis(window.next_free(now)) / 1000) * 1000)

    def _prune(self, now: datetime) -> None:
        if len(self._windows) >= PRUNE_ABOVE:
            for key in [key for key, window in self._windows.items() if not window.used(now)]:
                del self._windows[key]


_per_bot: weakref.WeakKeyDictionary[discord.Client, GiftCooldowns] = weakref.WeakKeyDictionary()


async def gift_cooldown(interaction: discord.Interaction) -> bool:
    """An app-command check for /gift; runs after require_guild."""
    bot = interaction.client
    assert interaction.guild_id is not None
    limiter = _per_bot.get(bot)
    if limiter is None:
        limiter = _per_bot[bot] = GiftCooldowns(bot.now)  # type: ignore[attr-defined]
    config = await bot.economy.config(interaction.guild_id)  # type: ignore[attr-defined]
    limit, seconds = config.gift_cooldown
    retry_at = limiter.take(interaction.guild_id, interaction.user.id, limit=limit, seconds=seconds)
    if retry_at is not None:
        raise GiftCooldown(retry_at=retry_at, limit=limit, seconds=seconds)
    return True

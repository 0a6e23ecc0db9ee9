"""What the senders that post outbox rows to a channel share (announcements, audit posts).

A post carries a reference in its footer and a nonce, so a retry can find, or Discord can drop,
a message it accepted just before a crash. A missing channel or permission is a permanent
failure, tried a few times; anything else (Discord 5xx, 429, a network error) is retried for
longer, backing off (bot/economy/retry.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.economy.retry import backoff

if TYPE_CHECKING:
    from bot.app import GiftBot

PERMANENT_ATTEMPTS = 3  # a missing channel or permission: give up after this many attempts
MAX_ATTEMPTS = 10  # any other failure


class PermanentFailure(Exception):
    """Retrying soon will not help: the channel is gone or the bot may not post there."""


def reference(dedupe_key: str) -> str:
    """A short, stable marker for one post, shown in its footer ("ref 1A2B3C4D5E")."""
    return "ref " + hashlib.sha256(dedupe_key.encode()).hexdigest()[:10].upper()


def nonce(prefix: str, dedupe_key: str) -> str:
    """Discord accepts nonces of up to 25 characters; discord.py sends enforce_nonce with it.
    Each sender has its own two-letter prefix."""
    return prefix + hashlib.sha256(dedupe_key.encode()).hexdigest()[:20]


def missing_permissions(
    channel: discord.abc.GuildChannel | discord.Thread, member: discord.Member, needed: dict[str, str]
) -> list[str]:
    """Discord's names of the `needed` permissions (flag -> name) the member lacks there."""
    granted = channel.permissions_for(member)
    return [label for flag, label in needed.items() if not getattr(granted, flag)]


async def postable_channel(
    bot: GiftBot, channel_id: int | None, *, what: str, needed: dict[str, str], threads: bool = False
) -> discord.TextChannel | discord.Thread:
    """The channel to post in, or PermanentFailure saying why there is none (`what` names it)."""
    if channel_id is None:
        raise PermanentFailure(f"no {what}")
    channel = bot.get_channel(channel_id)
    if channel is None:
        try:
            channel = await bot.fetch_channel(channel_id)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise PermanentFailure(f"{what} {channel_id} is gone or hidden from me") from exc
    if not (isinstance(channel, discord.TextChannel) or (threads and isinstance(channel, discord.Thread))):
        raise PermanentFailure(f"{what} {channel_id} is not a text channel")
    missing = missing_permissions(channel, channel.guild.me, needed)
    if missing:
        raise PermanentFailure(f"missing permissions in {what} {channel.id}: {', '.join(missing)}")
    return channel


@dataclass(frozen=True, slots=True)
class Failure:
    """What a failed attempt records: its error text, and when to try again (None: give up)."""

    error: str
    retry_at: datetime | None
    permanent: bool


def failure(exc: Exception, attempt: int, now: datetime) -> Failure:
    """How attempt number `attempt` failing with `exc` is recorded: a permanent failure (no
    channel, no permission) gives up after PERMANENT_ATTEMPTS, anything else after MAX_ATTEMPTS."""
    permanent = isinstance(exc, PermanentFailure | discord.Forbidden | discord.NotFound)
    limit = PERMANENT_ATTEMPTS if permanent else MAX_ATTEMPTS
    return Failure(
        error=str(exc) if isinstance(exc, PermanentFailure) else f"{type(exc).__name__}: {exc}",
        retry_at=now + backoff(attempt) if attempt < limit else None,
        permanent=permanent,
    )

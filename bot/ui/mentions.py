"""Allowed mentions: nobody is pinged unless a message names them on purpose."""

from __future__ import annotations

from collections.abc import Iterable

import discord

NO_PINGS = discord.AllowedMentions.none()


def only_users(user_ids: Iterable[int]) -> discord.AllowedMentions:
    """Ping exactly these users: no roles, no @everyone, nobody else named in the text."""
    return discord.AllowedMentions(
        everyone=False, roles=False, replied_user=False, users=[discord.Object(id=u) for u in user_ids]
    )

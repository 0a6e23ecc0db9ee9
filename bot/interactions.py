"""Turning a Discord interaction into what the economy needs: parties and idempotency keys."""

from __future__ import annotations

import discord

from bot.economy.service import Party
from bot.ui import format as fmt


def party(user: discord.Member | discord.User) -> Party:
    return Party(id=user.id, name=fmt.display_name(user), is_bot=user.bot)


def idempotency_key(interaction: discord.Interaction) -> str:
    """Money keys on the command's interaction id, so a redelivery moves nothing twice."""
    return f"interaction:{interaction.id}"

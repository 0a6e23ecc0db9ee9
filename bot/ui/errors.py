"""How a refusal or a failure reaches the member: always privately, never raw."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.economy.errors import EconomyError

from . import theme
from .mentions import NO_PINGS

log = logging.getLogger("giftbot.errors")

MAX_DESCRIPTION = 4096  # characters in an embed description
APOLOGY = "Sorry, something went wrong on our side. Nothing was charged twice; please try again."


def user_message_for(error: BaseException) -> str | None:
    """The sentence to show for an expected error, or None when it is a bug."""
    original = getattr(error, "original", None)
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError) and original:
        error = original
    if isinstance(error, EconomyError):
        return error.user_message
    message = getattr(error, "user_message", None)
    if isinstance(message, str):
        return message
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.MissingPermissions):
        return "You don't have permission to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "giftbot works inside a server, not in direct messages."
    if isinstance(error, app_commands.TransformerError):
        return "I couldn't understand one of the options. Please check it and try again."
    return None


def _describe(interaction: discord.Interaction) -> str:
    command = interaction.command.qualified_name if interaction.command else None
    custom_id = (interaction.data or {}).get("custom_id") if interaction.data else None
    return (
        f"interaction={interaction.id} type={interaction.type.name} command={command} "
        f"custom_id={custom_id} guild={interaction.guild_id} channel={interaction.channel_id} "
        f"user={interaction.user.id}"
    )


async def send_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the member privately; log bugs with their context."""
    message = user_message_for(error)
    if message is None:
        log.error("unexpected error in %s", _describe(interaction), exc_info=error)
        message = APOLOGY
    if len(message) > MAX_DESCRIPTION:  # Discord would refuse the whole reply
        message = message[: MAX_DESCRIPTION - 1] + "…"
    embed = discord.Embed(description=message, colour=theme.ERROR)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)
    except discord.HTTPException as exc:
        log.warning("could not deliver an error message (%s): %s", _describe(interaction), exc)

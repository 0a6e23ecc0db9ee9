"""Who may do what, checked in code on every use.

Discord's default_member_permissions only hides commands, and server admins can override it,
so each moderator command checks again here.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.economy.guild_config import GuildConfig


class NotModerator(app_commands.CheckFailure):
    user_message = "Only moderators can do that: members with Manage Server or the moderator role."


class NotManager(app_commands.CheckFailure):
    user_message = "Only members with Manage Server can change giftbot's settings."


class GuildOnly(app_commands.CheckFailure):
    user_message = "giftbot works inside a server, not in direct messages."


def is_manager(member: discord.Member | discord.User) -> bool:
    return isinstance(member, discord.Member) and member.guild_permissions.manage_guild


def is_moderator(member: discord.Member | discord.User, config: GuildConfig) -> bool:
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    role_id = config.moderator_role_id
    return role_id is not None and any(role.id == role_id for role in member.roles)


async def require_moderator(interaction: discord.Interaction) -> bool:
    """An app-command check: the caller must be a moderator of this guild."""
    if interaction.guild is None:
        raise GuildOnly()
    config = await interaction.client.economy.config(interaction.guild.id)  # type: ignore[attr-defined]
    if not is_moderator(interaction.user, config):
        raise NotModerator()
    return True


async def require_manager(interaction: discord.Interaction) -> bool:
    if interaction.guild is None:
        raise GuildOnly()
    if not is_manager(interaction.user):
        raise NotManager()
    return True


async def require_guild(interaction: discord.Interaction) -> bool:
    if interaction.guild is None:
        raise GuildOnly()
    return True

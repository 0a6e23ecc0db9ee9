"""/help: the commands the caller may use, read from the command tree so it never goes stale."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import GiftBot
from bot.permissions import is_manager, is_moderator, require_guild
from bot.ui import theme
from bot.ui.mentions import NO_PINGS

INTRO = (
    "Members hold **coins** 🪙 in this server and spend them on **gifts** 🎁 for creators; "
    "creators earn **diamonds** 💎 from every gift they receive."
)

MEMBER, CREATOR, MODERATOR, SETTINGS = "Member", "Creator", "Moderator", "Server settings"
SECTIONS = (MEMBER, CREATOR, MODERATOR, SETTINGS)
# Top-level groups that belong to a restricted section; everything else is for members.
SECTION_OF_GROUP = {"creator": CREATOR, "mod": MODERATOR, "config": SETTINGS}

SlashCommand = app_commands.Command[Any, ..., Any]


def slash_commands(tree: app_commands.CommandTree[GiftBot]) -> Iterator[SlashCommand]:
    """Every invocable slash command, group subcommands included (context menus skipped)."""
    for command in tree.get_commands(type=discord.AppCommandType.chat_input):
        if isinstance(command, app_commands.Group):
            yield from (c for c in command.walk_commands() if isinstance(c, app_commands.Command))
        elif isinstance(command, app_commands.Command):
            yield command


def section_of(command: SlashCommand) -> str:
    root = command.qualified_name.split()[0]
    return SECTION_OF_GROUP.get(root, MEMBER)


def allowed_sections(user: discord.Member | discord.User, *, moderator: bool, creator: bool) -> set[str]:
    allowed = {MEMBER}
    if creator:
        allowed.add(CREATOR)
    if moderator:
        allowed.add(MODERATOR)
    if is_manager(user):
        allowed.add(SETTINGS)
    return allowed


def help_embed(commands_by_section: dict[str, list[SlashCommand]]) -> discord.Embed:
    parts = [INTRO]
    for name in SECTIONS:
        listed = sorted(commands_by_section.get(name, []), key=lambda c: c.qualified_name)
        if not listed:
            continue
        lines = [f"`/{c.qualified_name}` · {c.description}" for c in listed]
        parts.append(f"**{name}**\n" + "\n".join(lines))
    return discord.Embed(title="giftbot help", description="\n\n".join(parts)[:4096], colour=theme.INFO)


class Help(commands.Cog):
    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What giftbot does and the commands you can use.")
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def help(self, interaction: discord.Interaction) -> None:
        """What giftbot does and the commands you can use."""
        assert interaction.guild_id is not None
        config = await self.bot.economy.config(interaction.guild_id)
        creator = await self.bot.storage.is_creator(
            guild_id=interaction.guild_id, user_id=interaction.user.id
        )
        allowed = allowed_sections(
            interaction.user, moderator=is_moderator(interaction.user, config), creator=creator
        )
        by_section: dict[str, list[SlashCommand]] = {}
        for command in slash_commands(self.bot.tree):
            section = section_of(command)
            if section in allowed:
                by_section.setdefault(section, []).append(command)
        await interaction.response.send_message(
            embed=help_embed(by_section), ephemeral=True, allowed_mentions=NO_PINGS
        )


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(Help(bot))

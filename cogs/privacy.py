"""/privacy: a member leaves (or rejoins) the public leaderboards and announcements."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import GiftBot
from bot.interactions import party
from bot.permissions import require_guild
from bot.ui import theme
from bot.ui.mentions import NO_PINGS

HIDE, SHOW = "hide", "show"
CHOICES = [
    app_commands.Choice(name="Hide me from public leaderboards", value=HIDE),
    app_commands.Choice(name="Show me on public leaderboards", value=SHOW),
]

HIDDEN_TEXT = (
    "You're **hidden** from the public leaderboards and leaderboard announcements in this server. "
    "Your gifts still count, and `/leaderboard` still tells you your own rank, privately. "
    "`/privacy leaderboards:show` puts you back."
)
SHOWN_TEXT = (
    "You're **shown** on the public leaderboards and leaderboard announcements in this server. "
    "`/privacy leaderboards:hide` takes you off them; your gifts keep counting either way."
)


class Privacy(commands.Cog):
    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot

    @app_commands.command(name="privacy", description="Hide or show yourself on public leaderboards.")
    @app_commands.describe(leaderboards="Hide or show yourself (leave out to see your current choice)")
    @app_commands.choices(leaderboards=CHOICES)
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def privacy(
        self, interaction: discord.Interaction, leaderboards: app_commands.Choice[str] | None = None
    ) -> None:
        """Hide or show yourself on public leaderboards."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        if leaderboards is None:
            hidden = await self.bot.economy.is_hidden(guild_id, interaction.user.id)
            title = "Your leaderboard privacy"
        else:
            hidden = await self.bot.economy.set_privacy(
                guild_id, party(interaction.user), hidden=leaderboards.value == HIDE
            )
            title = "Done: you're off the public boards" if hidden else "Done: you're back on the boards"
        embed = discord.Embed(
            title=title, description=HIDDEN_TEXT if hidden else SHOWN_TEXT, colour=theme.INFO
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(Privacy(bot))

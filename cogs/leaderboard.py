"""/leaderboard: the top gifters and creators of a period, shown to the whole channel."""

from __future__ import annotations

from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import GiftBot
from bot.economy.models import LeaderboardRow
from bot.economy.periods import Period, Window
from bot.economy.service import Leaderboard
from bot.permissions import require_guild
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS

TOP = 10
# Discord display names are at most 32 characters; escaped they stay under 70, which keeps ten
# lines inside an embed field's 1,024 characters.
NAME_CHARS, NAME_LIMIT = 32, 70

PERIOD_CHOICES = [app_commands.Choice(name=p.label.capitalize(), value=p.value) for p in Period]

# How the window reads under the title, e.g. "Week from <t:…:D>".
_SPAN_NAMES = {Period.DAY: "Day", Period.WEEK: "Week", Period.MONTH: "Month", Period.YEAR: "Year"}


def row_line(row: LeaderboardRow) -> str:
    # Names were stored at gift time, so members who left still show; the mention fallback sits
    # in an embed, which never pings.
    name = fmt.safe(row.name[:NAME_CHARS], NAME_LIMIT) if row.name.strip() else f"<@{row.user_id}>"
    return f"`#{row.rank}` {name} · {fmt.coins(row.score)}"


def section(rows: list[LeaderboardRow], empty: str) -> str:
    return "\n".join(row_line(row) for row in rows) or empty


def describe_window(period: Period, span: Window) -> str:
    if span.start is None or span.end is None:
        return "Every gift ever sent in this server."
    # The end is exclusive: the last day shown is the one before the next period starts.
    last_day = span.end - timedelta(microseconds=1)
    if period is Period.DAY:
        return f"{fmt.when(span.start, 'D')} · resets {fmt.when(span.end)}"
    return (
        f"{_SPAN_NAMES[period]} from {fmt.when(span.start, 'D')} to {fmt.when(last_day, 'D')}"
        f" · resets {fmt.when(span.end)}"
    )


def board_embed(board: Leaderboard) -> discord.Embed:
    embed = discord.Embed(
        title=f"🏆 Leaderboard · {board.period.label}",
        description=describe_window(board.period, board.window),
        colour=theme.BOARD,
    )
    if not board.gifters and not board.creators:
        embed.description = (
            f"{embed.description}\n\nNo gifts {board.period.label} yet. Be the first with /gift!"
        )
    embed.add_field(
        name="🎁 Top gifters (coins sent)", value=section(board.gifters, "Nobody yet."), inline=False
    )
    embed.add_field(
        name="🌟 Top creators (coins received)",
        value=section(board.creators, "Nobody yet."),
        inline=False,
    )
    return embed


class Leaderboards(commands.Cog):
    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot

    @app_commands.command(name="leaderboard", description="Top gifters and creators of a period.")
    @app_commands.describe(period="Which period to rank (default: this week)")
    @app_commands.choices(period=PERIOD_CHOICES)
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def leaderboard(
        self, interaction: discord.Interaction, period: app_commands.Choice[str] | None = None
    ) -> None:
        """Top gifters and creators of a period."""
        assert interaction.guild_id is not None
        chosen = Period(period.value) if period is not None else Period.WEEK
        # Public, and deferred: rendering may take a moment once boards become images.
        await interaction.response.defer()
        board = await self.bot.economy.leaderboard(interaction.guild_id, chosen, limit=TOP)
        await interaction.followup.send(embed=board_embed(board), allowed_mentions=NO_PINGS)


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(Leaderboards(bot))

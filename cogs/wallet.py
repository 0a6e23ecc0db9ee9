"""/balance and /history: a member's own wallet, shown only to them."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import GiftBot
from bot.economy.models import EntryKind, HistoryEntry
from bot.permissions import require_guild
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS
from bot.ui.views import send_paged

PER_PAGE = 10


def describe(entry: HistoryEntry) -> str:
    if entry.kind is EntryKind.GIFT:
        what = f"{entry.gift_emoji} {fmt.safe(entry.gift_name or '')} ×{entry.count}"
        if entry.coins < 0:
            return f"Sent {what} to <@{entry.counterparty_id}>"
        return f"Received {what} from <@{entry.counterparty_id}>"
    if entry.kind is EntryKind.GRANT:
        return f"Promo grant by <@{entry.counterparty_id}>: {fmt.safe(entry.reason or '')}"
    if entry.kind is EntryKind.REVOKE:
        return f"Revoked by <@{entry.counterparty_id}>: {fmt.safe(entry.reason or '')}"
    return entry.kind.value


def amounts(entry: HistoryEntry) -> str:
    parts = []
    if entry.coins:
        parts.append(f"{theme.COIN} {fmt.signed(entry.coins)}")
    if entry.diamonds:
        parts.append(f"{theme.DIAMOND} {fmt.signed(entry.diamonds)}")
    return " · ".join(parts) or "—"


class Wallet(commands.Cog):
    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot

    @app_commands.command(name="balance", description="See your coins and diamonds in this server.")
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def balance(self, interaction: discord.Interaction) -> None:
        """See your coins and diamonds in this server."""
        assert interaction.guild_id is not None
        held = await self.bot.economy.balances(interaction.guild_id, interaction.user.id)
        embed = discord.Embed(title="Your wallet", colour=theme.INFO)
        embed.add_field(name="Coins", value=fmt.coins(held.coins))
        embed.add_field(name="Diamonds", value=fmt.diamonds(held.diamonds))
        embed.set_footer(text="Coins buy gifts; creators earn diamonds. /history shows every change.")
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="history", description="Every change to your wallet, newest first.")
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def history(self, interaction: discord.Interaction) -> None:
        """Every change to your wallet, newest first."""
        assert interaction.guild_id is not None
        guild_id, user_id = interaction.guild_id, interaction.user.id
        await interaction.response.defer(ephemeral=True, thinking=True)

        async def render(page: int) -> tuple[discord.Embed, int]:
            result = await self.bot.economy.history(guild_id, user_id, page=page, per_page=PER_PAGE)
            embed = discord.Embed(title="Your history", colour=theme.INFO)
            if not result.items:
                embed.description = "Nothing yet. Coins you receive and gifts you send will show up here."
            for entry in result.items:
                embed.add_field(
                    name=f"#{entry.entry_id} · {amounts(entry)}",
                    value=f"{describe(entry)} · {fmt.when(entry.created_at)}",
                    inline=False,
                )
            embed.set_footer(
                text=f"Page {result.page_number} of {result.page_count} · {result.total:,} entries"
            )
            return embed, result.page_count

        await send_paged(interaction, render, ephemeral=True)


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(Wallet(bot))

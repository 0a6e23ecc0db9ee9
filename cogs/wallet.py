"""/balance and /history: a member's own wallet, shown only to them."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import GiftBot
from bot.economy.models import Balances, EntryKind, HistoryEntry
from bot.permissions import require_guild
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.export import send_export, send_pages_with_export
from bot.ui.ledger import kind_label, signed_amounts
from bot.ui.mentions import NO_PINGS

PER_PAGE = 10


def describe(entry: HistoryEntry) -> str:
    if entry.kind is EntryKind.GIFT:
        what = f"{entry.gift_emoji} {fmt.safe(entry.gift_name or '')} ×{entry.count}"
        if entry.coins < 0:
            return f"Sent {what} to {fmt.person(entry.counterparty_id)}"
        return f"Received {what} from {fmt.person(entry.counterparty_id)}"
    if entry.kind is EntryKind.GRANT:
        return f"Promo grant by {fmt.person(entry.counterparty_id)}: {fmt.safe(entry.reason or '')}"
    if entry.kind is EntryKind.REVOKE:
        return f"Revoked by {fmt.person(entry.counterparty_id)}: {fmt.safe(entry.reason or '')}"
    reason = f": {fmt.safe(entry.reason)}" if entry.reason else ""
    if entry.kind is EntryKind.PURCHASE:
        return f"Bought coins{reason}"
    if entry.kind is EntryKind.PURCHASE_BONUS:
        return f"Promotion bonus on a purchase{reason}"
    if entry.kind is EntryKind.REFUND:
        return f"Refund of a purchase{reason}"
    if entry.kind is EntryKind.CASHOUT_REQUEST:
        return "Cash-out requested: set aside until a moderator decides"
    if entry.kind is EntryKind.CASHOUT_APPROVE:
        return f"Cash-out paid, approved by {moderator(entry)} · reference{reason}"
    if entry.kind is EntryKind.CASHOUT_REJECT:
        return f"Cash-out rejected by {moderator(entry)}, diamonds returned{reason}"
    return kind_label(entry.kind.value)


def moderator(entry: HistoryEntry) -> str:
    return fmt.person(entry.counterparty_id) if entry.counterparty_id else "a moderator"


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
        await self._add_breakdown(embed, interaction.guild_id, interaction.user.id, held)
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
                    name=f"#{entry.entry_id} · {signed_amounts(entry)}",
                    value=f"{describe(entry)} · {fmt.when(entry.created_at)}",
                    inline=False,
                )
            embed.set_footer(
                text=f"Page {result.page_number} of {result.page_count} · {result.total:,} entries"
            )
            return embed, result.page_count

        async def export(click: discord.Interaction) -> None:
            await send_export(
                click,
                lambda: self.bot.storage.export_member_ledger(guild_id=guild_id, user_id=user_id),
                what="Your history, one row per entry",
                filename=f"giftbot-history-{guild_id}-{user_id}.csv",
            )

        await send_pages_with_export(interaction, render, export)

    async def _add_breakdown(self, embed: discord.Embed, guild_id: int, user_id: int, held: Balances) -> None:
        """Where the coins and diamonds came from, once any were bought or set aside: only paid
        diamonds out of the refund window can be cashed out."""
        if held.paid_coins:
            embed.add_field(name="Bought coins", value=fmt.coins(held.paid_coins))
            if held.promo_coins:
                embed.add_field(name="Promo coins", value=fmt.coins(held.promo_coins))
        if not (held.paid_diamonds or held.pending_diamonds):
            return
        embed.add_field(name="Paid diamonds", value=fmt.diamonds(held.paid_diamonds))
        if held.promo_diamonds:
            embed.add_field(
                name="Promo diamonds", value=f"{fmt.diamonds(held.promo_diamonds)} (not cashable)"
            )
        if held.held_diamonds:
            text = fmt.diamonds(held.held_diamonds)
            matures = await self.bot.cashouts.next_maturity(guild_id, user_id)
            if matures is not None:
                text += f", next cashable {fmt.when(matures)}"
            embed.add_field(name="Held (refund window)", value=text)
        if held.pending_diamonds:
            embed.add_field(name="Pending cash-out", value=fmt.diamonds(held.pending_diamonds))
        embed.add_field(name="Cashable", value=fmt.diamonds(held.cashable_diamonds))


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(Wallet(bot))

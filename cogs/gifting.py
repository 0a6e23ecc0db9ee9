"""/gift and /gifts: spend coins on gifts for creators, acknowledged in public."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import GiftBot
from bot.economy.errors import EconomyError
from bot.economy.models import GiftItem, GiftReceipt
from bot.economy.service import GiftQuote, Party
from bot.interactions import idempotency_key, party
from bot.permissions import is_moderator, require_guild
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS
from bot.ui.views import ConfirmView, send_paged

log = logging.getLogger(__name__)

PER_PAGE = 12
MAX_COUNT = 9_999
ALREADY_ACKNOWLEDGED = 40060  # Discord redelivered an interaction another handler already answered


def acknowledgement(receipt: GiftReceipt) -> discord.Embed:
    gift = receipt.gift
    embed = discord.Embed(
        title=f"{gift.emoji} {fmt.safe(gift.name)} x{receipt.count:,}",
        description=f"<@{receipt.sender_id}> sent a gift to <@{receipt.creator_id}>",
        colour=theme.GIFT,
        timestamp=receipt.created_at,
    )
    embed.set_footer(text=f"🪙 {receipt.coins:,} coins · 💎 {receipt.diamonds:,} diamonds to the creator")
    return embed


async def close_confirmation(click: discord.Interaction, embed: discord.Embed) -> None:
    """Replace the confirmation with its outcome. A redelivered click finds it already answered."""
    try:
        await click.response.edit_message(embed=embed, view=None, allowed_mentions=NO_PINGS)
    except discord.HTTPException as exc:
        if exc.code != ALREADY_ACKNOWLEDGED:
            raise


def confirmation(quote: GiftQuote, creator: Party) -> discord.Embed:
    gift = quote.gift
    return discord.Embed(
        title="Send this gift?",
        description=(
            f"{gift.emoji} **{fmt.safe(gift.name)}** x{quote.count:,} to **{fmt.safe(creator.name)}**\n"
            f"This spends {fmt.coins(quote.coins)}."
        ),
        colour=theme.WARNING,
    )


class Gifting(commands.Cog):
    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot

    @app_commands.command(name="gift", description="Send a gift to a creator; it costs coins.")
    @app_commands.describe(
        creator="The creator who receives the gift",
        gift="Which gift (start typing to search the catalogue)",
        count="How many to send at once (a combo)",
    )
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def gift(
        self,
        interaction: discord.Interaction,
        creator: discord.Member,
        gift: str,
        count: app_commands.Range[int, 1, MAX_COUNT] = 1,
    ) -> None:
        """Send a gift to a creator; it costs coins."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        sender, recipient = party(interaction.user), party(creator)
        quote = await self.bot.economy.quote(guild_id, sender, recipient, gift, count)
        key = idempotency_key(interaction)
        if not quote.needs_confirmation:
            receipt = await self._send(interaction, sender, recipient, quote.gift, count, key)
            if receipt is not None:
                await interaction.response.send_message(
                    embed=acknowledgement(receipt), allowed_mentions=NO_PINGS
                )
            return

        async def confirmed(click: discord.Interaction) -> None:
            try:
                receipt = await self._send(click, sender, recipient, quote.gift, count, key)
            except EconomyError as refusal:
                # Handled here, not in the view's on_error: the buttons are spent either way,
                # so the refusal replaces the confirmation (which only the sender sees).
                await close_confirmation(
                    click, discord.Embed(description=refusal.user_message, colour=theme.ERROR)
                )
                return
            await close_confirmation(click, discord.Embed(description="Sent! 🎉", colour=theme.SUCCESS))
            if receipt is not None:
                await click.followup.send(embed=acknowledgement(receipt), allowed_mentions=NO_PINGS)

        view = ConfirmView(interaction.user.id, confirmed)
        view.interaction = interaction
        try:
            await interaction.response.send_message(
                embed=confirmation(quote, recipient), view=view, ephemeral=True, allowed_mentions=NO_PINGS
            )
        except discord.HTTPException as exc:
            # A redelivered /gift: the first delivery already owns the confirmation.
            if exc.code != ALREADY_ACKNOWLEDGED:
                raise

    async def _send(
        self,
        interaction: discord.Interaction,
        sender: Party,
        creator: Party,
        gift: GiftItem,
        count: int,
        key: str,
    ) -> GiftReceipt | None:
        """Move the coins; None when this key was already handled (nothing to acknowledge twice)."""
        assert interaction.guild_id is not None
        receipt = await self.bot.economy.send_gift(
            interaction.guild_id, sender, creator, gift, count, key=key, channel_id=interaction.channel_id
        )
        if receipt.replayed:
            log.info("gift %s already recorded as entry %s; not acknowledging again", key, receipt.entry_id)
            return None
        return receipt

    @gift.autocomplete("gift")
    async def gift_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        gifts = await self.bot.economy.search_gifts(interaction.guild_id, current, limit=25)
        return [
            app_commands.Choice(name=f"{g.emoji} {g.name} · {g.price:,} coins"[:100], value=g.name)
            for g in gifts
        ]

    @app_commands.command(name="gifts", description="Browse the gift catalogue and prices.")
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def gifts(self, interaction: discord.Interaction) -> None:
        """Browse the gift catalogue and prices."""
        assert interaction.guild_id is not None
        config = await self.bot.economy.config(interaction.guild_id)
        moderator = is_moderator(interaction.user, config)
        items = await self.bot.economy.catalogue(interaction.guild_id, include_disabled=moderator)
        page_count = max(1, -(-len(items) // PER_PAGE))

        async def render(page: int) -> tuple[discord.Embed, int]:
            chunk = items[page * PER_PAGE : (page + 1) * PER_PAGE]
            lines = [
                f"{g.emoji} **{fmt.safe(g.name)}** · {fmt.coins(g.price)}"
                + ("" if g.enabled else " · *disabled*")
                for g in chunk
            ]
            embed = discord.Embed(
                title="Gift catalogue", description="\n".join(lines) or "No gifts yet.", colour=theme.INFO
            )
            embed.set_footer(text=f"Page {page + 1} of {page_count} · send one with /gift")
            return embed, page_count

        await send_paged(interaction, render, ephemeral=True)


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(Gifting(bot))

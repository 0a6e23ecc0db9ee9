"""/gift and /gifts: spend coins on gifts for creators, acknowledged in public.

Repeats of a comboable gift grow one combo message ("Rose x15", see bot/acks.py), and its
"Send again" button sends one more.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.acks import Ack, AckRoom, Recorded
from bot.age_gate import require_age_confirmation
from bot.app import GiftBot
from bot.economy.combos import ComboKey
from bot.economy.errors import EconomyError, GiftDisabled
from bot.economy.models import GiftItem, GiftReceipt
from bot.economy.service import GiftQuote, Party
from bot.gift_cooldown import gift_cooldown
from bot.interactions import idempotency_key, party
from bot.permissions import is_moderator, require_guild
from bot.reminders import budget_warning
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.errors import send_error
from bot.ui.mentions import NO_PINGS
from bot.ui.views import ConfirmView, send_paged

log = logging.getLogger(__name__)

PER_PAGE = 12
MAX_COUNT = 9_999
ALREADY_ACKNOWLEDGED = 40060  # Discord redelivered an interaction another handler already answered


async def close_confirmation(click: discord.Interaction, embed: discord.Embed) -> None:
    """Replace the confirmation with its outcome. A redelivered click finds it already answered.
    If Discord refuses the reply (429, 5xx, or 10062 once the click expired), the outcome is
    recorded all the same and a sent gift is still acknowledged in public: only this private
    note is lost, and an apology would only invite the member to send the gift again."""
    try:
        await click.response.edit_message(embed=embed, view=None, allowed_mentions=NO_PINGS)
    except discord.HTTPException as exc:
        if exc.code != ALREADY_ACKNOWLEDGED:
            log.warning("could not close the gift confirmation of interaction %s: %s", click.id, exc)


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


async def warn_privately(interaction: discord.Interaction, receipt: GiftReceipt) -> None:
    """A soft budget was passed: the gift went through, and only the sender is told."""
    warning = budget_warning(receipt)
    if warning is not None:
        await quietly(interaction.followup.send(warning, ephemeral=True, allowed_mentions=NO_PINGS))


async def quietly(reply: Awaitable[object]) -> None:
    """A private note about a gift already counted. If it can't be delivered, saying "try
    again" would only make the member send the gift twice: the combo message shows it anyway."""
    try:
        await reply
    except discord.HTTPException as exc:
        if exc.code != ALREADY_ACKNOWLEDGED:
            log.warning("could not tell the sender their gift joined a combo: %s", exc)


def joined(recorded: Recorded) -> str:
    """What the sender alone is told when a gift grows an open combo instead of a new message."""
    gift = recorded.ack.gift
    return f"{gift.emoji} {fmt.safe(gift.name)} added to your combo — x{recorded.count:,} so far."


class SendAgain(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"gift:again:(?P<sender>[0-9]{1,20}):(?P<creator>[0-9]{1,20}):(?P<gift>[0-9]{1,20})",
):
    """A combo's "Send again" button. Everything it needs is in its custom id, so it keeps
    working for as long as the message shows it (a restart included)."""

    def __init__(self, sender_id: int, creator_id: int, gift_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Send again",
                emoji="🔁",
                style=discord.ButtonStyle.primary,
                custom_id=f"gift:again:{sender_id}:{creator_id}:{gift_id}",
            )
        )
        self.sender_id = sender_id
        self.creator_id = creator_id
        self.gift_id = gift_id

    @classmethod
    def for_ack(cls, ack: Ack) -> SendAgain:
        return cls(ack.sender.id, ack.creator.id, ack.gift.id)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SendAgain:
        return cls(int(match["sender"]), int(match["creator"]), int(match["gift"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("Gifting")  # type: ignore[attr-defined]
        if isinstance(cog, Gifting):
            await cog.send_again(interaction, self)


class Gifting(commands.Cog):
    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot
        self.acks = AckRoom(
            bot,
            now=bot.now,
            templates=bot.economy.thanks_template,
            again=SendAgain.for_ack,
            writes=bot.channel_writes,
        )

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(SendAgain)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(SendAgain)
        self.acks.stop()

    @app_commands.command(name="gift", description="Send a gift to a creator; it costs coins.")
    @app_commands.describe(
        creator="The creator who receives the gift",
        gift="Which gift (start typing to search the catalogue)",
        count="How many to send at once (a combo)",
    )
    @app_commands.guild_only()
    @app_commands.check(gift_cooldown)  # runs after require_guild (checks run bottom-up)
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
        if not await self._of_age(interaction):
            return
        sender, recipient = party(interaction.user), party(creator)
        quote = await self.bot.economy.quote(guild_id, sender, recipient, gift, count)
        key = idempotency_key(interaction)
        if not quote.needs_confirmation:
            receipt = await self._send(interaction, sender, recipient, quote.gift, count, key)
            if receipt is None:
                return
            recorded = await self._record(interaction, receipt, sender, recipient)
            if recorded.started:
                await self._publish(interaction, recorded)
            else:
                await quietly(
                    interaction.response.send_message(
                        joined(recorded), ephemeral=True, allowed_mentions=NO_PINGS
                    )
                )
            await warn_privately(interaction, receipt)
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
            recorded = None if receipt is None else await self._record(click, receipt, sender, recipient)
            outcome = "Sent! 🎉"
            if recorded is not None and not recorded.started:
                outcome += " " + joined(recorded)
            try:
                await close_confirmation(click, discord.Embed(description=outcome, colour=theme.SUCCESS))
            finally:  # the gift is sent either way, so it is acknowledged either way
                if recorded is not None and recorded.started:
                    await self._publish(click, recorded, followup=True)
            if receipt is not None:
                await warn_privately(click, receipt)

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

    async def send_again(self, tap: discord.Interaction, button: SendAgain) -> None:
        """One more of the same gift. Refusals (and bugs) reach only the tapper."""
        try:
            await self._send_again(tap, button)
        except Exception as error:
            await send_error(tap, error)

    async def _send_again(self, tap: discord.Interaction, button: SendAgain) -> None:
        if tap.user.id != button.sender_id:
            await tap.response.send_message(
                "Only the member who sent this gift can send it again. Send your own with /gift.",
                ephemeral=True,
                allowed_mentions=NO_PINGS,
            )
            return
        assert tap.guild_id is not None and tap.channel_id is not None
        guild_id = tap.guild_id
        if not await self._of_age(tap):
            return
        gift = await self._gift_by_id(guild_id, button.gift_id)
        config = await self.bot.economy.config(guild_id)
        if gift.price >= config.confirm_threshold:
            raise EconomyError(
                f"{fmt.safe(gift.name)} costs enough to need a confirmation; send it with /gift instead."
            )
        key = ComboKey(guild_id, tap.channel_id, button.sender_id, button.creator_id, gift.id)
        creator = self.acks.open_creator(key) or await self._member(tap, button.creator_id)
        sender = party(tap.user)
        receipt = await self._send(tap, sender, creator, gift, 1, idempotency_key(tap))
        if receipt is None:
            return
        recorded = await self._record(tap, receipt, sender, creator)
        if recorded.started:  # the combo had closed: this tap starts a new one, in public
            await self._publish(tap, recorded)
        else:
            await quietly(tap.response.defer())  # the combo message shows the new count soon
        await warn_privately(tap, receipt)

    async def _of_age(self, interaction: discord.Interaction) -> bool:
        """The age gate, which a server that sells coins or allows cash-outs always has."""
        assert interaction.guild_id is not None
        gate = await self.bot.coin_store.age_gate(interaction.guild_id)
        return await require_age_confirmation(
            interaction, self.bot, sells_coins=gate.sells_coins, allows_cashouts=gate.allows_cashouts
        )

    async def _gift_by_id(self, guild_id: int, gift_id: int) -> GiftItem:
        items = await self.bot.economy.catalogue(guild_id, include_disabled=True)
        gift = next((g for g in items if g.id == gift_id), None)
        if gift is None:
            raise EconomyError("That gift is no longer in the catalogue. Use /gifts to see what there is.")
        if not gift.enabled:
            raise GiftDisabled(gift.name)
        return gift

    async def _member(self, interaction: discord.Interaction, user_id: int) -> Party:
        guild = interaction.guild
        if guild is None:
            raise EconomyError("giftbot works inside a server, not in direct messages.")
        member = guild.get_member(user_id)
        if member is None:
            try:
                member = await guild.fetch_member(user_id)
            except discord.NotFound as exc:
                raise EconomyError("That creator is no longer in this server.") from exc
        return party(member)

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

    async def _record(
        self, interaction: discord.Interaction, receipt: GiftReceipt, sender: Party, creator: Party
    ) -> Recorded:
        assert interaction.guild_id is not None and interaction.channel_id is not None
        config = await self.bot.economy.config(interaction.guild_id)
        return await self.acks.record(
            receipt,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            sender=sender,
            creator=creator,
            config=config,
        )

    async def _publish(
        self, interaction: discord.Interaction, recorded: Recorded, *, followup: bool = False
    ) -> None:
        """The acknowledgement goes out as the interaction's own public reply. If Discord refuses
        it, the gift is still sent: the acknowledgement is posted in the channel instead."""
        ack = recorded.ack
        shown = self.acks.render(ack)
        kwargs: dict[str, Any] = {"embed": shown.embed, "allowed_mentions": NO_PINGS}
        if shown.view is not None:
            kwargs["view"] = shown.view
        try:
            if followup:
                message_id = (await interaction.followup.send(wait=True, **kwargs)).id
            else:
                response = await interaction.response.send_message(**kwargs)
                message_id = response.message_id or (await interaction.original_response()).id
        except discord.HTTPException as exc:
            log.warning(
                "could not acknowledge gift in interaction %s (%s); posting it in the channel",
                interaction.id,
                exc,
            )
            self.acks.lost(ack)
            return
        except BaseException:
            self.acks.lost(ack)
            raise
        self.acks.posted(ack, message_id, shown)

    @gift.autocomplete("gift")
    async def gift_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        gifts = await self.bot.economy.search_gifts(interaction.guild_id, current, limit=25)
        return [
            app_commands.Choice(
                name=f"{g.emoji} {g.name} · {fmt.plural(g.price, 'coin')}"[:100], value=g.name
            )
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

"""/mod: promo coins, creators and the gift catalogue, for moderators only.

Discord's default_permissions only hides the group and a server admin can open it to anyone,
so every subcommand also runs `require_moderator`. Replies are private.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import GiftBot
from bot.economy.catalogue import name_key
from bot.economy.errors import InvalidSetting
from bot.economy.models import Creator, GiftItem, Receipt
from bot.interactions import idempotency_key, party
from bot.permissions import is_moderator, require_moderator
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS
from bot.ui.views import send_paged

log = logging.getLogger(__name__)

CREATORS_PER_PAGE = 15
AUTOCOMPLETE_LIMIT = 25


def name_of(member: discord.Member | discord.User) -> str:
    return f"**{fmt.safe(fmt.display_name(member))}**"


def gift_line(gift: GiftItem) -> str:
    state = "" if gift.enabled else " · *disabled*"
    combo = " · combo" if gift.comboable else ""
    return f"{gift.emoji} **{fmt.safe(gift.name)}** · {fmt.coins(gift.price)}{combo}{state}"


def done(description: str, *, title: str | None = None) -> discord.Embed:
    return discord.Embed(title=title, description=description, colour=theme.SUCCESS)


async def reply(interaction: discord.Interaction, embed: discord.Embed) -> None:
    await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)


def replayed(receipt: Receipt, interaction: discord.Interaction) -> bool:
    """A redelivered interaction already moved the money and was answered; stay quiet."""
    if receipt.replayed:
        log.info(
            "interaction %s already recorded as entry %s; not replying twice",
            interaction.id,
            receipt.entry_id,
        )
    return receipt.replayed


class Moderation(commands.Cog):
    mod = app_commands.Group(
        name="mod",
        description="Moderator tools: promo coins, creators and the gift catalogue.",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    creator = app_commands.Group(name="creator", description="Who may receive gifts.", parent=mod)
    catalogue = app_commands.Group(name="catalogue", description="The gifts members can send.", parent=mod)

    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot

    # -- coins ---------------------------------------------------------------------------

    @mod.command(name="grant", description="Give a member promo coins; recorded in the ledger.")
    @app_commands.describe(
        member="Who receives the coins", coins="How many coins", reason="Why (kept in the ledger)"
    )
    @app_commands.check(require_moderator)
    async def grant(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        coins: app_commands.Range[int, 1, None],
        reason: app_commands.Range[str, 1, 200],
    ) -> None:
        """Give a member promo coins; recorded in the ledger."""

        def says(receipt: Receipt) -> str:
            return f"Granted {fmt.coins(receipt.amount)} to {name_of(member)}."

        await self._promo(interaction, self.bot.economy.grant, member, coins, reason, says)

    @mod.command(name="revoke", description="Take promo coins back from a member (never below zero).")
    @app_commands.describe(
        member="Whose coins to take back",
        coins="How many coins (at most their balance is taken)",
        reason="Why (kept in the ledger)",
    )
    @app_commands.check(require_moderator)
    async def revoke(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        coins: app_commands.Range[int, 1, None],
        reason: app_commands.Range[str, 1, 200],
    ) -> None:
        """Take promo coins back from a member (never below zero)."""

        def says(receipt: Receipt) -> str:
            text = f"Revoked {fmt.coins(receipt.amount)} from {name_of(member)}."
            if receipt.amount < coins:
                text += f"\nYou asked for {fmt.number(coins)}, but that was their whole balance."
            return text

        await self._promo(interaction, self.bot.economy.revoke, member, coins, reason, says)

    async def _promo(
        self,
        interaction: discord.Interaction,
        move: Callable[..., Awaitable[Receipt]],
        member: discord.Member,
        coins: int,
        reason: str,
        says: Callable[[Receipt], str],
    ) -> None:
        """Grant or revoke under the interaction's key; a redelivery is not answered twice."""
        assert interaction.guild_id is not None
        receipt = await move(
            interaction.guild_id,
            party(member),
            coins,
            actor=party(interaction.user),
            reason=reason,
            key=idempotency_key(interaction),
        )
        if replayed(receipt, interaction):
            return
        embed = done(f"{says(receipt)}\nNew balance: {fmt.coins(receipt.balance)}.")
        embed.add_field(name="Reason", value=fmt.safe(reason, 200), inline=False)
        await reply(interaction, embed)

    # -- creators ------------------------------------------------------------------------

    @creator.command(name="add", description="Let a member receive gifts as a creator.")
    @app_commands.describe(member="The new creator")
    @app_commands.check(require_moderator)
    async def creator_add(self, interaction: discord.Interaction, member: discord.Member) -> None:
        """Let a member receive gifts as a creator."""
        assert interaction.guild_id is not None
        await self.bot.economy.add_creator(interaction.guild_id, party(member), actor=party(interaction.user))
        await reply(interaction, done(f"{name_of(member)} is now a creator and can receive gifts."))

    @creator.command(name="remove", description="Stop a member receiving gifts; they keep their diamonds.")
    @app_commands.describe(member="The creator to remove")
    @app_commands.check(require_moderator)
    async def creator_remove(self, interaction: discord.Interaction, member: discord.Member) -> None:
        """Stop a member receiving gifts; they keep their diamonds."""
        assert interaction.guild_id is not None
        await self.bot.economy.remove_creator(interaction.guild_id, party(member))
        await reply(
            interaction,
            done(f"{name_of(member)} is no longer a creator. Their diamonds stay theirs."),
        )

    @creator.command(name="list", description="Everyone who can receive gifts here.")
    @app_commands.check(require_moderator)
    async def creator_list(self, interaction: discord.Interaction) -> None:
        """Everyone who can receive gifts here."""
        assert interaction.guild_id is not None
        creators = await self.bot.economy.creators(interaction.guild_id)
        page_count = max(1, -(-len(creators) // CREATORS_PER_PAGE))

        def line(creator: Creator) -> str:
            added = f"added by {fmt.person(creator.added_by)} {fmt.when(creator.added_at)}"
            return f"<@{creator.user_id}> · {added}"

        async def render(page: int) -> tuple[discord.Embed, int]:
            chunk = creators[page * CREATORS_PER_PAGE : (page + 1) * CREATORS_PER_PAGE]
            embed = discord.Embed(
                title="Creators",
                description="\n".join(line(c) for c in chunk)
                or "No creators yet. Add one with /mod creator add.",
                colour=theme.INFO,
            )
            embed.set_footer(text=f"Page {page + 1} of {page_count} · {len(creators):,} creators")
            return embed, page_count

        await send_paged(interaction, render, ephemeral=True)

    # -- catalogue -----------------------------------------------------------------------

    @catalogue.command(name="add", description="Add a gift to this server's catalogue.")
    @app_commands.describe(
        name="The gift's name",
        emoji="One emoji for it, such as 🌹 or a server emoji",
        price="What one costs, in coins",
        comboable="Whether members can send many at once as a combo",
    )
    @app_commands.check(require_moderator)
    async def catalogue_add(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 100],
        emoji: app_commands.Range[str, 1, 64],
        price: app_commands.Range[int, 1, None],
        comboable: bool = False,
    ) -> None:
        """Add a gift to this server's catalogue."""
        assert interaction.guild_id is not None
        gift = await self.bot.economy.add_gift(
            interaction.guild_id, name=name, emoji=emoji, price=price, comboable=comboable
        )
        await reply(interaction, done(f"Added {gift_line(gift)} to the catalogue."))

    @catalogue.command(name="edit", description="Rename a gift or change its emoji or price.")
    @app_commands.describe(
        name="The gift to change", new_name="A new name", emoji="A new emoji", price="A new price in coins"
    )
    @app_commands.check(require_moderator)
    async def catalogue_edit(
        self,
        interaction: discord.Interaction,
        name: str,
        new_name: app_commands.Range[str, 1, 100] | None = None,
        emoji: app_commands.Range[str, 1, 64] | None = None,
        price: app_commands.Range[int, 1, None] | None = None,
    ) -> None:
        """Rename a gift or change its emoji or price."""
        assert interaction.guild_id is not None
        if new_name is None and emoji is None and price is None:
            raise InvalidSetting("Say what to change: a new name, an emoji or a price.")
        before, after = await self.bot.economy.edit_gift(
            interaction.guild_id, name, new_name=new_name, emoji=emoji, price=price
        )
        embed = done(f"Updated {gift_line(after)}.")
        embed.add_field(name="Before", value=gift_line(before), inline=False)
        embed.set_footer(text="Gifts already sent keep the name and price they had.")
        await reply(interaction, embed)

    @catalogue.command(name="disable", description="Stop members sending a gift, without deleting it.")
    @app_commands.describe(name="The gift to disable")
    @app_commands.check(require_moderator)
    async def catalogue_disable(self, interaction: discord.Interaction, name: str) -> None:
        """Stop members sending a gift, without deleting it."""
        await self._set_enabled(interaction, name, enabled=False)

    @catalogue.command(name="enable", description="Let members send a disabled gift again.")
    @app_commands.describe(name="The gift to enable")
    @app_commands.check(require_moderator)
    async def catalogue_enable(self, interaction: discord.Interaction, name: str) -> None:
        """Let members send a disabled gift again."""
        await self._set_enabled(interaction, name, enabled=True)

    async def _set_enabled(self, interaction: discord.Interaction, name: str, *, enabled: bool) -> None:
        assert interaction.guild_id is not None
        before, after = await self.bot.economy.edit_gift(interaction.guild_id, name, enabled=enabled)
        word = "enabled" if enabled else "disabled"
        if before.enabled == enabled:
            text = f"{gift_line(after)} was already {word}."
        elif enabled:
            text = f"Enabled {gift_line(after)}: members can send it again."
        else:
            text = f"Disabled {gift_line(after)}: members can't send it until you enable it."
        await reply(interaction, done(text))

    # -- autocomplete --------------------------------------------------------------------

    async def _gift_choices(
        self, interaction: discord.Interaction, current: str, *, enabled: bool | None
    ) -> list[app_commands.Choice[str]]:
        """Every gift, disabled ones included, matching what was typed; moderators only."""
        if interaction.guild_id is None:
            return []
        config = await self.bot.economy.config(interaction.guild_id)
        if not is_moderator(interaction.user, config):
            return []
        gifts = await self.bot.economy.catalogue(interaction.guild_id, include_disabled=True)
        typed = name_key(current)
        matches = [
            g for g in gifts if typed in name_key(g.name) and (enabled is None or g.enabled == enabled)
        ]
        matches.sort(key=lambda g: not name_key(g.name).startswith(typed))
        return [
            app_commands.Choice(
                name=f"{g.emoji} {g.name} · {g.price:,} coins{'' if g.enabled else ' · disabled'}"[:100],
                value=g.name,
            )
            for g in matches[:AUTOCOMPLETE_LIMIT]
        ]

    @catalogue_edit.autocomplete("name")
    async def edit_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._gift_choices(interaction, current, enabled=None)

    @catalogue_disable.autocomplete("name")
    async def disable_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._gift_choices(interaction, current, enabled=True)

    @catalogue_enable.autocomplete("name")
    async def enable_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._gift_choices(interaction, current, enabled=False)


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(Moderation(bot))

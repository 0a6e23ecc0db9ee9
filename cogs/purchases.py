"""Where purchases come in: ENTITLEMENT_CREATE and _DELETE, entitlements riding on interactions,
and the start-up reconciliation. The work is in bot/purchases.py.

Entitlements riding on a slash command are credited before the command runs (a wrapper around
the command tree's interaction check), so `/balance` or `/store claim` already sees the coins.
Those on buttons and modals are credited alongside.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import GiftBot
from bot.purchases import PurchaseDesk

log = logging.getLogger("giftbot.purchases")

ALONGSIDE = (discord.InteractionType.component, discord.InteractionType.modal_submit)


class Purchases(commands.Cog):
    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot
        self.desk = PurchaseDesk(bot)
        self._reconciled = False
        self._previous_check: Callable[[discord.Interaction[GiftBot]], Awaitable[bool]] = (
            bot.tree.interaction_check
        )

    async def cog_load(self) -> None:
        self.bot.tree.interaction_check = self._interaction_check  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.interaction_check = self._previous_check  # type: ignore[method-assign, assignment]

    async def _interaction_check(self, interaction: discord.Interaction[GiftBot]) -> bool:
        if interaction.entitlements:
            await self.desk.ride(interaction)
        return await self._previous_check(interaction)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type in ALONGSIDE and interaction.entitlements:
            await self.desk.ride(interaction)

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: app_commands.Command | app_commands.ContextMenu
    ) -> None:
        try:
            await self.desk.deliver_held(interaction)
        except Exception:
            log.exception("held receipts after interaction %s failed", interaction.id)

    @commands.Cog.listener()
    async def on_entitlement_create(self, entitlement: discord.Entitlement) -> None:
        try:
            await self.desk.take(entitlement)
        except Exception:
            # Unconsumed, so it rides on the member's next interaction and is reconciled at start-up.
            log.exception("could not credit entitlement %s", entitlement.id)

    @commands.Cog.listener()
    async def on_entitlement_delete(self, entitlement: discord.Entitlement) -> None:
        try:
            await self.desk.refund(entitlement)
        except Exception:
            log.exception("could not refund entitlement %s; it is retried at start-up", entitlement.id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        if self._reconciled:  # a reconnect, not a start
            return
        self._reconciled = True
        await self.desk.reconcile()


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(Purchases(bot))

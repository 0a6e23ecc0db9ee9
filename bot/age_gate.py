"""The age gate: where it is on, a member confirms once, with a button, that they are 18 or older
before their first gift or purchase. The confirmation is stored with its time.

The button is a dynamic item: its custom id names the member, so it keeps working after a
restart, and a click by anyone else records nothing.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.interactions import party
from bot.ui import theme
from bot.ui.errors import send_error
from bot.ui.mentions import NO_PINGS

if TYPE_CHECKING:
    from bot.app import GiftBot

log = logging.getLogger("giftbot.age_gate")

BUTTON_LABEL = "I am 18 or older"


def gate_embed(reason: str) -> discord.Embed:
    return discord.Embed(
        title="Please confirm your age",
        description=(
            "Before your first gift or purchase here, please confirm that you are 18 or older: "
            f"we ask because {reason}. You only need to do this once in this server."
        ),
        colour=theme.WARNING,
    )


class ConfirmAge(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"age:confirm:(?P<user>[0-9]{1,20})",
):
    def __init__(self, user_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=BUTTON_LABEL,
                emoji="✅",
                style=discord.ButtonStyle.success,
                custom_id=f"age:confirm:{user_id}",
            )
        )
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ConfirmAge:
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        # Refusals are answered here: a view callback's errors never reach tree.on_error.
        try:
            await self._confirm(interaction)
        except Exception as error:
            await send_error(interaction, error)

    async def _confirm(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id or interaction.guild_id is None:
            await interaction.response.send_message(
                "This confirmation belongs to someone else.", ephemeral=True, allowed_mentions=NO_PINGS
            )
            return
        bot: GiftBot = interaction.client  # type: ignore[assignment]
        await bot.budgets.confirm_age(interaction.guild_id, party(interaction.user))
        embed = discord.Embed(
            title="Thanks, you're confirmed",
            description="You confirmed that you are 18 or older. Run your command again to continue.",
            colour=theme.SUCCESS,
        )
        await interaction.response.edit_message(embed=embed, view=None, allowed_mentions=NO_PINGS)


async def require_age_confirmation(
    interaction: discord.Interaction,
    bot: GiftBot,
    *,
    sells_coins: bool = False,
    allows_cashouts: bool = False,
) -> bool:
    """True if the member may go on. Otherwise the interaction has been answered, privately, with
    the confirmation button (whose click records it and asks them to run their command again).
    A server that sells coins or allows cash-outs needs the confirmation whatever its setting."""
    guild_id = interaction.guild_id
    if guild_id is None:
        return True
    service = bot.budgets
    why = {"sells_coins": sells_coins, "allows_cashouts": allows_cashouts}
    if not await service.needs_age_confirmation(guild_id, interaction.user.id, **why):
        return True
    config = await bot.economy.config(guild_id)
    reason = config.age_gate_reason(**why) or "a manager turned it on"
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmAge(interaction.user.id))
    if interaction.response.is_done():
        await interaction.followup.send(
            embed=gate_embed(reason), view=view, ephemeral=True, allowed_mentions=NO_PINGS
        )
    else:
        await interaction.response.send_message(
            embed=gate_embed(reason), view=view, ephemeral=True, allowed_mentions=NO_PINGS
        )
    return False

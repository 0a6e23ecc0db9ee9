"""Views every cog reuses: paging buttons and a confirmation for large spends."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from . import theme
from .errors import send_error
from .mentions import NO_PINGS

PageRenderer = Callable[[int], Awaitable[tuple[discord.Embed, int]]]


class OwnedView(discord.ui.View):
    """A view only its owner may press; errors go to the same handler as commands."""

    def __init__(self, owner_id: int, *, timeout: float = 180) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.interaction: discord.Interaction | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "These buttons belong to someone else; run the command yourself.",
                ephemeral=True,
                allowed_mentions=NO_PINGS,
            )
            return False
        return True

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: Any) -> None:
        await send_error(interaction, error)

    async def _retire(self, **changes: Any) -> None:
        """Disable the buttons on the original message, ignoring an expired token."""
        self.stop()
        for child in self.children:
            if isinstance(child, discord.ui.Button):
                child.disabled = True
        if self.interaction is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.interaction.edit_original_response(view=self, allowed_mentions=NO_PINGS, **changes)


class Paginator(OwnedView):
    """◀ / ▶ through pages rendered on demand."""

    def __init__(self, owner_id: int, render: PageRenderer, *, page_count: int, page: int = 0) -> None:
        super().__init__(owner_id)
        self.render = render
        self.page = page
        self.page_count = page_count
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.page_count - 1

    @discord.ui.button(label="◀ Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button[Paginator]) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[Paginator]) -> None:
        await self._show(interaction, self.page + 1)

    async def _show(self, interaction: discord.Interaction, page: int) -> None:
        self.page = max(0, min(page, self.page_count - 1))
        embed, self.page_count = await self.render(self.page)
        self._sync()
        await interaction.response.edit_message(embed=embed, view=self, allowed_mentions=NO_PINGS)

    async def on_timeout(self) -> None:
        await self._retire()


async def send_paged(
    interaction: discord.Interaction, render: PageRenderer, *, ephemeral: bool, followup: bool = False
) -> None:
    """Send page 1, with buttons only when there is more than one page."""
    embed, page_count = await render(0)
    view: Paginator | None = None
    if page_count > 1:
        view = Paginator(interaction.user.id, render, page_count=page_count)
        view.interaction = interaction
    kwargs: dict[str, Any] = {"embed": embed, "ephemeral": ephemeral, "allowed_mentions": NO_PINGS}
    if view is not None:
        kwargs["view"] = view
    if followup or interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


class ConfirmView(OwnedView):
    """Confirm or cancel a spend. The action keys on the original command, not on the click."""

    def __init__(
        self,
        owner_id: int,
        on_confirm: Callable[[discord.Interaction], Awaitable[None]],
        *,
        timeout: float = 60,
    ) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.on_confirm = on_confirm

    @discord.ui.button(label="Send it", style=discord.ButtonStyle.success, emoji="🎁")
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmView]) -> None:
        self.stop()
        await self.on_confirm(interaction)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmView]) -> None:
        self.stop()
        embed = discord.Embed(description="Cancelled. No coins were spent.", colour=theme.INFO)
        await interaction.response.edit_message(embed=embed, view=None, allowed_mentions=NO_PINGS)

    async def on_timeout(self) -> None:
        embed = discord.Embed(
            description="This confirmation expired. No coins were spent.", colour=theme.INFO
        )
        await self._retire(embed=embed)

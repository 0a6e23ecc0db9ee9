"""Pages with an "Export CSV" button (/history, /mod audit), and sending an export privately."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.economy.exports import Export

from .mentions import NO_PINGS
from .views import PageRenderer, Paginator

EXPORT_LABEL = "Export CSV"
Exporter = Callable[[discord.Interaction], Awaitable[None]]


class ExportPages(Paginator):
    """◀ / ▶ through pages (only when there is more than one) and an export of the whole list."""

    def __init__(self, owner_id: int, render: PageRenderer, *, page_count: int, export: Exporter) -> None:
        super().__init__(owner_id, render, page_count=page_count)
        self.exporter = export
        if page_count <= 1:
            self.remove_item(self.previous)
            self.remove_item(self.next)

    @discord.ui.button(label=EXPORT_LABEL, style=discord.ButtonStyle.primary, emoji="📄")
    async def export(self, interaction: discord.Interaction, _: discord.ui.Button[ExportPages]) -> None:
        await self.exporter(interaction)


async def send_pages_with_export(
    interaction: discord.Interaction, render: PageRenderer, export: Exporter, *, ephemeral: bool = True
) -> None:
    """Send page 1 with the export button (and paging buttons when there are more pages)."""
    embed, page_count = await render(0)
    view = ExportPages(interaction.user.id, render, page_count=page_count, export=export)
    view.interaction = interaction
    kwargs: dict[str, Any] = {
        "embed": embed,
        "view": view,
        "ephemeral": ephemeral,
        "allowed_mentions": NO_PINGS,
    }
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


def export_note(export: Export, what: str) -> str:
    """The sentence sent with the file; it says so plainly when the export had to stop early."""
    rows = f"{export.rows:,} row{'' if export.rows == 1 else 's'}"
    if not export.cut:
        return f"📄 {what}: {rows}, newest first. Times are UTC."
    return (
        f"📄 {what}: the newest {rows} only, newest first. That is as much as one file can hold, "
        "so older rows were left out. Times are UTC."
    )


async def send_export(
    interaction: discord.Interaction, make: Callable[[], Awaitable[Export]], *, what: str, filename: str
) -> None:
    """Build the export (it can take a moment) and send it privately as a CSV attachment."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    export = await make()
    file = discord.File(io.BytesIO(export.data), filename=filename)
    await interaction.followup.send(
        export_note(export, what), file=file, ephemeral=True, allowed_mentions=NO_PINGS
    )

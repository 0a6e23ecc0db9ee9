"""A plain giftbot process, without SimCord and without logging in: what `giftbot run` does up
to the point it would connect (migrations, cogs), for the start-up and memory figures."""

from __future__ import annotations

from pathlib import Path

from bot.app import GiftBot, create_bot
from bot.settings import Settings

from .config import NOW
from .stats import TickingClock


async def ready_bot(db: Path) -> GiftBot:
    """The bot after its setup hook: storage open and migrated, every cog loaded, no network."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=None,
        database_path=db,
        sync_commands=False,  # syncing needs Discord; everything else in setup_hook runs
    )
    bot = create_bot(settings, now=TickingClock(NOW))
    await bot.__aenter__()  # what `async with bot` does before login: the client's own set-up
    await bot.setup_hook()
    return bot


async def shut(bot: GiftBot) -> None:
    """Close as `giftbot run` does on exit: cogs unloaded, then the database."""
    await bot.close()

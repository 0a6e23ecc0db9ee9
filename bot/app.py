"""Building the bot: `create_bot(settings)` wires storage, the economy service and the cogs."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.audit import AuditSender
from bot.channel_writes import ChannelWrites
from bot.economy.budget_service import BudgetService
from bot.economy.cashout_service import CashoutService
from bot.economy.clock import Now
from bot.economy.service import EconomyService
from bot.economy.store_service import StoreService
from bot.settings import Settings
from bot.ui.mentions import NO_PINGS
from storage import Storage

log = logging.getLogger("giftbot")

EXTENSIONS = (
    "cogs.errors",
    "cogs.wallet",
    "cogs.gifting",
    "cogs.leaderboard",
    "cogs.privacy",
    "cogs.creator",
    "cogs.budget",
    "cogs.moderation",
    "cogs.store",  # attaches /mod store and /mod promo: after cogs.moderation
    "cogs.purchases",
    "cogs.cashouts",  # attaches /creator cashout, /mod cashouts and /mod audit
    "cogs.config",
    "cogs.help",
)

# Scopes and the minimal permissions the bot needs: read the channel, send and embed, attach
# leaderboard cards, use external emoji from the catalogue, and read recent messages (an automatic
# announcement checks it was not already posted before a crash, so it is never posted twice).
INVITE_SCOPES = ("bot", "applications.commands")
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    use_external_emojis=True,
    read_message_history=True,
)


class GiftBot(commands.Bot):
    """The giftbot client. Slash commands only: no privileged intents, no message content."""

    def __init__(self, settings: Settings, *, now: Now) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels and roles for permission checks; not privileged
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NO_PINGS,
            help_command=None,
        )
        self.settings = settings
        self.now = now
        self.storage = Storage(
            settings.database_path,
            synchronous=settings.durability,
            writer_process=settings.writer_process,
        )
        self.economy = EconomyService(self.storage, now=now, default_share=settings.default_creator_share)
        self.budgets = BudgetService(self.storage, self.economy, now=now)
        self.coin_store = StoreService(self.storage, self.economy, now=now)
        self.channel_writes = ChannelWrites(now)
        self.cashouts = CashoutService(self.storage, self.economy, now=now)
        self.audit = AuditSender(self)  # posts to audit channels and cash-out DMs, from the outbox

    async def setup_hook(self) -> None:
        await self.storage.open()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.settings.sync_commands:
            await self.sync_commands()

    async def sync_commands(self) -> None:
        guild_id = self.settings.dev_guild_id
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to dev guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global commands (they may take a while to appear)", len(synced))

    async def on_ready(self) -> None:
        log.info("ready as %s in %d servers", self.user, len(self.guilds))

    async def close(self) -> None:
        # commands.Bot.close unloads the extensions first (their cog_unload stops the loops),
        # so no pass runs on the database closed after it.
        try:
            await super().close()
        finally:
            await self.storage.close()


def create_bot(settings: Settings, *, now: Now | None = None) -> GiftBot:
    """The bot, ready for `start()`. Needs no environment and no network until then."""
    return GiftBot(settings, now=now or discord.utils.utcnow)


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(client_id, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES)

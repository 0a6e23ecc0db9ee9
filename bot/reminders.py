"""Spending reminders by DM: budget thresholds, low balance and the weekly digest.

Each reminder is an outbox row decided once under a unique dedupe key: threshold and low-balance
reminders in the gift's own transaction (storage/money_ops.py), digests here, once per
member-local week. The sender claims an attempt, sends the DM and records it right after Discord
accepts. A DM leaves no channel history to check, so a crash between sending and recording sends
it at most once more; it is never lost.

When a member's DMs are closed (Discord 50007) the row is set aside, and it rides on their next
successful slash command in that server as a private note instead.

Passes run on a `discord.ext.tasks` loop from stored state: at start-up (catching up on what
came due while the bot was down), at each member's week boundary, when a retry falls due, and
every few seconds for a short while after members interact. A completed slash command also sends
what is due straight away, so a reminder follows the gift that caused it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from bot.economy.budget import ADJECTIVES, Mode
from bot.economy.clock import from_millis, to_millis
from bot.economy.errors import InvalidSetting
from bot.economy.models import GiftReceipt
from bot.economy.periods import Period, previous_window, window, zone
from bot.economy.retry import backoff
from bot.loop_timing import PassLoop
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS
from storage.outbox_ops import OutboxItem

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.app import GiftBot

log = logging.getLogger("giftbot.reminders")

THRESHOLD = "budget_threshold"
LOW_BALANCE = "low_balance"
DIGEST = "weekly_digest"
KINDS = (THRESHOLD, LOW_BALANCE, DIGEST)

DMS_CLOSED = 50007
HELD = "DMs closed: kept for the member's next command"
MAX_ATTEMPTS = 5  # then the reminder waits for the member's next command, like a closed DM
BATCH = 20
MAX_NOTES = 5  # reminders shown on one command reply; the rest ride on the next ones
TOP_CREATORS = 3
TICK = timedelta(minutes=1)
IDLE = timedelta(days=1)  # the longest a pass sleeps: interactions poke it awake (see poke)
ACTIVE_TICK = timedelta(seconds=10)  # after members interact, look this often …
ACTIVE_WINDOW = timedelta(minutes=2)  # … for this long (a confirmed gift owes its reminder then)


def budget_warning(receipt: GiftReceipt) -> str | None:
    """What the sender alone is told when a gift went past their soft limit (None otherwise)."""
    if not receipt.over_budget:
        return None
    return (
        "⚠️ This gift took you past your spending limit. It went through because your limit is "
        "soft; `/budget status` shows where you stand."
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return zone(name)
    except InvalidSetting:
        return zone("UTC")


def threshold_embed(payload: Mapping[str, Any], *, guild: str, tz: ZoneInfo, now: datetime) -> discord.Embed:
    threshold, spent, limit = (int(payload[k]) for k in ("threshold", "spent", "limit"))
    period, mode = Period(payload["period"]), Mode(payload["mode"])
    end = window(period, from_millis(int(payload["period_start"])), tz).end
    assert end is not None
    title = (
        f"You've reached your {ADJECTIVES[period]} budget"
        if threshold >= 100
        else f"{threshold}% of your {ADJECTIVES[period]} budget used"
    )
    lines = [f"In **{guild}** you've spent {fmt.coins(spent)} of your {fmt.coins(limit)} limit per {period}."]
    if end <= now:
        lines.append(f"That {period} has ended since, so your spending has started again from zero.")
    elif threshold >= 100 and mode is Mode.HARD:
        lines.append(
            f"Gifts that would go past it are refused until it resets {fmt.when(end, 'F')} ({fmt.when(end)})."
        )
    elif threshold >= 100:
        lines.append(
            f"Your limit is soft, so gifts still go through, with a warning. It resets {fmt.when(end, 'F')}."
        )
    else:
        lines.append(f"It resets {fmt.when(end, 'F')} ({fmt.when(end)}).")
    embed = discord.Embed(title=f"🔔 {title}", description="\n".join(lines), colour=theme.WARNING)
    embed.set_footer(text="Change your limit or these reminders with /budget in that server.")
    return embed


def low_balance_embed(payload: Mapping[str, Any], *, guild: str) -> discord.Embed:
    balance, below = int(payload["balance"]), int(payload["below"])
    embed = discord.Embed(
        title="🔔 Your coins are running low",
        description=(
            f"Your balance in **{guild}** is down to {fmt.coins(balance)}, below the "
            f"{fmt.coins(below)} you asked to hear about."
        ),
        colour=theme.WARNING,
    )
    embed.set_footer(text="/budget lowbalance off stops these reminders.")
    return embed


def digest_embed(
    gifted: list[tuple[int, str | None, int]], *, guild: str, start: datetime, end: datetime
) -> discord.Embed:
    total = sum(coins for _, _, coins in gifted)
    top = "\n".join(
        f"{index}. **{fmt.safe(name) if name else 'a creator'}** · {fmt.coins(coins)}"
        for index, (_, name, coins) in enumerate(gifted[:TOP_CREATORS], start=1)
    )
    last = end - timedelta(microseconds=1)
    embed = discord.Embed(
        title="📊 Your week of gifts",
        description=(
            f"From {fmt.when(start, 'D')} to {fmt.when(last, 'D')} you sent {fmt.coins(total)} in gifts "
            f"in **{guild}**, to {len(gifted):,} creator{'s' if len(gifted) != 1 else ''}."
        ),
        colour=theme.INFO,
    )
    embed.add_field(name="Top creators you gifted", value=top, inline=False)
    embed.set_footer(text="/budget digest off stops this weekly message.")
    return embed


class Reminders(PassLoop):
    """Decides digests and delivers every reminder kind, one pass at a time (see the module doc)."""

    name = "giftbot-reminders"
    tick = TICK
    log = log

    def __init__(self, bot: GiftBot) -> None:
        super().__init__(bot)
        self._lock = asyncio.Lock()
        self._active_until: datetime | None = None

    def poke(self) -> None:
        """A member interacted (maybe a confirmed gift owing a reminder): look again shortly."""
        now = self.bot.now()
        self._active_until = now + ACTIVE_WINDOW
        # The first pass, or the one under way, reads _active_until when it ends.
        self.wake_by(now + ACTIVE_TICK)

    async def run_pass(self) -> datetime:
        """Decide digests, send what is due; returns when the next pass is worth running."""
        members = await self.bot.storage.digest_members()
        await self.decide_digests(members)
        await self.send_due()
        return await self._next_wake(members)

    async def decide_digests(self, members: list[tuple[int, int, str]] | None = None) -> int:
        """Owe each opted-in member a digest of the member-local week that closed last."""
        now = self.bot.now()
        owed: dict[str, tuple[int, int, datetime, datetime]] = {}
        if members is None:
            members = await self.bot.storage.digest_members()
        for guild_id, user_id, timezone in members:
            if self.bot.get_guild(guild_id) is None:
                continue
            span = previous_window(Period.WEEK, now, _zone(timezone))
            assert span.start is not None and span.end is not None
            key = f"digest:{guild_id}:{user_id}:{to_millis(span.start)}"
            owed[key] = (guild_id, user_id, span.start, span.end)
        if not owed:
            return 0
        known = await self.bot.storage.known_outbox_keys(keys=list(owed))
        made = 0
        for key, (guild_id, user_id, start, end) in owed.items():
            if key in known:
                continue
            made += await self.bot.storage.owe(
                guild_id=guild_id,
                user_id=user_id,
                kind=DIGEST,
                dedupe_key=key,
                payload={"start": to_millis(start), "end": to_millis(end)},
                at=now,
            )
        return made

    async def _next_wake(self, members: list[tuple[int, int, str]]) -> datetime:
        now = self.bot.now()
        candidates = [now + IDLE]
        if self._active_until is not None and now < self._active_until:
            candidates.append(now + ACTIVE_TICK)
        for kind in KINDS:
            due = await self.bot.storage.next_outbox_due(kind=kind)
            if due is not None:
                candidates.append(due)
        for _, _, timezone in members:
            end = window(Period.WEEK, now, _zone(timezone)).end
            if end is not None:
                candidates.append(end)
        return max(min(candidates), now)

    # -- direct messages -----------------------------------------------------------------------

    async def send_due(self) -> int:
        """Try every due reminder once; returns how many DMs were recorded as sent."""
        async with self._lock:
            done = 0
            for kind in KINDS:
                for item in await self.bot.storage.pending_outbox(now=self.bot.now(), kind=kind, limit=BATCH):
                    done += await self._deliver(item)
            return done

    async def _deliver(self, item: OutboxItem) -> bool:
        storage = self.bot.storage
        attempt = await storage.begin_outbox_attempt(item_id=item.id)
        if attempt == 0:
            return False  # recorded as sent meanwhile
        try:
            embed = await self.compose(item)
            message = None if embed is None else await self._dm(item, embed)
        except discord.Forbidden as exc:
            log.info(
                "reminder %s: cannot DM member %s (%s); keeping it for their next command",
                item.dedupe_key,
                item.user_id,
                exc.code,
            )
            await storage.record_outbox_failure(item_id=item.id, error=f"{HELD} ({exc.code})", retry_at=None)
            return False
        except Exception as exc:  # recorded and retried; one bad row never stops the others
            retry_at = self.bot.now() + backoff(attempt) if attempt < MAX_ATTEMPTS else None
            log.warning(
                "reminder %s (outbox %s) attempt %d failed: %s: %s; %s",
                item.dedupe_key,
                item.id,
                attempt,
                type(exc).__name__,
                exc,
                f"retrying at {retry_at.isoformat()}" if retry_at else "keeping it for their next command",
                exc_info=not isinstance(exc, discord.HTTPException),
            )
            error = f"{type(exc).__name__}: {exc}"
            await storage.record_outbox_failure(item_id=item.id, error=error, retry_at=retry_at)
            return False
        # Recorded right after Discord accepted: a crash just before this line sends it once more.
        message_id = message.id if message is not None else None
        await storage.mark_outbox_sent(item_id=item.id, message_id=message_id, at=self.bot.now())
        return message is not None

    async def _dm(self, item: OutboxItem, embed: discord.Embed) -> discord.Message:
        assert item.user_id is not None
        user = self.bot.get_user(item.user_id) or await self.bot.fetch_user(item.user_id)
        return await user.send(embed=embed, allowed_mentions=NO_PINGS)

    async def compose(self, item: OutboxItem) -> discord.Embed | None:
        """The reminder as the member reads it; None when nothing is owed any more (a digest
        turned off, an empty week, a low-balance reminder turned off)."""
        guild = self.bot.get_guild(item.guild_id)
        name = fmt.safe(guild.name) if guild is not None else "a server"
        assert item.user_id is not None
        if item.kind == THRESHOLD:
            timezone = await self.bot.storage.member_timezone(guild_id=item.guild_id, user_id=item.user_id)
            return threshold_embed(item.payload, guild=name, tz=_zone(timezone), now=self.bot.now())
        prefs = await self.bot.storage.prefs(guild_id=item.guild_id, user_id=item.user_id)
        if item.kind == LOW_BALANCE:
            return low_balance_embed(item.payload, guild=name) if prefs.low_balance_below else None
        if item.kind == DIGEST:
            if not prefs.weekly_digest:
                return None
            start, end = from_millis(int(item.payload["start"])), from_millis(int(item.payload["end"]))
            gifted = await self.bot.storage.gifted_by_creator(
                guild_id=item.guild_id, user_id=item.user_id, start=start, end=end
            )
            return digest_embed(gifted, guild=name, start=start, end=end) if gifted else None
        log.warning("outbox %s has an unknown reminder kind %r", item.id, item.kind)
        return None

    # -- the closed-DM fallback -----------------------------------------------------------------

    async def held(self, guild_id: int, user_id: int) -> list[OutboxItem]:
        """Reminders that could not be DMed to this member, oldest first."""
        given_up = await self.bot.storage.given_up_outbox(guild_id=guild_id)
        return [item for item in given_up if item.user_id == user_id and item.kind in KINDS]

    async def deliver_held(self, interaction: discord.Interaction) -> int:
        """Show the member's held reminders on the reply to their command, privately, once."""
        if interaction.guild_id is None:
            return 0
        async with self._lock:
            items = (await self.held(interaction.guild_id, interaction.user.id))[:MAX_NOTES]
            if not items:
                return 0
            shown: list[tuple[OutboxItem, discord.Embed]] = []
            for item in items:
                embed = await self.compose(item)
                if embed is None:
                    await self.bot.storage.mark_outbox_sent(
                        item_id=item.id, message_id=None, at=self.bot.now()
                    )
                else:
                    shown.append((item, embed))
            if not shown:
                return 0
            note = "📬 Reminders I couldn't send you by DM (your DMs from this server are closed):"
            embeds = [embed for _, embed in shown]
            if interaction.response.is_done():
                message = await interaction.followup.send(
                    note, embeds=embeds, ephemeral=True, allowed_mentions=NO_PINGS, wait=True
                )
                message_id: int | None = message.id
            else:
                await interaction.response.send_message(
                    note, embeds=embeds, ephemeral=True, allowed_mentions=NO_PINGS
                )
                message_id = None
            for item, _ in shown:
                await self.bot.storage.mark_outbox_sent(
                    item_id=item.id, message_id=message_id, at=self.bot.now()
                )
            return len(shown)

    async def after_command(self, interaction: discord.Interaction) -> None:
        """A slash command completed: held reminders ride on its reply; then send what is due."""
        self.poke()  # a DM that failed just now is retried within minutes, not at the next idle pass
        try:
            await self.deliver_held(interaction)
            await self.send_due()
        except Exception:
            log.exception("reminders after interaction %s failed", interaction.id)

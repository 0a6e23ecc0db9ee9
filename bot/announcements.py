"""Leaderboard announcements: the public "Top gifters" post, and the sender that posts the automatic
ones exactly once.

Exactly once is two halves. *Decided once*: an announcement owed for a closed period is an outbox
row under a unique dedupe key, written in the transaction that checks its schedule, so deciding
again (another pass, a restart) changes nothing. *Sent once*: before each attempt the channel's
recent messages are searched for the row's reference (in the embed footer), so a message Discord
accepted just before a crash is recorded rather than posted again; real Discord also drops a resend
with the same nonce for a few minutes. Passes run on a `discord.ext.tasks` loop and once at
start-up, which is what catches up on periods that closed while the bot was down.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord

from bot.cards import CardRow, render_leaderboard_card
from bot.channel_writes import ChannelWrites
from bot.economy.clock import from_millis, to_millis
from bot.economy.models import Board, LeaderboardRow
from bot.economy.periods import Period, Window, previous_window, window, zone
from bot.outbox_posts import failure, nonce, postable_channel, reference
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import only_users
from storage.outbox_ops import Decision, OutboxItem

if TYPE_CHECKING:
    from bot.app import GiftBot

log = logging.getLogger("giftbot.announcements")

KIND = "announcement"
CARD_FILE = "top-gifters.png"
NAME_CHARS, NAME_LIMIT = 32, 70
HISTORY_LOOKBACK = 50  # recent messages searched for an announcement's reference before sending
MAX_CATCH_UP = 5  # closed periods per schedule posted after a long outage (the most recent ones)
MAX_IDLE = timedelta(hours=1)  # with schedules, look at least this often (a timezone may change)
IDLE = timedelta(days=1)  # without any: a new schedule wakes the loop itself
BATCH = 20

# The bot's permissions an announcement needs in its channel, with the names Discord shows.
NEEDED = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
}
# Automatic announcements also read recent messages, to never post the same one twice.
NEEDED_AUTOMATIC = {**NEEDED, "read_message_history": "Read Message History"}

_NOUNS = {Period.DAY: "day", Period.WEEK: "week", Period.MONTH: "month", Period.YEAR: "year"}


# -- the post ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Announcement:
    creator_name: str
    period: Period
    window: Window
    rows: Sequence[LeaderboardRow]
    tz: ZoneInfo
    closed: bool
    """A period that has ended (automatic announcements) rather than the one under way."""
    reference: str | None = None

    @property
    def title(self) -> str:
        if self.period is Period.ALL:
            return "Top gifters of all time"
        if self.closed:
            return f"Top gifters of the {_NOUNS[self.period]}"
        return f"Top gifters {self.period.label}"

    @property
    def span(self) -> str:
        """The dates covered, in the server's timezone, as plain text (for the card)."""
        start, end = self.window.start, self.window.end
        if start is None or end is None:
            return "all time"
        first = start.astimezone(self.tz)
        last = (end - timedelta(microseconds=1)).astimezone(self.tz)
        if self.period is Period.DAY:
            return f"{first:%a %d %b %Y}"
        if self.period is Period.YEAR:
            return f"{first:%Y}"
        if self.period is Period.MONTH:
            return f"{first:%B %Y}"
        return f"{first:%d %b} – {last:%d %b %Y}"

    @property
    def gifter_ids(self) -> list[int]:
        """Whom to ping: forgotten members (negative tombstone ids) are listed but never pinged."""
        return [row.user_id for row in self.rows if row.user_id > 0]


def _name(row: LeaderboardRow) -> str:
    return fmt.safe(row.name[:NAME_CHARS], NAME_LIMIT) if row.name.strip() else "a member"


def content(announcement: Announcement) -> str:
    """The text that pings the listed gifters (and nobody else: see `post`)."""
    mentions = ", ".join(f"<@{user_id}>" for user_id in announcement.gifter_ids)
    return (
        f"🏆 **{announcement.title}** for {fmt.safe(announcement.creator_name)}: {mentions}. "
        "Thank you for your gifts! 💝"
    )


def embed(announcement: Announcement) -> discord.Embed:
    lines = [f"`#{row.rank}` {_name(row)} · {fmt.coins(row.score)}" for row in announcement.rows]
    start, end = announcement.window.start, announcement.window.end
    if start is None or end is None:
        when = "Every gift ever sent."
    elif announcement.closed:
        when = f"{fmt.when(start, 'D')} to {fmt.when(end - timedelta(microseconds=1), 'D')}"
    else:
        when = f"Since {fmt.when(start, 'D')} · resets {fmt.when(end)}"
    result = discord.Embed(
        title=f"🏆 {announcement.title}",
        description=f"For **{fmt.safe(announcement.creator_name)}** · {when}\n\n" + "\n".join(lines),
        colour=theme.BOARD,
    )
    result.set_image(url=f"attachment://{CARD_FILE}")
    footer = "/privacy leaves you out of announcements"
    result.set_footer(text=f"{announcement.reference} · {footer}" if announcement.reference else footer)
    return result


def card(announcement: Announcement) -> bytes:
    rows = [CardRow(rank=row.rank, name=row.name, score=row.score) for row in announcement.rows]
    subtitle = f"for {announcement.creator_name} · {announcement.span}"
    return render_leaderboard_card(announcement.title, subtitle, rows)


async def post(
    channel: discord.abc.Messageable,
    announcement: Announcement,
    *,
    writes: ChannelWrites,
    dedupe: str | None = None,
) -> discord.Message:
    """Send the announcement; only the listed gifters are pinged, whatever their names say. It waits
    for a write slot in the channel, so a busy gift channel stays within its write budget."""
    png = await asyncio.to_thread(card, announcement)  # Pillow work off the event loop
    channel_id = getattr(channel, "id", None)
    if isinstance(channel_id, int):
        await writes.acquire(channel_id)
    file = discord.File(io.BytesIO(png), filename=CARD_FILE)
    pings = only_users(announcement.gifter_ids)
    if dedupe is None:
        return await channel.send(
            content(announcement), embed=embed(announcement), file=file, allowed_mentions=pings
        )
    return await channel.send(
        content(announcement),
        embed=embed(announcement),
        file=file,
        allowed_mentions=pings,
        nonce=nonce("gb", dedupe),
    )


# -- automatic announcements ---------------------------------------------------------------------


class Announcer:
    """Decides which closed periods are owed an announcement and sends them, one pass at a time.

    A pass tells its caller when the next one is worth running: the next period boundary of any
    schedule, or the next retry, and at most MAX_IDLE away. So the loop sleeps through quiet hours
    instead of waking every minute."""

    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot
        self._lock = asyncio.Lock()
        self._changed = False

    def wake(self) -> None:
        """A schedule changed: the pass running now (if any) may have missed it."""
        self._changed = True

    async def run_pass(self) -> datetime:
        """Decide, then send what is due. Returns when the next pass should run."""
        async with self._lock:
            self._changed = False
            await self.decide()
            await self.send_due()
            upcoming = await self._next_wake()
            return self.bot.now() if self._changed else upcoming

    async def decide(self) -> list[OutboxItem]:
        """Write an outbox row for each closed period a schedule owes (at most MAX_CATCH_UP)."""
        now = self.bot.now()
        decisions: list[Decision] = []
        for schedule in await self.bot.storage.announcement_schedules():
            if self.bot.get_guild(schedule.guild_id) is None:
                continue  # not in that server (any more): nothing can be posted there
            timezone = (await self.bot.economy.config(schedule.guild_id)).timezone
            period, tz = Period(schedule.period), zone(timezone)
            span = previous_window(period, now, tz)
            for _ in range(MAX_CATCH_UP):
                assert span.start is not None and span.end is not None
                if to_millis(span.end) <= schedule.created_at:
                    break  # closed before the schedule began
                decisions.append(
                    Decision(
                        guild_id=schedule.guild_id,
                        creator_id=schedule.creator_id,
                        period=schedule.period,
                        bucket=self.bot.storage.period_start(period, span.start, timezone),
                        channel_id=schedule.channel_id,
                        top=schedule.top,
                        start=to_millis(span.start),
                        end=to_millis(span.end),
                    )
                )
                span = previous_window(period, span.start, tz)
        if not decisions:
            return []
        known = await self.bot.storage.known_outbox_keys(keys=[d.dedupe_key for d in decisions])
        owed = sorted((d for d in decisions if d.dedupe_key not in known), key=lambda d: d.end)
        if not owed:
            return []
        return await self.bot.storage.decide_announcements(decisions=owed, at=now)

    async def send_due(self) -> int:
        """Try every due announcement once; returns how many were recorded as sent."""
        done = 0
        for item in await self.bot.storage.pending_outbox(now=self.bot.now(), kind=KIND, limit=BATCH):
            done += await self.deliver(item)
        return done

    async def deliver(self, item: OutboxItem) -> bool:
        attempt = await self.bot.storage.begin_outbox_attempt(item_id=item.id)
        if attempt == 0:
            return False  # recorded as sent meanwhile
        try:
            await self._deliver(item)
        except Exception as exc:  # recorded and retried; one bad row never stops the others
            failed = failure(exc, attempt, self.bot.now())
            log.warning(
                "announcement %s (outbox %s) attempt %d failed: %s; %s",
                item.dedupe_key,
                item.id,
                attempt,
                failed.error,
                f"retrying at {failed.retry_at.isoformat()}" if failed.retry_at else "giving up",
                exc_info=not failed.permanent,
            )
            await self.bot.storage.record_outbox_failure(
                item_id=item.id, error=failed.error, retry_at=failed.retry_at
            )
            return False
        return True

    async def _deliver(self, item: OutboxItem) -> None:
        channel = await self._channel(item)
        ref = reference(item.dedupe_key)
        earlier = await self._find_posted(channel, ref)
        if earlier is not None:
            log.info("announcement %s was already posted as message %s", item.dedupe_key, earlier.id)
            await self.bot.storage.mark_outbox_sent(item_id=item.id, message_id=earlier.id, at=self.bot.now())
            return
        announcement = await self._build(item, ref)
        if not announcement.rows:  # nobody (visible) gifted in that period: nothing to post
            await self.bot.storage.mark_outbox_sent(item_id=item.id, message_id=None, at=self.bot.now())
            return
        message = await post(channel, announcement, writes=self.bot.channel_writes, dedupe=item.dedupe_key)
        await self.bot.storage.mark_outbox_sent(item_id=item.id, message_id=message.id, at=self.bot.now())

    async def _channel(self, item: OutboxItem) -> discord.TextChannel | discord.Thread:
        return await postable_channel(self.bot, item.channel_id, what="channel", needed=NEEDED_AUTOMATIC)

    async def _find_posted(
        self, channel: discord.TextChannel | discord.Thread, ref: str
    ) -> discord.Message | None:
        me = self.bot.user
        async for message in channel.history(limit=HISTORY_LOOKBACK):
            mine = me is not None and message.author.id == me.id
            if mine and any(ref in (e.footer.text or "") for e in message.embeds):
                return message
        return None

    async def _build(self, item: OutboxItem, ref: str) -> Announcement:
        payload = item.payload
        period, creator_id = Period(payload["period"]), int(payload["creator"])
        rows, _ = await self.bot.storage.board_page(
            guild_id=item.guild_id,
            board=Board.SUPPORTERS,
            period=period,
            period_start=int(payload["bucket"]),
            creator_id=creator_id,
            limit=int(payload["top"]),
        )
        name = await self.bot.storage.member_name(guild_id=item.guild_id, user_id=creator_id)
        timezone = (await self.bot.economy.config(item.guild_id)).timezone
        return Announcement(
            creator_name=name or "a creator",
            period=period,
            window=Window(from_millis(int(payload["start"])), from_millis(int(payload["end"]))),
            rows=rows,
            tz=zone(timezone),
            closed=True,
            reference=ref,
        )

    async def _next_wake(self) -> datetime:
        """The next period boundary of any schedule, or a retry falling due; at most MAX_IDLE away
        (IDLE when there is nothing scheduled)."""
        now = self.bot.now()
        schedules = await self.bot.storage.announcement_schedules()
        candidates = [now + (MAX_IDLE if schedules else IDLE)]
        due = await self.bot.storage.next_outbox_due(kind=KIND)
        if due is not None:
            candidates.append(due)
        for schedule in schedules:
            timezone = (await self.bot.economy.config(schedule.guild_id)).timezone
            end = window(Period(schedule.period), now, zone(timezone)).end
            if end is not None:
                candidates.append(end)
        return min(candidates)

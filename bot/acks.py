"""Public acknowledgements of gifts: combos that grow in place, and a polite pace per channel.

The first gift of a combo is acknowledged by the interaction's own response. Everything after
(combo counts, the final edit when a combo's window closes, gift-wall posts, a re-post when the
first response was lost) is a write to a channel, so it goes through one flusher that makes at
most one write per channel per second and never more than 5 in any 5 seconds. The flusher is a
`discord.ext.tasks` loop that runs only while there is something to show, then stops.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import discord
from discord.ext import tasks

from bot.channel_writes import ChannelWrites
from bot.economy import thanks
from bot.economy.clock import Now
from bot.economy.combos import Combo, ComboBook, ComboKey
from bot.economy.guild_config import GuildConfig
from bot.economy.models import GiftItem, GiftReceipt
from bot.economy.service import Party
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS

log = logging.getLogger(__name__)

TICK = timedelta(seconds=1)
"""At most one write per channel per tick: edits are coalesced and flushed at most once a second."""
MAX_ATTEMPTS = 5
"""A write Discord keeps refusing (5xx, 429) is given up after this many tries, so the loop ends."""

TemplateSource = Callable[[int, int], Awaitable[str]]
ButtonFactory = Callable[["Ack"], discord.ui.Item[Any]]


def _inert(text: str) -> str:
    """User text made harmless; a whole thank-you line may be longer than a name."""
    return fmt.safe(text, limit=thanks.MAX_TEMPLATE)


@dataclass(eq=False)
class Ack:
    """One public acknowledgement: a single gift, or a combo that grows in place."""

    guild_id: int
    channel_id: int
    gift: GiftItem
    sender: Party
    creator: Party
    template: str
    again: bool
    """Whether it carries a "Send again" button while its combo is open."""
    combo: Combo
    big: bool = False
    closed: bool = False
    message_id: int | None = None
    lost: bool = False
    """The interaction's response never arrived, so the flusher posts it in the channel."""
    version: int = 1
    shown_version: int = 0
    stale_since: datetime | None = None
    attempts: int = 0

    @property
    def needs_write(self) -> bool:
        if self.message_id is None:
            return self.lost
        return self.version != self.shown_version

    def changed(self, at: datetime) -> None:
        self.version += 1
        if self.stale_since is None:
            self.stale_since = at


@dataclass(frozen=True, slots=True)
class Recorded:
    ack: Ack
    started: bool
    """True when this gift needs an acknowledgement of its own; else it joined an open combo."""

    @property
    def count(self) -> int:
        return self.ack.combo.count


@dataclass(frozen=True, slots=True)
class Rendering:
    embed: discord.Embed
    view: discord.ui.View | None
    version: int
    count: int


@dataclass
class _WallPost:
    embed: discord.Embed
    queued_at: datetime
    attempts: int = 0


@dataclass
class _Channel:
    next_write: datetime | None = None
    wall: deque[_WallPost] = field(default_factory=deque)


def gift_embed(
    *,
    gift: GiftItem,
    count: int,
    coins: int,
    diamonds: int,
    sender: Party,
    creator: Party,
    template: str,
    big: bool,
    at: datetime,
    finished: bool = False,
    where: int | None = None,
) -> discord.Embed:
    """The acknowledgement: what, from whom, to whom, the creator's thanks. It pings no one."""
    description = f"<@{sender.id}> sent a gift to <@{creator.id}>"
    if where is not None:
        description += f" in <#{where}>"
    embed = discord.Embed(
        title=f"{gift.emoji} {fmt.safe(gift.name)} x{count:,}",
        description=description,
        colour=theme.BIG_GIFT if big else theme.GIFT,
        timestamp=at,
    )
    line = thanks.render(
        template, sender=sender.name, gift=gift.name, count=count, coins=coins, escape=_inert
    )
    embed.add_field(name=f"💬 {fmt.safe(creator.name)}", value=line[:1024], inline=False)
    footer = f"🪙 {fmt.plural(coins, 'coin')} · 💎 {fmt.plural(diamonds, 'diamond')} to the creator"
    if big:  # the colour says it too, but not to everyone
        footer = "🎉 Big gift · " + footer
    if finished:
        footer += " · Combo finished"
    embed.set_footer(text=footer)
    return embed


class AckRoom:
    """Every open combo and every pending channel write of one bot."""

    def __init__(
        self,
        client: discord.Client,
        *,
        now: Now,
        templates: TemplateSource,
        again: ButtonFactory,
        writes: ChannelWrites,
    ):
        self.client = client
        self.now = now
        self.writes = writes
        self.templates = templates
        self.again = again
        self.book = ComboBook()
        self._live: list[Ack] = []
        self._channels: dict[int, _Channel] = {}
        self._ticker = tasks.loop(seconds=TICK.total_seconds())(self._tick)

    # -- recording gifts -------------------------------------------------------------------

    async def record(
        self,
        receipt: GiftReceipt,
        *,
        guild_id: int,
        channel_id: int,
        sender: Party,
        creator: Party,
        config: GuildConfig,
    ) -> Recorded:
        """Count a sent gift into its combo (or give it an acknowledgement of its own)."""
        gift = receipt.gift
        big = receipt.coins >= config.big_gift_threshold
        template = await self.templates(guild_id, creator.id)
        now = self.now()
        self._close_expired(now)
        if gift.comboable:
            key = ComboKey(guild_id, channel_id, sender.id, creator.id, gift.id)
            update = self.book.add(
                key,
                entry_id=receipt.entry_id,
                count=receipt.count,
                coins=receipt.coins,
                diamonds=receipt.diamonds,
                at=now,
                window=timedelta(seconds=config.combo_window),
            )
            combo = update.combo
            if update.started:
                # A tap sends one more without asking; a gift that needs confirming can't offer that.
                again = gift.price < config.confirm_threshold
                combo.message = Ack(guild_id, channel_id, gift, sender, creator, template, again, combo, big)
                self._live.append(combo.message)
            ack = combo.message
            if not update.counted:  # this ledger entry is in the combo already
                return Recorded(ack, started=False)
            if not update.started:
                ack.gift = gift  # a moderator may have renamed it meanwhile
                ack.big = ack.big or big
                ack.changed(now)
            started = update.started
        else:
            combo = Combo(
                key=ComboKey(guild_id, channel_id, sender.id, creator.id, gift.id),
                window=timedelta(0),
                started_at=now,
                last_at=now,
                count=receipt.count,
                coins=receipt.coins,
                diamonds=receipt.diamonds,
                entry_ids={receipt.entry_id},
                closed=True,
            )
            ack = Ack(guild_id, channel_id, gift, sender, creator, template, False, combo, big, closed=True)
            started = True
        wall = config.gift_wall_channel_id
        if big and wall is not None and wall != channel_id:
            embed = gift_embed(
                gift=gift,
                count=receipt.count,
                coins=receipt.coins,
                diamonds=receipt.diamonds,
                sender=sender,
                creator=creator,
                template=template,
                big=True,
                at=now,
                where=channel_id,
            )
            self._channel(wall).wall.append(_WallPost(embed, now))
        if not self.idle:
            self._ensure_ticking()
        return Recorded(ack, started)

    def open_creator(self, key: ComboKey) -> Party | None:
        """The creator of an open combo, so a tap need not look them up again."""
        for combo in self.book.open_combos():
            if combo.key == key and isinstance(combo.message, Ack):
                return combo.message.creator
        return None

    def render(self, ack: Ack) -> Rendering:
        combo = ack.combo
        finished = ack.closed and ack.gift.comboable
        view: discord.ui.View | None = None
        if ack.again and not ack.closed:
            view = discord.ui.View(timeout=None)
            view.add_item(self.again(ack))
        embed = gift_embed(
            gift=ack.gift,
            count=combo.count,
            coins=combo.coins,
            diamonds=combo.diamonds,
            sender=ack.sender,
            creator=ack.creator,
            template=ack.template,
            big=ack.big,
            at=combo.started_at,
            finished=finished,
        )
        return Rendering(embed, view, ack.version, combo.count)

    def posted(self, ack: Ack, message_id: int, shown: Rendering) -> None:
        """The acknowledgement is out (as `shown`); later changes are edits of this message."""
        ack.message_id = message_id
        self._shown(ack, shown)

    def lost(self, ack: Ack) -> None:
        """Its interaction response failed: post it in the channel instead, at the channel's pace."""
        ack.lost = True
        if ack.stale_since is None:
            ack.stale_since = self.now()
        if ack not in self._live:
            self._live.append(ack)
        self._ensure_ticking()

    def _shown(self, ack: Ack, shown: Rendering) -> None:
        ack.shown_version = shown.version
        ack.combo.shown_count = shown.count
        ack.attempts = 0
        ack.stale_since = None if ack.version == shown.version else self.now()

    # -- the flusher ---------------------------------------------------------------------------

    def stop(self) -> None:
        self._ticker.cancel()

    @property
    def idle(self) -> bool:
        return not self._live and len(self.book) == 0 and not any(c.wall for c in self._channels.values())

    def _channel(self, channel_id: int) -> _Channel:
        return self._channels.setdefault(channel_id, _Channel())

    def _ensure_ticking(self) -> None:
        if not self._ticker.is_running():
            self._ticker.start()

    def _close_expired(self, now: datetime) -> None:
        for combo in self.book.close_expired(now):
            ack = combo.message
            if isinstance(ack, Ack):
                ack.closed = True
                ack.changed(now)  # one final edit: the total is final and the button goes

    async def _tick(self) -> None:
        now = self.now()
        self._close_expired(now)
        channel_ids = {ack.channel_id for ack in self._live} | {
            channel_id for channel_id, state in self._channels.items() if state.wall
        }
        for channel_id in sorted(channel_ids):
            await self._flush(channel_id, now)
        # Keep what may still need a write; an acknowledgement still on its way may, too.
        self._live = [
            ack for ack in self._live if not ack.closed or ack.needs_write or ack.message_id is None
        ]
        for channel_id, state in list(self._channels.items()):
            if not state.wall and self.writes.used(channel_id) == 0:  # its last write is 5 s old: forget it
                del self._channels[channel_id]
        self.writes.forget_idle()
        if self.idle:
            self._ticker.stop()

    async def _flush(self, channel_id: int, now: datetime) -> None:
        """At most one write in this channel now: the one that has waited longest."""
        state = self._channel(channel_id)
        if state.next_write is not None and now < state.next_write:
            return
        waiting = [ack for ack in self._live if ack.channel_id == channel_id and ack.needs_write]
        ack = min(waiting, key=lambda a: a.stale_since or now, default=None)
        post = state.wall[0] if state.wall else None
        if ack is None and post is None:
            return
        if not self.writes.try_acquire(channel_id):
            return
        state.next_write = now + TICK
        if post is not None and (ack is None or post.queued_at < (ack.stale_since or now)):
            await self._post_wall(channel_id, state, post)
        elif ack is not None:
            await self._write(ack)

    async def _write(self, ack: Ack) -> None:
        shown = self.render(ack)
        channel = self.client.get_partial_messageable(ack.channel_id, guild_id=ack.guild_id)
        try:
            if ack.message_id is None:
                extra: dict[str, Any] = {} if shown.view is None else {"view": shown.view}
                message = await channel.send(embed=shown.embed, allowed_mentions=NO_PINGS, **extra)
                ack.lost = False
                self.posted(ack, message.id, shown)
            else:
                await channel.get_partial_message(ack.message_id).edit(
                    embed=shown.embed, view=shown.view, allowed_mentions=NO_PINGS
                )
                self._shown(ack, shown)
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning("acknowledgement in channel %s can't be shown any more: %s", ack.channel_id, exc)
            self._give_up(ack)
        except discord.HTTPException as exc:
            ack.attempts += 1
            log.warning(
                "acknowledgement in channel %s not updated (try %d): %s", ack.channel_id, ack.attempts, exc
            )
            if ack.attempts >= MAX_ATTEMPTS:
                self._give_up(ack)

    def _give_up(self, ack: Ack) -> None:
        """Stop trying to show it. Its combo closes too, so the next gift gets a message of its own."""
        ack.combo.closed = True
        ack.closed = True
        ack.lost = False
        ack.shown_version = ack.version
        if ack in self._live:
            self._live.remove(ack)

    async def _post_wall(self, channel_id: int, state: _Channel, post: _WallPost) -> None:
        channel = self.client.get_partial_messageable(channel_id)
        try:
            await channel.send(embed=post.embed, allowed_mentions=NO_PINGS)
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning("gift wall %s refused a post: %s", channel_id, exc)
        except discord.HTTPException as exc:
            post.attempts += 1
            log.warning("gift wall %s post failed (try %d): %s", channel_id, post.attempts, exc)
            if post.attempts < MAX_ATTEMPTS:
                return
        state.wall.popleft()

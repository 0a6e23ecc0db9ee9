"""/creator: tools for creators. A thank-you line, private stats, and "Top gifters" announcements,
posted now or automatically after each day, week, month or year.

Every subcommand checks in code that the caller is a creator. Announcements ping exactly the
gifters they list (members who left the boards with /privacy are not listed); everything else
is private.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.announcements import NEEDED, NEEDED_AUTOMATIC, Announcement, Announcer, post
from bot.app import GiftBot
from bot.economy import thanks
from bot.economy.errors import EconomyError
from bot.economy.models import Board, CreatorStats, LeaderboardRow
from bot.economy.periods import Period, Window, window, zone
from bot.economy.ratelimit import SlidingWindow
from bot.interactions import party
from bot.outbox_posts import missing_permissions
from bot.permissions import GuildOnly
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS

log = logging.getLogger("giftbot.creator")

TICK_SECONDS = 60
ANNOUNCE_COOLDOWN = timedelta(minutes=5)  # between one creator's public announcements (they ping)
NAME_CHARS, NAME_LIMIT = 32, 70

PERIOD_CHOICES = [app_commands.Choice(name=p.label.capitalize(), value=p.value) for p in Period]
CLOSED_PERIODS = [Period.DAY, Period.WEEK, Period.MONTH, Period.YEAR]
EVERY = {Period.DAY: "day", Period.WEEK: "week", Period.MONTH: "month", Period.YEAR: "year"}
SCHEDULE_CHOICES = [app_commands.Choice(name=f"Every {EVERY[p]}", value=p.value) for p in CLOSED_PERIODS]


class CreatorsOnly(app_commands.CheckFailure):
    user_message = "Only creators can use /creator. A moderator can make you one with `/mod creator add`."


class Refused(EconomyError):
    """A /creator request that cannot be done as asked; the message says why."""


async def require_creator(interaction: discord.Interaction) -> bool:
    if interaction.guild_id is None:
        raise GuildOnly()
    storage = interaction.client.storage  # type: ignore[attr-defined]
    if not await storage.is_creator(guild_id=interaction.guild_id, user_id=interaction.user.id):
        raise CreatorsOnly()
    return True


def name_of(row: LeaderboardRow) -> str:
    return fmt.safe(row.name[:NAME_CHARS], NAME_LIMIT) if row.name.strip() else f"<@{row.user_id}>"


def span_text(span: Window) -> str:
    if span.start is None or span.end is None:
        return "All time"
    return f"Since {fmt.when(span.start, 'D')} · resets {fmt.when(span.end)}"


def stats_embed(stats: CreatorStats, period: Period, span: Window, best_sender: str) -> discord.Embed:
    embed = discord.Embed(
        title=f"Your gifts · {period.label}", description=span_text(span), colour=theme.INFO
    )
    embed.add_field(name="Coins received", value=fmt.coins(stats.coins))
    embed.add_field(name="Diamonds earned", value=fmt.diamonds(stats.diamonds))
    embed.add_field(name="Gifts", value=fmt.number(stats.gifts))
    embed.add_field(name="Gifters", value=fmt.number(stats.gifters))
    supporters = "\n".join(
        f"`#{row.rank}` {name_of(row)} · {fmt.coins(row.score)}" for row in stats.top_supporters
    )
    embed.add_field(name="Top supporters", value=supporters or "Nobody yet.", inline=False)
    best = stats.best_gift
    embed.add_field(
        name="Best gift",
        value=(
            f"{best.gift_emoji} {fmt.safe(best.gift_name)} ×{fmt.number(best.count)} · "
            f"{fmt.coins(best.coins)} from {best_sender}"
            if best is not None
            else "No gifts yet."
        ),
        inline=False,
    )
    if not stats.gifts:
        embed.set_footer(text="Share your /gift link with your fans: their gifts show up here.")
    return embed


def text_channel(interaction: discord.Interaction, chosen: discord.TextChannel | None) -> discord.TextChannel:
    channel = chosen or interaction.channel
    if not isinstance(channel, discord.TextChannel):
        raise Refused("Pick a text channel with the `channel` option.")
    return channel


def check_can_post(
    interaction: discord.Interaction, channel: discord.TextChannel, needed: dict[str, str]
) -> None:
    """The bot must be allowed to post the announcement there, and the creator to post there too."""
    assert interaction.guild is not None
    member = interaction.user
    if isinstance(member, discord.Member):
        mine = channel.permissions_for(member)
        if not (mine.view_channel and mine.send_messages):
            raise Refused(
                f"You can only announce in a channel you can post in yourself, not {channel.mention}."
            )
    missing = missing_permissions(channel, interaction.guild.me, needed)
    if missing:
        raise Refused(
            f"I can't post announcements in {channel.mention}: I need the "
            f"{', '.join(missing)} permission{'s' if len(missing) > 1 else ''} there. "
            "Ask a moderator to allow them, or pick another channel."
        )


class CreatorTools(commands.GroupCog, group_name="creator", group_description="Tools for creators."):
    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot
        self.announcer = Announcer(bot)
        self._pass_started: datetime | None = None
        # One public announcement per creator per few minutes: it pings people.
        self._recent: dict[tuple[int, int], SlidingWindow] = {}

    async def cog_load(self) -> None:
        self.announce_loop.start()

    async def cog_unload(self) -> None:
        self.announce_loop.cancel()

    # -- automatic announcements: a pass at each boundary or retry, and one once the bot is ready --

    @tasks.loop(seconds=TICK_SECONDS)
    async def announce_loop(self) -> None:
        started = self._pass_started = self.bot.now()
        try:
            # A task of its own that ends with the pass: a test harness waiting for the bot to
            # settle then sees the work finish, rather than waiting out a loop that never ends.
            upcoming = await asyncio.create_task(self.announcer.run_pass(), name="giftbot-announcements")
        except Exception:  # never let one bad pass stop the loop; the next pass retries
            log.exception("announcement pass failed")
            upcoming = started
        # Sleep until the next boundary or retry, at least a minute.
        wait = (upcoming - started).total_seconds()
        self.announce_loop.change_interval(seconds=max(wait, TICK_SECONDS))

    def wake_loop(self) -> None:
        """A schedule changed: run a pass within a minute rather than at the old boundary."""
        self.announcer.wake()
        if self._pass_started is None or not self.announce_loop.is_running():
            return  # the first pass has not run yet; it reads the schedules when it does
        soon = self.bot.now() + timedelta(seconds=TICK_SECONDS)
        upcoming = self.announce_loop.next_iteration
        if upcoming is not None and upcoming <= soon:
            return
        # The loop's next run is (this run's start + interval): measured from now instead, it
        # would land in the past after a long sleep and the loop would run back to back.
        self.announce_loop.change_interval(seconds=(soon - self._pass_started).total_seconds())

    @announce_loop.before_loop
    async def before_announce_loop(self) -> None:
        # The first pass runs right after this: it posts what came due while the bot was down.
        await self.bot.wait_until_ready()

    # -- /creator thanks ------------------------------------------------------------------------

    @app_commands.command(name="thanks", description="Set the thank-you line shown when you get a gift.")
    @app_commands.describe(
        template="Your line, with {sender} {gift} {count} {coins}; leave out to see the current one",
        reset="Go back to the default line",
    )
    @app_commands.guild_only()
    @app_commands.check(require_creator)
    async def thanks(
        self, interaction: discord.Interaction, template: str | None = None, reset: bool = False
    ) -> None:
        """Set the thank-you line shown when you get a gift."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        if template is not None and reset:
            raise Refused("Give a new `template` or `reset`, not both.")
        if reset:
            line = await self.bot.economy.set_thanks(guild_id, party(interaction.user), None)
            title = "Back to the default thank-you line"
        elif template is not None:
            line = await self.bot.economy.set_thanks(guild_id, party(interaction.user), template)
            title = "Thank-you line saved"
        else:
            line = await self.bot.economy.thanks_template(guild_id, interaction.user.id)
            title = "Your thank-you line"
        # A preview, as if a fan called Sam had just sent five Roses.
        preview = thanks.render(line, sender="Sam", gift="Rose", count=5, coins=5, escape=fmt.safe)
        embed = discord.Embed(title=title, colour=theme.SUCCESS if template or reset else theme.INFO)
        embed.add_field(name="Line", value=fmt.safe(line, thanks.MAX_TEMPLATE + 1), inline=False)
        embed.add_field(name="Preview", value=preview, inline=False)
        embed.set_footer(
            text="Placeholders: {sender} {gift} {count} {coins}. reset:True restores the default."
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    # -- /creator stats -------------------------------------------------------------------------

    @app_commands.command(name="stats", description="Your coins, diamonds and top supporters, privately.")
    @app_commands.describe(period="Which period (default: this week)")
    @app_commands.choices(period=PERIOD_CHOICES)
    @app_commands.guild_only()
    @app_commands.check(require_creator)
    async def stats(
        self, interaction: discord.Interaction, period: app_commands.Choice[str] | None = None
    ) -> None:
        """Your coins, diamonds and top supporters, privately."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        chosen = Period(period.value) if period is not None else Period.WEEK
        result = await self.bot.economy.creator_stats(guild_id, interaction.user.id, chosen)
        span, _ = await self.bot.economy.span(guild_id, chosen)
        best_sender = ""
        if result.best_gift is not None:
            sender_id = result.best_gift.sender_id
            hidden = await self.bot.economy.is_hidden(guild_id, sender_id)
            name = result.best_gift.sender_name
            best_sender = "a supporter who keeps their gifts private" if hidden else f"**{fmt.safe(name)}**"
        embed = stats_embed(result, chosen, span, best_sender)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    # -- /creator announce ----------------------------------------------------------------------

    @app_commands.command(name="announce", description="Post your top gifters in public and ping them.")
    @app_commands.describe(
        period="Which period (default: this week)",
        top="How many gifters to list, 1 to 10 (default 3)",
        channel="Where to post (default: here)",
    )
    @app_commands.choices(period=PERIOD_CHOICES)
    @app_commands.guild_only()
    @app_commands.check(require_creator)
    async def announce(
        self,
        interaction: discord.Interaction,
        period: app_commands.Choice[str] | None = None,
        top: app_commands.Range[int, 1, 10] = 3,
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Post your top gifters in public and ping them."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        chosen = Period(period.value) if period is not None else Period.WEEK
        target = text_channel(interaction, channel)
        check_can_post(interaction, target, NEEDED)
        board = await self.bot.economy.board(
            guild_id, chosen, Board.SUPPORTERS, creator_id=interaction.user.id, per_page=top
        )
        if not board.rows:
            raise Refused(
                f"Nobody has sent you gifts {chosen.label} (or your gifters keep their gifts private), "
                "so there is nobody to thank in public yet."
            )
        recent = self._recent.setdefault((guild_id, interaction.user.id), SlidingWindow(1, ANNOUNCE_COOLDOWN))
        if not recent.try_acquire(self.bot.now()):
            raise Refused(
                "You posted an announcement a moment ago; "
                f"you can post the next one {fmt.when(recent.next_free(self.bot.now()))}."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        config = await self.bot.economy.config(guild_id)
        announcement = Announcement(
            creator_name=fmt.display_name(interaction.user),
            period=chosen,
            window=board.window,
            rows=board.rows,
            tz=zone(config.timezone),
            closed=False,
        )
        try:
            message = await post(target, announcement, writes=self.bot.channel_writes)
        except discord.Forbidden as exc:
            raise Refused(
                f"Discord didn't let me post in {target.mention}. Check my permissions there."
            ) from exc
        names = len(board.rows)
        embed = discord.Embed(
            description=(
                f"Posted your top {names} gifter{'s' if names > 1 else ''} {chosen.label} in "
                f"{target.mention}: {message.jump_url}"
            ),
            colour=theme.SUCCESS,
        )
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    # -- /creator autoannounce ------------------------------------------------------------------

    @app_commands.command(
        name="autoannounce", description="Post your top gifters automatically after each period."
    )
    @app_commands.describe(
        period="After each day, week, month or year",
        channel="Where to post (default: here)",
        top="How many gifters to list, 1 to 10 (default 3)",
        off="Stop these automatic announcements",
    )
    @app_commands.choices(period=SCHEDULE_CHOICES)
    @app_commands.guild_only()
    @app_commands.check(require_creator)
    async def autoannounce(
        self,
        interaction: discord.Interaction,
        period: app_commands.Choice[str],
        channel: discord.TextChannel | None = None,
        top: app_commands.Range[int, 1, 10] = 3,
        off: bool = False,
    ) -> None:
        """Post your top gifters automatically after each period."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        chosen = Period(period.value)
        every = EVERY[chosen]
        if off:
            if channel is not None:
                raise Refused("Give a `channel` to turn announcements on, or `off`, not both.")
            stopped = await self.bot.storage.clear_announcement_schedule(
                guild_id=guild_id, creator_id=interaction.user.id, period=chosen
            )
            self.wake_loop()
            text = (
                f"Stopped: no more automatic announcements after each {every}."
                if stopped
                else f"There were no automatic announcements after each {every} to stop."
            )
            embed = discord.Embed(description=text, colour=theme.SUCCESS if stopped else theme.INFO)
            await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        target = text_channel(interaction, channel)
        check_can_post(interaction, target, NEEDED_AUTOMATIC)
        await self.bot.storage.set_announcement_schedule(
            guild_id=guild_id,
            creator_id=interaction.user.id,
            name=fmt.display_name(interaction.user),
            period=chosen,
            channel_id=target.id,
            top=top,
            at=self.bot.now(),
        )
        self.wake_loop()
        config = await self.bot.economy.config(guild_id)
        ends = window(chosen, self.bot.now(), zone(config.timezone)).end
        assert ends is not None
        embed = discord.Embed(
            title="Automatic announcements on",
            description=(
                f"After each {every}, I'll post your top {top} gifters of that {every} in "
                f"{target.mention} and ping them (members who chose /privacy are left out). "
                f"The first one comes {fmt.when(ends)}. "
                "`/creator autoannounce` with `off:True` stops them."
            ),
            colour=theme.SUCCESS,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(CreatorTools(bot))

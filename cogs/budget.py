"""/budget: a member's own spending limit, reminders and digest, all private.

Lowering a limit applies at once; raising or clearing it waits out the server's cooling-off
(`budget_cooling_off`, 24 hours by default), and the member is told exactly when. The limit itself
is enforced inside the gift's transaction (storage/money_ops.py). This cog also runs the reminder
sender (bot/reminders.py) and registers the age gate's button (bot/age_gate.py).
"""

from __future__ import annotations

import asyncio
import io
import logging
import zoneinfo
from datetime import date, datetime, timedelta
from functools import lru_cache

import discord
from discord import app_commands
from discord.ext import commands

from bot.age_gate import ConfirmAge
from bot.app import GiftBot
from bot.charts import DaySpend, render_spending_chart
from bot.economy.budget import MAX_LIMIT, Budget, BudgetChange, Mode
from bot.economy.budget_service import BudgetStatus
from bot.economy.errors import InvalidSetting
from bot.economy.periods import Period, zone
from bot.interactions import party
from bot.permissions import require_guild
from bot.reminders import Reminders
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS

log = logging.getLogger("giftbot.budget")

CHART_FILE = "budget.png"
SERVER_TIMEZONE = "server"
PERIOD_CHOICES = [
    app_commands.Choice(name="Per day", value="day"),
    app_commands.Choice(name="Per week (from Monday)", value="week"),
    app_commands.Choice(name="Per month", value="month"),
]
MODE_CHOICES = [
    app_commands.Choice(name="Hard: refuse gifts past the limit", value="hard"),
    app_commands.Choice(name="Soft: allow them, with a warning", value="soft"),
]
SWITCH_CHOICES = [app_commands.Choice(name="On", value="on"), app_commands.Choice(name="Off", value="off")]
MODE_TEXT = {
    Mode.HARD: "a gift that would go past it is refused",
    Mode.SOFT: "gifts past it go through, with a warning",
}


def describe(budget: Budget | None) -> str:
    if budget is None:
        return "no limit"
    return f"{fmt.coins(budget.limit)} per {budget.period.value} ({budget.mode.value})"


def when_exactly(moment: datetime) -> str:
    return f"{fmt.when(moment, 'F')} ({fmt.when(moment)})"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def change_embed(change: BudgetChange, new: Budget | None, *, now: datetime, hours: int) -> discord.Embed:
    """What a member is told after /budget set or /budget clear."""
    if change.immediate or change.takes_effect <= now:
        if new is None:
            return discord.Embed(
                title="No spending limit",
                description="You have no spending limit in this server now. `/budget set` adds one.",
                colour=theme.SUCCESS,
            )
        return discord.Embed(
            title="Spending limit set",
            description=(
                f"Your limit is now **{describe(new)}**: {MODE_TEXT[new.mode]}. It applies from now on. "
                "`/budget status` shows what you have spent."
            ),
            colour=theme.SUCCESS,
        )
    what = "Clearing your limit" if new is None else f"Your new limit, **{describe(new)}**,"
    return discord.Embed(
        title=f"Cooling-off: this change waits {hours:,} hour{'s' if hours != 1 else ''}",
        description=(
            f"Raising or clearing a limit takes effect after a cooling-off. {what} takes effect "
            f"{when_exactly(change.takes_effect)}. Until then **{describe(change.state.current)}** stays "
            "in force. Lowering your limit always applies at once."
        ),
        colour=theme.WARNING,
    )


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _day_label(period: Period, day: date) -> str:
    if period is Period.WEEK:
        return f"{day:%a}"
    if period is Period.MONTH:
        return str(day.day)
    return f"{day:%a} {day.day} {day:%b}"


def chart_days(status: BudgetStatus, now: datetime) -> list[DaySpend]:
    """Every local day of the current period, with the coins spent on it."""
    assert status.window is not None and status.window.start is not None and status.window.end is not None
    assert status.budget is not None
    tz = zone(status.timezone)
    first = status.window.start.astimezone(tz).date()
    last = (status.window.end - timedelta(microseconds=1)).astimezone(tz).date()
    spent = {moment.astimezone(tz).date(): coins for moment, coins in status.daily}
    today = now.astimezone(tz).date()
    period = status.budget.period
    return [DaySpend(_day_label(period, day), spent.get(day, 0), day == today) for day in _days(first, last)]


def chart(status: BudgetStatus, now: datetime) -> bytes:
    assert status.budget is not None
    budget = status.budget
    title = f"Your spending {budget.period.label}"
    subtitle = f"{status.spent:,} of {budget.limit:,} coins · {budget.mode.value} limit · {status.timezone}"
    return render_spending_chart(
        title,
        subtitle,
        chart_days(status, now),
        limit=budget.limit,
        empty=f"No gifts yet {budget.period.label}.",
    )


def status_embed(
    status: BudgetStatus, *, now: datetime, digest: bool, low_balance: int | None
) -> discord.Embed:
    budget = status.budget
    embed = discord.Embed(title="Your spending limit", colour=theme.INFO)
    if budget is None or status.window is None or status.window.end is None:
        embed.description = "You have no spending limit in this server. `/budget set` adds one."
    else:
        percent = status.spent * 100 // budget.limit
        embed.description = (
            f"**{fmt.coins(status.spent)}** of {fmt.coins(budget.limit)} spent {budget.period.label} "
            f"({percent}%), {fmt.coins(status.remaining or 0)} left.\n"
            f"Resets {when_exactly(status.window.end)}."
        )
        embed.add_field(name="Limit", value=f"{describe(budget)}\n{MODE_TEXT[budget.mode]}", inline=False)
        if not status.own:
            embed.add_field(
                name="Server default",
                value="This is the server's default limit; `/budget set` sets your own.",
                inline=False,
            )
        embed.set_image(url=f"attachment://{CHART_FILE}")
    state = status.state
    if state.pending_from is not None and state.pending_from > now:
        upcoming = None if state.pending_clear else state.pending
        embed.add_field(
            name="Waiting out the cooling-off",
            value=f"**{describe(upcoming)}** from {when_exactly(state.pending_from)}.",
            inline=False,
        )
    embed.add_field(name="Reminders at", value=_and([f"{t}%" for t in status.thresholds]))
    embed.add_field(name="Timezone", value=fmt.safe(status.timezone))
    embed.add_field(name="Weekly digest", value="on" if digest else "off")
    embed.add_field(
        name="Low-balance reminder", value=f"below {fmt.coins(low_balance)}" if low_balance else "off"
    )
    return embed


@lru_cache(maxsize=1)
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def parse_low_balance(raw: str) -> int | None:
    text = raw.strip().lower()
    if text in {"off", "none", "no", "0"}:
        return None
    try:
        return int(text.replace(",", "").replace("_", "").replace(" ", ""))
    except ValueError as exc:
        raise InvalidSetting("Give a number of coins, like `100`, or `off`.") from exc


class BudgetCommands(
    commands.GroupCog,
    name="Budget",
    group_name="budget",
    group_description="Your spending limit and reminders, privately.",
):
    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot
        self.budgets = bot.budgets
        self.reminders = Reminders(bot)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ConfirmAge)
        self.reminders.start()

    async def cog_unload(self) -> None:
        self.reminders.stop()
        self.bot.remove_dynamic_items(ConfirmAge)

    # -- reminders ride along with members' activity ----------------------------------------------

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: app_commands.Command | app_commands.ContextMenu
    ) -> None:
        await self.reminders.after_command(interaction)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.component:
            self.reminders.poke()  # a confirmed gift may owe a reminder once it commits

    async def _reply(self, interaction: discord.Interaction, embed: discord.Embed) -> None:
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    async def _cooling_off_hours(self, guild_id: int) -> int:
        return (await self.bot.economy.config(guild_id)).budget_cooling_off_hours

    # -- commands ---------------------------------------------------------------------------------

    @app_commands.command(
        name="set", description="Set your spending limit; raising it waits out a cooling-off."
    )
    @app_commands.describe(
        limit="The most coins you may spend on gifts per period",
        period="Per day, week (the default) or month, in your timezone",
        mode="hard (the default) refuses gifts past the limit; soft allows them with a warning",
    )
    @app_commands.choices(period=PERIOD_CHOICES, mode=MODE_CHOICES)
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def set_limit(
        self,
        interaction: discord.Interaction,
        limit: app_commands.Range[int, 1, MAX_LIMIT],
        period: app_commands.Choice[str] | None = None,
        mode: app_commands.Choice[str] | None = None,
    ) -> None:
        """Set your spending limit; raising it waits out a cooling-off."""
        assert interaction.guild_id is not None
        new = Budget(limit, Period(period.value if period else "week"), Mode(mode.value if mode else "hard"))
        change = await self.budgets.change(interaction.guild_id, party(interaction.user), new)
        hours = await self._cooling_off_hours(interaction.guild_id)
        await self._reply(interaction, change_embed(change, new, now=self.bot.now(), hours=hours))

    @app_commands.command(name="clear", description="Remove your spending limit after the cooling-off.")
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def clear(self, interaction: discord.Interaction) -> None:
        """Remove your spending limit after the cooling-off."""
        assert interaction.guild_id is not None
        change = await self.budgets.change(interaction.guild_id, party(interaction.user), None)
        hours = await self._cooling_off_hours(interaction.guild_id)
        await self._reply(interaction, change_embed(change, None, now=self.bot.now(), hours=hours))

    @app_commands.command(name="status", description="What you spent, your limit, when it resets, by day.")
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def status(self, interaction: discord.Interaction) -> None:
        """What you spent, your limit, when it resets, by day."""
        assert interaction.guild_id is not None
        guild_id, user_id = interaction.guild_id, interaction.user.id
        now = self.bot.now()
        status = await self.budgets.status(guild_id, user_id)
        prefs = await self.bot.storage.prefs(guild_id=guild_id, user_id=user_id)
        embed = status_embed(status, now=now, digest=prefs.weekly_digest, low_balance=prefs.low_balance_below)
        if status.budget is None:
            await self._reply(interaction, embed)
            return
        png = await asyncio.to_thread(chart, status, now)  # Pillow work off the event loop
        await interaction.response.send_message(
            embed=embed,
            file=discord.File(io.BytesIO(png), filename=CHART_FILE),
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    @app_commands.command(name="timezone", description="Your timezone for budget days, weeks and months.")
    @app_commands.describe(name="An IANA timezone like Europe/Berlin, or `server` to follow the server's")
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def timezone(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 64]) -> None:
        """Your timezone for budget days, weeks and months."""
        assert interaction.guild_id is not None
        own = None if name.strip().lower() == SERVER_TIMEZONE else name.strip()
        result = await self.budgets.set_timezone(interaction.guild_id, party(interaction.user), own)
        follows = (
            f"your own timezone, **{fmt.safe(result)}**" if own else f"the server's, **{fmt.safe(result)}**"
        )
        embed = discord.Embed(
            title="Timezone saved",
            description=f"Your budget days, weeks and months now follow {follows}.",
            colour=theme.SUCCESS,
        )
        await self._reply(interaction, embed)

    @timezone.autocomplete("name")
    async def timezone_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        text = current.strip().lower()
        names = [name for name in (SERVER_TIMEZONE, *_timezones()) if text in name.lower()]
        return [app_commands.Choice(name=name, value=name) for name in names[:25]]

    @app_commands.command(name="reminders", description="At which percents of your limit you get a DM.")
    @app_commands.describe(thresholds="One to five percents, like 50,80,100")
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def reminders_at(
        self, interaction: discord.Interaction, thresholds: app_commands.Range[str, 1, 40]
    ) -> None:
        """At which percents of your limit you get a DM."""
        assert interaction.guild_id is not None
        saved = await self.budgets.set_thresholds(interaction.guild_id, party(interaction.user), thresholds)
        embed = discord.Embed(
            title="Reminders saved",
            description=(
                f"You'll get a DM when your spending reaches {_and([f'{t}%' for t in saved])} of your "
                "limit, once each per period."
            ),
            colour=theme.SUCCESS,
        )
        await self._reply(interaction, embed)

    @app_commands.command(name="digest", description="A weekly DM of what you gifted last week.")
    @app_commands.describe(state="on or off")
    @app_commands.choices(state=SWITCH_CHOICES)
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def digest(self, interaction: discord.Interaction, state: app_commands.Choice[str]) -> None:
        """A weekly DM of what you gifted last week."""
        assert interaction.guild_id is not None
        on = state.value == "on"
        await self.budgets.set_digest(interaction.guild_id, party(interaction.user), on)
        text = (
            "Each week, after it ends in your timezone, I'll DM you what you gifted and to whom. "
            "Weeks without gifts send nothing."
            if on
            else "No more weekly digests."
        )
        embed = discord.Embed(title=f"Weekly digest {state.value}", description=text, colour=theme.SUCCESS)
        await self._reply(interaction, embed)

    @app_commands.command(name="lowbalance", description="A DM when your coins drop below an amount.")
    @app_commands.describe(coins="A number of coins, or off")
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def low_balance(
        self, interaction: discord.Interaction, coins: app_commands.Range[str, 1, 20]
    ) -> None:
        """A DM when your coins drop below an amount."""
        assert interaction.guild_id is not None
        below = parse_low_balance(coins)
        await self.budgets.set_low_balance(interaction.guild_id, party(interaction.user), below)
        text = (
            f"I'll DM you when a gift takes your balance below {fmt.coins(below)}, once each time."
            if below
            else "No more low-balance reminders."
        )
        embed = discord.Embed(title="Low-balance reminder saved", description=text, colour=theme.SUCCESS)
        await self._reply(interaction, embed)


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(BudgetCommands(bot))

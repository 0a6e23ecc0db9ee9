"""/budget end to end: limits a member sets for themselves, enforced on /gift.

Hard limits refuse the gift that would go past them (never overshot, even by gifts racing each
other); lowering is instant while raising and clearing wait out the cooling-off, and the member is
told exactly when; periods follow the member's timezone; /budget status shows the reset time and
a chart. Every reply is private and pings nobody.

SimCord's clock starts on Thursday 1 January 2026, 00:00 UTC.
"""

from __future__ import annotations

import dataclasses
import io
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import simcord
from PIL import Image

from bot.charts import SCORE
from bot.economy.clock import to_millis
from bot.economy.models import GiftReceipt
from bot.economy.periods import Period
from bot.reminders import budget_warning
from tests.sim import Community, interaction_result, pings, race

MINUTE, HOUR, DAY = 60, 3600, 24 * 3600
START = datetime(2026, 1, 1, tzinfo=UTC)
NEXT_MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
ERROR_RED = discord.Colour(0xED4245)


# -- helpers shared by the budget, reminder and age gate tests -------------------------------------


async def ready(env: simcord.Env, *, coins: int = 1_000) -> Community:
    world = Community.build(env)
    await world.make_creators()
    await world.grant(world.alice, coins)
    return world


async def budget(world: Community, member: simcord.MemberActor, sub: str, **options: Any):
    """Run /budget <sub>; every reply is private and pings nobody."""
    result = await member.slash(world.channel, f"budget {sub}", **options)
    assert result.ephemeral
    assert pings(world.env, result.response).nobody
    return result


async def gift(
    world: Community,
    member: simcord.MemberActor,
    name: str = "Rosa",
    count: int = 1,
    creator: simcord.MemberActor | None = None,
) -> simcord.InteractionResult:
    return await member.slash(world.channel, "gift", creator=creator or world.carol, gift=name, count=count)


def refused(result: simcord.InteractionResult) -> str | None:
    """The private refusal a member saw, or None when the command went through."""
    if not result.ephemeral or not result.response.embeds:
        return None
    embed = result.response.embeds[0]
    return embed.description if embed.colour == ERROR_RED else None


def text(result: simcord.InteractionResult) -> str:
    embed = result.response.embeds[0]
    fields = "\n".join(f"{field.name}: {field.value}" for field in embed.fields)
    return f"{embed.title}\n{embed.description}\n{fields}"


def stamp(moment: datetime, style: str) -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


async def sql(world: Community, query: str, *params: Any) -> list[tuple[Any, ...]]:
    def run(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        return conn.execute(query, params).fetchall()

    return await world.bot.storage.db.read(run)


async def spent(world: Community, member: simcord.MemberActor, period: Period) -> int:
    return await world.bot.storage.spent(
        guild_id=world.guild.id, user_id=member.id, period=period, at=world.env.now()
    )


# -- setting, lowering, raising, clearing ----------------------------------------------------------


async def test_a_hard_limit_refuses_the_gift_that_would_go_past_it_with_what_is_left(simcord_env):
    world = await ready(simcord_env)
    result = await budget(world, world.alice, "set", limit=25, period="day", mode="hard")
    assert result.response.embeds[0].title == "Spending limit set"
    assert "🪙 25 per day (hard)" in result.response.embeds[0].description

    assert refused(await gift(world, world.alice, "Rosa", 2)) is None  # 20 coins
    refusal = refused(await gift(world, world.alice, "Rosa"))
    assert refusal == (
        "This gift costs 10 coins, but your daily budget of 25 has 5 left. Change it with /budget set "
        "(raising it takes effect after a cooling-off)."
    )
    assert await world.coins(world.alice) == 980
    assert await spent(world, world.alice, Period.DAY) == 20
    assert refused(await gift(world, world.alice, "Finger Heart")) is None  # 5 more fit exactly
    assert await spent(world, world.alice, Period.DAY) == 25
    await world.assert_books_balance()


async def test_racing_gifts_never_overshoot_a_hard_limit(simcord_env):
    world = await ready(simcord_env)
    await budget(world, world.alice, "set", limit=55, period="week")
    ids = await race(simcord_env, world.alice, world.channel, "gift", 10, creator=world.carol, gift="Rosa")
    results = [interaction_result(simcord_env, i) for i in ids]
    refusals = [refused(r) for r in results if refused(r)]
    assert len(refusals) == 5 and all("has 5 left" in r for r in refusals)
    assert await spent(world, world.alice, Period.WEEK) == 50
    assert await world.coins(world.alice) == 950
    assert await world.diamonds(world.carol) == 25
    assert await world.bot.storage.counter_mismatches() == []
    await world.assert_books_balance()


async def test_a_soft_limit_lets_gifts_through(simcord_env):
    world = await ready(simcord_env)
    result = await budget(world, world.alice, "set", limit=15, period="week", mode="soft")
    assert "(soft)**: gifts past it go through, with a warning" in result.response.embeds[0].description
    for _ in range(2):
        assert refused(await gift(world, world.alice, "Rosa")) is None
    assert await world.coins(world.alice) == 980
    status = await budget(world, world.alice, "status")
    assert "**🪙 20** of 🪙 15 spent this week (133%), 🪙 0 left." in status.response.embeds[0].description


def test_the_soft_limit_warning_is_for_gifts_past_the_limit_only():
    receipt = GiftReceipt(
        entry_id=1,
        gift=None,  # type: ignore[arg-type]
        count=1,
        coins=10,
        diamonds=5,
        platform_coins=5,
        sender_id=1,
        creator_id=2,
        sender_balance=0,
        created_at=START,
    )
    assert budget_warning(receipt) is None
    warning = budget_warning(dataclasses.replace(receipt, over_budget=True))
    assert warning is not None and "past your spending limit" in warning and "/budget status" in warning


async def test_lowering_is_instant_while_raising_waits_out_the_cooling_off(simcord_env):
    world = await ready(simcord_env)
    await budget(world, world.alice, "set", limit=100, period="week")
    lowered = await budget(world, world.alice, "set", limit=50, period="week")
    assert lowered.response.embeds[0].title == "Spending limit set"

    raised = await budget(world, world.alice, "set", limit=200, period="week")
    takes_effect = START + timedelta(hours=24)
    reply = raised.response.embeds[0]
    assert reply.title == "Cooling-off: this change waits 24 hours"
    assert f"takes effect {stamp(takes_effect, 'F')} ({stamp(takes_effect, 'R')})" in reply.description
    assert "Until then **🪙 50 per week (hard)** stays in force" in reply.description

    await simcord_env.advance_time(23 * HOUR)
    assert "has 50 left" in refused(await gift(world, world.alice, "Rosa", 6))
    status = await budget(world, world.alice, "status")
    assert "🪙 50 per week (hard)" in text(status)
    assert f"**🪙 200 per week (hard)** from {stamp(takes_effect, 'F')}" in text(status)

    await simcord_env.advance_time(1 * HOUR)
    assert refused(await gift(world, world.alice, "Rosa", 6)) is None  # 60 of 200
    status = await budget(world, world.alice, "status")
    assert "**🪙 60** of 🪙 200 spent this week" in status.response.embeds[0].description
    assert "Waiting out the cooling-off" not in text(status)


async def test_a_softer_mode_or_a_longer_period_is_a_raise_too(simcord_env):
    world = await ready(simcord_env)
    await budget(world, world.alice, "set", limit=100, period="day", mode="hard")
    for options in ({"period": "day", "mode": "soft"}, {"period": "week", "mode": "hard"}):
        result = await budget(world, world.alice, "set", limit=100, **options)
        assert result.response.embeds[0].title.startswith("Cooling-off")


async def test_clearing_waits_out_the_cooling_off_and_a_manager_can_change_its_length(simcord_env):
    world = await ready(simcord_env)
    await world.bot.economy.set_config(world.guild.id, "budget_cooling_off", "48", actor_id=world.mod.id)
    await budget(world, world.alice, "set", limit=10, period="day")
    cleared = await budget(world, world.alice, "clear")
    when = START + timedelta(hours=48)
    assert cleared.response.embeds[0].title == "Cooling-off: this change waits 48 hours"
    assert f"Clearing your limit takes effect {stamp(when, 'F')}" in cleared.response.embeds[0].description

    await simcord_env.advance_time(47 * HOUR)
    assert refused(await gift(world, world.alice, "Rosa", 2)) is not None
    await simcord_env.advance_time(HOUR)
    assert refused(await gift(world, world.alice, "Rosa", 2)) is None
    status = await budget(world, world.alice, "status")
    assert status.response.embeds[0].description.startswith("You have no spending limit")
    assert status.response.attachments == []


async def test_a_member_can_tighten_during_a_cooling_off_at_once(simcord_env):
    world = await ready(simcord_env)
    await budget(world, world.alice, "set", limit=100, period="week")
    await budget(world, world.alice, "set", limit=500, period="week")  # waits
    tightened = await budget(world, world.alice, "set", limit=30, period="week")
    assert tightened.response.embeds[0].title == "Spending limit set"
    await simcord_env.advance_time(25 * HOUR)
    assert "has 30 left" in refused(await gift(world, world.alice, "Rosa", 4))


# -- status: the reset time and the chart -----------------------------------------------------------


async def test_status_shows_spending_the_reset_time_and_a_chart_of_the_week(simcord_env):
    world = await ready(simcord_env)
    await budget(world, world.alice, "set", limit=1_000, period="week", mode="hard")
    await gift(world, world.alice, "Doughnut")  # Thursday: 30
    await simcord_env.advance_time(DAY)
    await gift(world, world.alice, "Rosa", 2)  # Friday: 20

    status = await budget(world, world.alice, "status")
    embed = status.response.embeds[0]
    assert embed.title == "Your spending limit"
    assert "**🪙 50** of 🪙 1,000 spent this week (5%), 🪙 950 left." in embed.description
    assert f"Resets {stamp(NEXT_MONDAY, 'F')} ({stamp(NEXT_MONDAY, 'R')})." in embed.description
    assert embed.image.url == "attachment://budget.png"

    (attachment,) = status.response.attachments
    image = Image.open(io.BytesIO(await attachment.read()))
    assert image.format == "PNG" and image.size == (640, 320)
    colours = dict((colour, count) for count, colour in image.convert("RGB").getcolors(1 << 18))
    assert colours.get(SCORE, 0) > 100  # the bars of Thursday and Friday
    assert len(colours) > 10


async def test_status_without_a_limit_says_so_and_lists_the_reminder_settings(simcord_env):
    world = await ready(simcord_env)
    status = await budget(world, world.alice, "status")
    assert "You have no spending limit in this server" in text(status)
    assert "Reminders at: 50%, 80% and 100%" in text(status)
    assert "Timezone: UTC" in text(status)
    assert "Weekly digest: off" in text(status)
    assert "Low-balance reminder: off" in text(status)


async def test_the_servers_default_budget_applies_until_a_member_sets_their_own(simcord_env):
    world = await ready(simcord_env)
    await world.bot.economy.set_config(
        world.guild.id, "default_budget", "20 per day hard", actor_id=world.mod.id
    )
    assert refused(await gift(world, world.alice, "Rosa", 2)) is None
    assert "daily budget of 20 has 0 left" in refused(await gift(world, world.alice, "Rosa"))
    status = await budget(world, world.alice, "status")
    assert "This is the server's default limit" in text(status)
    await budget(world, world.alice, "set", limit=10, period="day")  # lower than the default: instant
    status = await budget(world, world.alice, "status")
    assert "server's default" not in text(status) and "🪙 10 per day (hard)" in text(status)


async def test_the_largest_single_gift_is_capped_by_the_server(simcord_env):
    world = await ready(simcord_env)
    await world.bot.economy.set_config(world.guild.id, "max_gift_coins", "50", actor_id=world.mod.id)
    assert refused(await gift(world, world.alice, "Cap")) == (
        "This server allows gifts of at most 50 coins at once; this one is 99."
    )
    assert await world.coins(world.alice) == 1_000


# -- timezones --------------------------------------------------------------------------------------


async def test_a_daily_limit_resets_at_midnight_in_the_members_timezone(simcord_env):
    world = await ready(simcord_env)
    zone_reply = await budget(world, world.alice, "timezone", name="America/New_York")
    assert "your own timezone, **America/New\\_York**" in zone_reply.response.embeds[0].description
    await budget(world, world.alice, "set", limit=10, period="day")

    # Thursday 00:00 UTC is Wednesday 19:00 in New York: that day ends at 05:00 UTC.
    new_york_midnight = datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert refused(await gift(world, world.alice, "Rosa")) is None
    status = await budget(world, world.alice, "status")
    assert f"Resets {stamp(new_york_midnight, 'F')}" in status.response.embeds[0].description

    await simcord_env.advance_time(5 * HOUR - MINUTE)  # 23:59 in New York
    assert "has 0 left" in refused(await gift(world, world.alice, "Rosa"))
    await simcord_env.advance_time(MINUTE)  # midnight in New York: a new day
    assert refused(await gift(world, world.alice, "Rosa")) is None
    assert await spent(world, world.alice, Period.DAY) == 10

    # Moving zones now would restart the count (in UTC both gifts fall on one day, but a zone
    # where a new day just began would read zero): locked while a limit is in force.
    locked = await budget(world, world.alice, "timezone", name="Pacific/Kiritimati")
    assert "can't move your budget to another timezone" in locked.response.embeds[0].description
    assert await world.bot.storage.member_timezone(guild_id=world.guild.id, user_id=world.alice.id) == (
        "America/New_York"
    )
    assert await spent(world, world.alice, Period.DAY) == 10

    # Clearing waits out the cooling-off; then the timezone may change, and counts follow it.
    await budget(world, world.alice, "clear")
    await simcord_env.advance_time(24 * HOUR)
    back = await budget(world, world.alice, "timezone", name="server")
    assert "the server's, **UTC**" in back.response.embeds[0].description
    assert await world.bot.storage.counter_mismatches() == []


async def test_the_timezone_option_autocompletes(simcord_env):
    world = await ready(simcord_env)
    choices = await world.alice.autocomplete(world.channel, "budget timezone", "name", "tokyo")
    assert [c["value"] for c in choices] == ["Asia/Tokyo"]
    first = await world.alice.autocomplete(world.channel, "budget timezone", "name", "")
    assert first[0]["value"] == "server" and len(first) == 25


# -- bad input --------------------------------------------------------------------------------------


async def test_bad_input_changes_nothing_and_says_why_privately(simcord_env):
    world = await ready(simcord_env)
    await budget(world, world.alice, "set", limit=100, period="week")
    cases = [
        ("reminders", {"thresholds": "fifty"}, "Give reminder thresholds as percents"),
        ("reminders", {"thresholds": "0,50"}, "between 1% and 100%"),
        ("timezone", {"name": "Mars/Olympus"}, "is not a timezone I know"),
        ("lowbalance", {"coins": "lots"}, "Give a number of coins"),
        ("lowbalance", {"coins": "0.5"}, "Give a number of coins"),
    ]
    for sub, options, message in cases:
        result = await budget(world, world.alice, sub, **options)
        assert message in (refused(result) or ""), (sub, options)
    status = await budget(world, world.alice, "status")
    assert "Reminders at: 50%, 80% and 100%" in text(status)
    assert "Timezone: UTC" in text(status) and "Low-balance reminder: off" in text(status)
    assert simcord_env.errors == []


async def test_reminder_settings_are_saved_and_shown(simcord_env):
    world = await ready(simcord_env)
    saved = await budget(world, world.alice, "reminders", thresholds="25, 75%,100")
    assert "reaches 25%, 75% and 100% of your limit" in saved.response.embeds[0].description
    await budget(world, world.alice, "digest", state="on")
    low = await budget(world, world.alice, "lowbalance", coins="1,000")
    assert "below 🪙 1,000" in low.response.embeds[0].description
    status = await budget(world, world.alice, "status")
    assert "Reminders at: 25%, 75% and 100%" in text(status)
    assert "Weekly digest: on" in text(status) and "Low-balance reminder: below 🪙 1,000" in text(status)
    prefs = await world.bot.storage.prefs(guild_id=world.guild.id, user_id=world.alice.id)
    assert prefs.weekly_digest and prefs.low_balance_below == 1_000
    await budget(world, world.alice, "lowbalance", coins="off")
    prefs = await world.bot.storage.prefs(guild_id=world.guild.id, user_id=world.alice.id)
    assert prefs.low_balance_below is None


async def test_a_budget_is_per_server_and_per_member(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.bob, 1_000)
    await budget(world, world.alice, "set", limit=10, period="day")
    assert refused(await gift(world, world.bob, "Rosa", 5)) is None
    assert refused(await gift(world, world.alice, "Rosa", 2)) is not None
    rows = await sql(world, "SELECT user_id, limit_coins FROM budgets WHERE guild_id = ?", world.guild.id)
    assert rows == [(world.alice.id, 10)]
    assert to_millis(simcord_env.now()) == to_millis(START)

"""/leaderboard end to end: boards, periods at their edges in the guild's timezone (DST days
included), paging to the top 100, the caller's private rank, creator boards, and no pings."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import simcord
from discord.ext import commands, tasks

from bot.economy.service import Party
from storage import rollups
from tests.sim import Community, buttons, pings

DAY = 24 * 3600
HOSTILE = "@everyone <@123> **bold**"
NEW_YORK = "America/New_York"
_KEYS = itertools.count()


# -- helpers ------------------------------------------------------------------------------------


async def send(
    world: Community, sender: simcord.MemberActor, creator: simcord.MemberActor, count: int
) -> None:
    """`count` Roses (1 coin each) from sender to creator, through the real /gift command.

    A repeat within the combo window is acknowledged differently; the coins move either way."""
    before = await world.coins(sender)
    result = await sender.slash(world.channel, "gift", creator=creator, gift="Rose", count=count)
    assert await world.coins(sender) == before - count, result.response


def shown_name(actor: simcord.MemberActor) -> str:
    return actor.user.global_name or actor.name


async def seed(
    world: Community, sender: simcord.MemberActor, creator: simcord.MemberActor, coins: int
) -> None:
    """A gift of `coins` Roses straight through the service: for boards that need many gifters
    (the /gift command itself is tested in test_gifting.py)."""
    economy = world.bot.economy
    await world.grant(sender, coins)
    rose = await economy.find_gift(world.guild.id, "Rose")
    await economy.send_gift(
        world.guild.id,
        Party(sender.id, shown_name(sender)),
        Party(creator.id, shown_name(creator)),
        rose,
        coins,
        key=f"seed:{next(_KEYS)}",
    )


def fans(world: Community, count: int) -> list[simcord.MemberActor]:
    return [
        world.guild.add_member(world.env.create_user(f"fan{i}", global_name=f"Fan {i}")) for i in range(count)
    ]


def pause_background_loops(bot: commands.Bot) -> None:
    """Stop the cogs' periodic loops (the once-a-minute announcer) for the rest of a test.

    SimCord steps its clock through every timer, so months of minute ticks would take far too
    long; and they are not what these tests are about."""
    for cog in bot.cogs.values():
        for name in dir(type(cog)):
            if isinstance(getattr(type(cog), name, None), tasks.Loop):
                loop = getattr(cog, name)
                if loop.is_running():
                    loop.cancel()


async def go_to(env: simcord.Env, moment: datetime) -> None:
    """Move SimCord's virtual clock forward to exactly `moment` (UTC)."""
    seconds = (moment - env.now()).total_seconds()
    assert seconds >= 0, (moment, env.now())
    if seconds > 3600:
        pause_background_loops(env.bot)
        await env.settle()
    await env.advance_time(seconds)


async def set_timezone(world: Community, name: str) -> None:
    await world.bot.economy.set_config(world.guild.id, "timezone", name, actor_id=world.mod.id)


async def leaderboard(
    world: Community, caller: simcord.MemberActor | None = None, **options: object
) -> simcord.InteractionResult:
    result = await (caller or world.bob).slash(world.channel, "leaderboard", **options)
    assert not result.ephemeral, result
    return result


def lines(result: simcord.InteractionResult | simcord.ResponseMessage) -> list[str]:
    """The ranked lines of a board (what follows the window description)."""
    message = result.response if isinstance(result, simcord.InteractionResult) else result
    _, ranked = message.embeds[0].description.split("\n\n", 1)
    return ranked.splitlines()


def window_text(result: simcord.InteractionResult) -> str:
    return result.response.embeds[0].description.split("\n\n", 1)[0]


def own_rank(result: simcord.InteractionResult) -> str:
    """The caller's private follow-up."""
    (mine,) = result.followups
    assert mine.ephemeral
    return mine.content


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


# -- ranks and boards ---------------------------------------------------------------------------


async def test_gifters_and_creators_boards_rank_by_coins(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    for member in (world.alice, world.bob, world.mod, world.carol):
        await world.grant(member, 1_000)
    await send(world, world.alice, world.carol, 30)
    await send(world, world.bob, world.dave, 50)
    await send(world, world.alice, world.dave, 25)  # alice: 55 sent in all
    await send(world, world.mod, world.carol, 5)
    await send(world, world.carol, world.dave, 1)  # a creator may gift too

    gifters = await leaderboard(world, period="all")
    creators = await leaderboard(world, board="creators", period="all")

    assert gifters.response.embeds[0].title == "🏆 Leaderboard · gifters (coins sent) · all time"
    assert window_text(gifters) == "Every gift ever sent in this server."
    assert lines(gifters) == [
        "`#1` Alice · 🪙 55",
        "`#2` Bob · 🪙 50",
        "`#3` Mona the Mod · 🪙 5",
        "`#4` Carol · 🪙 1",
    ]
    assert own_rank(gifters) == "You're #2 with 🪙 50 sent in all."
    assert creators.response.embeds[0].title == "🏆 Leaderboard · creators (coins received) · all time"
    assert lines(creators) == ["`#1` Dave · 🪙 76", "`#2` Carol · 🪙 35"]
    assert own_rank(creators) == "You haven't received any gifts yet."
    assert creators.response.embeds[0].footer.text == "Page 1 of 1 · 2 ranked"
    assert not creators.response.components  # one page: no buttons


async def test_defaults_are_the_gifters_of_this_week(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 10)
    await send(world, world.alice, world.carol, 4)

    result = await leaderboard(world)

    assert result.response.embeds[0].title == "🏆 Leaderboard · gifters (coins sent) · this week"
    # Thursday 2026-01-01: the week began on Monday 2025-12-29 and ends on Sunday 2026-01-04.
    monday, sunday_last = datetime(2025, 12, 29, tzinfo=UTC), datetime(2026, 1, 4, 23, 59, 59, tzinfo=UTC)
    next_monday = datetime(2026, 1, 5, tzinfo=UTC)
    assert window_text(result) == (
        f"Week from <t:{ts(monday)}:D> to <t:{ts(sunday_last)}:D> · resets <t:{ts(next_monday)}:R>"
    )
    assert lines(result) == ["`#1` Alice · 🪙 4"]
    assert own_rank(result) == "You haven't sent any gifts this week."


async def test_top_ten_in_public_and_the_callers_rank_outside_it_in_private(simcord_env):
    world = Community.build(simcord_env)
    members = fans(world, 12)
    await world.make_creators(world.carol)
    for index, member in enumerate(members):
        await world.grant(member, 500)
        await send(world, member, world.carol, 100 + index)  # below the 1,000-coin confirmation
    await world.grant(world.bob, 1_000)
    await send(world, world.bob, world.carol, 57)

    result = await leaderboard(world, period="all")

    ranked = lines(result)
    assert len(ranked) == 10
    assert ranked[0] == "`#1` Fan 11 · 🪙 111"
    assert ranked[-1] == "`#10` Fan 2 · 🪙 102"
    assert not any("Bob" in line for line in ranked)
    assert result.response.embeds[0].footer.text == "Page 1 of 2 · 13 ranked"
    assert own_rank(result) == "You're #13 with 🪙 57 sent in all."
    creators = await leaderboard(world, board="creators", period="all")
    assert lines(creators) == ["`#1` Carol · 🪙 1,323"]  # thousands separators


async def test_the_callers_rank_inside_the_top_ten_is_also_told_privately(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await world.grant(world.bob, 100)
    await send(world, world.alice, world.carol, 9)
    await send(world, world.bob, world.dave, 3)

    result = await leaderboard(world, world.alice, period="day")

    assert lines(result) == ["`#1` Alice · 🪙 9", "`#2` Bob · 🪙 3"]
    assert own_rank(result) == "You're #1 with 🪙 9 sent today."


async def test_ties_go_to_whoever_reached_the_score_first(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    for member in (world.alice, world.bob, world.mod):
        await world.grant(member, 100)
    await send(world, world.bob, world.carol, 10)  # bob reaches 10 first
    await send(world, world.alice, world.dave, 4)
    await send(world, world.mod, world.dave, 10)  # mod reaches 10 second
    await send(world, world.alice, world.dave, 6)  # alice reaches 10 last
    # Carol has 10 received from the first gift; Dave reaches 10 with mod's gift, after Carol.

    gifters = await leaderboard(world, world.alice, period="all")
    creators = await leaderboard(world, board="creators", period="all")

    assert lines(gifters) == ["`#1` Bob · 🪙 10", "`#2` Mona the Mod · 🪙 10", "`#3` Alice · 🪙 10"]
    assert own_rank(gifters) == "You're #3 with 🪙 10 sent in all."
    assert lines(creators) == ["`#1` Dave · 🪙 20", "`#2` Carol · 🪙 10"]


async def test_paging_goes_to_the_top_hundred_and_no_further(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators(world.carol)
    members = fans(world, 105)
    for index, member in enumerate(members):
        await seed(world, member, world.carol, 200 - index)  # Fan 0 leads with 200, Fan 104 has 96
    last = members[-1]

    result = await leaderboard(world, last, period="week")

    first = result.response
    assert lines(first)[0] == "`#1` Fan 0 · 🪙 200"
    assert first.embeds[0].footer.text == "Page 1 of 10 · top 100 shown"
    assert own_rank(result) == "You're #105 with 🪙 96 sent this week."
    assert buttons(first)["◀ Previous"].get("disabled")
    seen = lines(first)
    page = first
    for number in range(2, 11):
        page = (await last.click(page, label="Next ▶")).response
        assert page.id == first.id  # the same public message, edited
        assert page.embeds[0].footer.text == f"Page {number} of 10 · top 100 shown"
        seen += lines(page)
    assert buttons(page)["Next ▶"].get("disabled")
    assert [line.split(" ", 1)[0] for line in seen] == [f"`#{n}`" for n in range(1, 101)]
    assert seen[-1] == "`#100` Fan 99 · 🪙 101"
    back = (await last.click(page, label="◀ Previous")).response
    assert back.embeds[0].footer.text == "Page 9 of 10 · top 100 shown"
    assert lines(back)[0] == "`#81` Fan 80 · 🪙 120"
    assert pings(simcord_env, back).nobody

    await simcord_env.advance_time(181)  # the buttons retire; the board stays as it was

    assert all(button.get("disabled") for button in buttons(first).values())
    assert lines(first)[0] == "`#81` Fan 80 · 🪙 120"
    assert pings(simcord_env, first).nobody


async def test_empty_board_says_so(simcord_env):
    world = Community.build(simcord_env)

    result = await leaderboard(world, period="day")

    assert result.response.embeds[0].title == "🏆 Leaderboard · gifters (coins sent) · today"
    assert lines(result) == ["No gifts today yet. Be the first with /gift!"]
    assert result.response.embeds[0].footer.text == "Page 1 of 1 · 0 ranked"
    assert own_rank(result) == "You haven't sent any gifts today."


# -- one creator's gifters ----------------------------------------------------------------------


async def carols_first_gifters(world: Community) -> None:
    """Carol and Dave become creators; Alice sends Carol 5 Roses and Bob 8; Mod has coins too."""
    await world.make_creators()
    for member in (world.alice, world.bob, world.mod):
        await world.grant(member, 1_000)
    await send(world, world.alice, world.carol, 5)
    await send(world, world.bob, world.carol, 8)


async def test_creator_option_ranks_that_creators_gifters(simcord_env):
    world = Community.build(simcord_env)
    await carols_first_gifters(world)
    await send(world, world.alice, world.dave, 100)  # to dave: not on carol's board
    await send(world, world.mod, world.dave, 1)

    result = await leaderboard(world, world.alice, creator=world.carol)
    nothing = await leaderboard(world, world.mod, creator=world.carol, period="all")

    assert result.response.embeds[0].title == "🏆 Leaderboard · Carol's gifters · this week"
    assert lines(result) == ["`#1` Bob · 🪙 8", "`#2` Alice · 🪙 5"]
    assert own_rank(result) == "You're #2 among Carol's gifters with 🪙 5 sent this week."
    assert own_rank(nothing) == "You haven't sent Carol any gifts yet."


async def test_a_creators_gifters_read_the_same_once_the_creator_is_ranked(simcord_env, monkeypatch):
    """From the creator's RANK_FROM-th gift on, their board is read from the rank indexes
    (schema 7) instead of sorted: the member sees the same board either way."""
    monkeypatch.setattr(rollups, "RANK_FROM", 3)
    world = Community.build(simcord_env)
    await carols_first_gifters(world)
    sorted_board = await leaderboard(world, world.alice, creator=world.carol, period="all")
    await send(world, world.mod, world.carol, 1)  # carol's 3rd gift: ranked from here on
    ranked_board = await leaderboard(world, world.alice, creator=world.carol, period="all")
    await send(world, world.alice, world.carol, 4)
    later = await leaderboard(world, world.alice, creator=world.carol, period="all")

    assert lines(sorted_board) == ["`#1` Bob · 🪙 8", "`#2` Alice · 🪙 5"]
    assert lines(ranked_board) == ["`#1` Bob · 🪙 8", "`#2` Alice · 🪙 5", "`#3` Mona the Mod · 🪙 1"]
    assert lines(later) == ["`#1` Alice · 🪙 9", "`#2` Bob · 🪙 8", "`#3` Mona the Mod · 🪙 1"]
    assert own_rank(later) == "You're #1 among Carol's gifters with 🪙 9 sent in all."


async def test_creator_option_refuses_a_member_who_is_not_a_creator_privately(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators(world.carol)
    before = [m.id for m in world.channel.history(viewer=world.dave)]

    refused = await world.bob.slash(world.channel, "leaderboard", creator=world.alice)
    robot = await world.bob.slash(world.channel, "leaderboard", creator=world.robot)
    clash = await world.bob.slash(world.channel, "leaderboard", board="creators", creator=world.carol)

    assert refused.ephemeral and robot.ephemeral and clash.ephemeral
    assert refused.response.embeds[0].description == (
        "Alice is not a creator here, so they can't receive gifts."
    )
    assert "is not a creator here" in robot.response.embeds[0].description
    assert "`creator:` ranks the gifters of one creator" in clash.response.embeds[0].description
    assert [m.id for m in world.channel.history(viewer=world.dave)] == before  # nothing public


# -- periods at their edges ---------------------------------------------------------------------


async def test_day_turns_over_at_midnight(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await go_to(simcord_env, datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC))
    await send(world, world.alice, world.carol, 3)

    before = await leaderboard(world, period="day")
    await simcord_env.advance_time(1)  # 2026-01-02 00:00 UTC
    after = await leaderboard(world, period="day")
    await send(world, world.alice, world.carol, 2)
    next_day = await leaderboard(world, period="day")

    assert lines(before) == ["`#1` Alice · 🪙 3"]
    assert lines(after) == ["No gifts today yet. Be the first with /gift!"]
    assert lines(next_day) == ["`#1` Alice · 🪙 2"]
    midnight = datetime(2026, 1, 2, tzinfo=UTC)
    assert window_text(after) == f"<t:{ts(midnight)}:D> · resets <t:{ts(midnight) + DAY}:R>"


async def test_week_turns_over_on_monday_at_midnight(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await world.grant(world.bob, 100)
    await send(world, world.alice, world.carol, 40)  # Thursday 2026-01-01
    await go_to(simcord_env, datetime(2026, 1, 4, 23, 59, 59, tzinfo=UTC))  # Sunday, last second
    await send(world, world.bob, world.dave, 7)

    sunday = await leaderboard(world)
    await simcord_env.advance_time(1)  # Monday 2026-01-05 00:00 UTC: a new week
    monday = await leaderboard(world)
    await send(world, world.bob, world.dave, 1)
    monday_later = await leaderboard(world)
    everything = await leaderboard(world, period="all")

    assert lines(sunday) == ["`#1` Alice · 🪙 40", "`#2` Bob · 🪙 7"]
    assert lines(monday) == ["No gifts this week yet. Be the first with /gift!"]
    assert window_text(monday).startswith(f"Week from <t:{ts(simcord_env.now())}:D>")
    assert lines(monday_later) == ["`#1` Bob · 🪙 1"]
    assert lines(everything) == ["`#1` Alice · 🪙 40", "`#2` Bob · 🪙 8"]


async def test_month_and_year_turn_over_at_their_first_midnight(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await send(world, world.alice, world.carol, 3)  # 2026-01-01
    await go_to(simcord_env, datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC))
    await send(world, world.alice, world.carol, 2)

    january = await leaderboard(world, period="month")
    await simcord_env.advance_time(1)
    february = await leaderboard(world, period="month")
    year = await leaderboard(world, period="year")

    assert lines(january) == ["`#1` Alice · 🪙 5"]
    assert lines(february) == ["No gifts this month yet. Be the first with /gift!"]
    assert lines(year) == ["`#1` Alice · 🪙 5"]


async def test_periods_follow_the_guilds_timezone(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await set_timezone(world, NEW_YORK)
    # 04:59 UTC on 2026-01-01 is 23:59 on Wednesday 2025-12-31 in New York (UTC-5).
    await go_to(simcord_env, datetime(2026, 1, 1, 4, 59, tzinfo=UTC))
    await send(world, world.alice, world.carol, 6)

    new_years_eve = {p: await leaderboard(world, period=p) for p in ("day", "month", "year")}
    await go_to(simcord_env, datetime(2026, 1, 1, 5, 0, tzinfo=UTC))  # midnight in New York
    new_year = {p: await leaderboard(world, period=p) for p in ("day", "week", "month", "year")}

    for result in new_years_eve.values():
        assert lines(result) == ["`#1` Alice · 🪙 6"]
    for period in ("day", "month", "year"):
        assert lines(new_year[period])[0].startswith("No gifts"), period
    assert lines(new_year["week"]) == ["`#1` Alice · 🪙 6"]  # the week began Monday 2025-12-29
    ny_midnight = datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert window_text(new_year["day"]) == f"<t:{ts(ny_midnight)}:D> · resets <t:{ts(ny_midnight) + DAY}:R>"


async def test_changing_the_timezone_rebuckets_past_gifts(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await go_to(simcord_env, datetime(2026, 1, 1, 3, tzinfo=UTC))  # 22:00 on Dec 31 in New York
    await send(world, world.alice, world.carol, 4)
    await go_to(simcord_env, datetime(2026, 1, 1, 6, tzinfo=UTC))  # 01:00 on Jan 1 in New York

    in_utc = await leaderboard(world, period="day")
    await set_timezone(world, NEW_YORK)
    in_new_york = await leaderboard(world, period="day")
    await set_timezone(world, "UTC")
    back_in_utc = await leaderboard(world, period="day")

    assert lines(in_utc) == lines(back_in_utc) == ["`#1` Alice · 🪙 4"]
    assert lines(in_new_york) == ["No gifts today yet. Be the first with /gift!"]


async def test_a_monday_in_new_york_starts_four_hours_after_utcs(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await set_timezone(world, NEW_YORK)
    # Monday 2026-03-09 03:30 UTC is still Sunday 23:30 in New York (daylight time, UTC-4).
    await go_to(simcord_env, datetime(2026, 3, 9, 3, 30, tzinfo=UTC))
    await send(world, world.alice, world.carol, 9)

    sunday_night = await leaderboard(world)
    await go_to(simcord_env, datetime(2026, 3, 9, 4, 0, tzinfo=UTC))  # Monday 00:00 in New York
    monday = await leaderboard(world)
    await set_timezone(world, "UTC")
    monday_in_utc = await leaderboard(world)

    assert lines(sunday_night) == ["`#1` Alice · 🪙 9"]
    assert lines(monday) == ["No gifts this week yet. Be the first with /gift!"]
    assert window_text(monday).startswith(f"Week from <t:{ts(simcord_env.now())}:D>")
    assert lines(monday_in_utc) == ["`#1` Alice · 🪙 9"]  # in UTC the gift was already Monday


async def test_the_spring_forward_day_is_twenty_three_hours_long(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await world.grant(world.bob, 100)
    await set_timezone(world, NEW_YORK)
    # 2026-03-08 in New York: from 05:00 UTC (00:00 EST) to 04:00 UTC next day (00:00 EDT).
    await go_to(simcord_env, datetime(2026, 3, 8, 4, 59, 59, tzinfo=UTC))
    await send(world, world.bob, world.dave, 50)  # Saturday night
    await simcord_env.advance_time(1)
    await send(world, world.alice, world.carol, 1)  # the day's first second
    await go_to(simcord_env, datetime(2026, 3, 9, 3, 59, 59, tzinfo=UTC))
    await send(world, world.alice, world.carol, 2)  # the day's last second, 23 hours later

    whole_day = await leaderboard(world, period="day")
    await simcord_env.advance_time(1)
    next_day = await leaderboard(world, period="day")

    assert lines(whole_day) == ["`#1` Alice · 🪙 3"]
    start, end = datetime(2026, 3, 8, 5, tzinfo=UTC), datetime(2026, 3, 9, 4, tzinfo=UTC)
    assert window_text(whole_day) == f"<t:{ts(start)}:D> · resets <t:{ts(end)}:R>"
    assert ts(end) - ts(start) == 23 * 3600
    assert lines(next_day) == ["No gifts today yet. Be the first with /gift!"]


async def test_the_fall_back_day_is_twenty_five_hours_long(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await world.grant(world.bob, 100)
    await set_timezone(world, NEW_YORK)
    # 2026-11-01 in New York: from 04:00 UTC (00:00 EDT) to 05:00 UTC next day (00:00 EST).
    await go_to(simcord_env, datetime(2026, 11, 1, 3, 59, 59, tzinfo=UTC))
    await send(world, world.bob, world.dave, 50)  # Halloween night
    await simcord_env.advance_time(1)
    await send(world, world.alice, world.carol, 1)
    await go_to(simcord_env, datetime(2026, 11, 2, 4, 59, 59, tzinfo=UTC))
    await send(world, world.alice, world.carol, 2)  # 23:59:59 EST, 25 hours after midnight

    whole_day = await leaderboard(world, period="day")
    await simcord_env.advance_time(1)
    next_day = await leaderboard(world, period="day")
    month = await leaderboard(world, period="month")

    assert lines(whole_day) == ["`#1` Alice · 🪙 3"]
    start, end = datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 2, 5, tzinfo=UTC)
    assert window_text(whole_day) == f"<t:{ts(start)}:D> · resets <t:{ts(end)}:R>"
    assert ts(end) - ts(start) == 25 * 3600
    assert lines(next_day) == ["No gifts today yet. Be the first with /gift!"]
    assert lines(month) == ["`#1` Alice · 🪙 3"]  # bob's gift was in October


# -- public, safe, and remembered -----------------------------------------------------------------


async def test_board_is_public_and_pings_nobody_even_with_hostile_names(simcord_env):
    world = Community.build(simcord_env)
    troll = world.guild.add_member(simcord_env.create_user("troll", global_name=HOSTILE))
    impostor = world.guild.add_member(simcord_env.create_user("imp", global_name=f"<@{world.alice.id}>"))
    await world.make_creators(world.carol, impostor)
    await world.grant(troll, 100)
    await world.grant(world.alice, 100)
    await send(world, troll, world.carol, 9)
    await send(world, world.alice, impostor, 8)

    gifters = await leaderboard(world, troll, period="all")
    creators = await leaderboard(world, troll, board="creators", period="all")
    supporters = await leaderboard(world, world.alice, creator=impostor)

    for result in (gifters, creators, supporters):
        assert not result.ephemeral
        assert result.response.embeds[0].colour.value == 0x9B59B6
        assert pings(simcord_env, result.response).nobody
        assert pings(simcord_env, result.followups[0]).nobody
        assert not result.response.content  # the board itself is an embed
    assert lines(gifters)[0] == "`#1` @\u200beveryone <@123> \\*\\*bold\\*\\* · 🪙 9"
    assert own_rank(gifters) == "You're #1 with 🪙 9 sent in all."
    assert lines(creators)[1] == f"`#2` <@\u200b{world.alice.id}> · 🪙 8"
    assert (
        supporters.response.embeds[0].title
        == f"🏆 Leaderboard · <@\u200b{world.alice.id}>'s gifters · this week"
    )
    assert own_rank(supporters) == (
        f"You're #1 among <@\u200b{world.alice.id}>'s gifters with 🪙 8 sent this week."
    )


async def test_a_member_who_left_still_shows_by_name(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await send(world, world.alice, world.carol, 12)
    world.guild.remove_member(world.alice)
    world.guild.remove_member(world.carol)
    await simcord_env.settle()

    gifters = await leaderboard(world, period="all")
    creators = await leaderboard(world, board="creators", period="all")

    assert lines(gifters) == ["`#1` Alice · 🪙 12"]
    assert lines(creators) == ["`#1` Carol · 🪙 12"]

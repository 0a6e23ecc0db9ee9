"""/leaderboard end to end: ranks, ties, periods, public and ping-free, departed members."""

from __future__ import annotations

import discord
import simcord

from tests.sim import Community, pings

DAY = 24 * 3600
HOSTILE = "@everyone <@123> **bold**"


async def send(
    world: Community, sender: simcord.MemberActor, creator: simcord.MemberActor, count: int
) -> None:
    """`count` Roses (1 coin each) from sender to creator, through the real /gift command."""
    result = await sender.slash(world.channel, "gift", creator=creator, gift="Rose", count=count)
    assert not result.ephemeral, result.response.embeds[0].description if result.response else result


def board(result: simcord.InteractionResult) -> tuple[discord.Embed, list[str], list[str]]:
    """The embed, and the gifters' and creators' lines."""
    embed = result.response.embeds[0]
    gifters, creators = embed.fields
    return embed, gifters.value.splitlines(), creators.value.splitlines()


async def leaderboard(world: Community, period: str | None = None) -> simcord.InteractionResult:
    options = {} if period is None else {"period": period}
    return await world.bob.slash(world.channel, "leaderboard", **options)


async def test_ranks_and_scores_all_time(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    for member in (world.alice, world.bob, world.mod, world.carol):
        await world.grant(member, 1_000)
    await send(world, world.alice, world.carol, 30)
    await send(world, world.bob, world.dave, 50)
    await send(world, world.alice, world.dave, 25)  # alice: 55 sent in all
    await send(world, world.mod, world.carol, 5)
    await send(world, world.carol, world.dave, 1)  # a creator may gift too

    result = await leaderboard(world, "all")

    embed, gifters, creators = board(result)
    assert embed.title == "🏆 Leaderboard · all time"
    assert gifters == [
        "`#1` Alice · 🪙 55",
        "`#2` Bob · 🪙 50",
        "`#3` Mona the Mod · 🪙 5",
        "`#4` Carol · 🪙 1",
    ]
    assert creators == ["`#1` Dave · 🪙 76", "`#2` Carol · 🪙 35"]


async def test_only_the_top_ten_are_listed_with_thousands_separators(simcord_env):
    world = Community.build(simcord_env)
    members = [
        world.guild.add_member(simcord_env.create_user(f"fan{i}", global_name=f"Fan {i}")) for i in range(12)
    ]
    await world.make_creators(world.carol)
    for index, member in enumerate(members):
        await world.grant(member, 500)
        await send(world, member, world.carol, 100 + index)  # below the 1,000-coin confirmation
    result = await leaderboard(world, "all")
    _, gifters, creators = board(result)
    assert len(gifters) == 10
    assert gifters[0] == "`#1` Fan 11 · 🪙 111"
    assert gifters[-1] == "`#10` Fan 2 · 🪙 102"
    assert creators == ["`#1` Carol · 🪙 1,266"]


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

    _, gifters, creators = board(await leaderboard(world, "all"))

    assert gifters == ["`#1` Bob · 🪙 10", "`#2` Mona the Mod · 🪙 10", "`#3` Alice · 🪙 10"]
    assert creators == ["`#1` Dave · 🪙 20", "`#2` Carol · 🪙 10"]


async def test_week_excludes_last_weeks_gifts_but_all_time_keeps_them(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await world.grant(world.bob, 100)
    # Thursday 2026-01-01: this week began on Monday 2025-12-29.
    await send(world, world.alice, world.carol, 40)
    await simcord_env.advance_time(4 * DAY)  # Monday 2026-01-05 00:00 UTC: a new week
    await send(world, world.bob, world.dave, 7)

    week = await leaderboard(world)  # week is the default
    everything = await leaderboard(world, "all")

    embed, gifters, creators = board(week)
    assert embed.title == "🏆 Leaderboard · this week"
    monday = int(simcord_env.now().timestamp())
    assert embed.description.startswith(f"Week from <t:{monday}:D>")
    assert gifters == ["`#1` Bob · 🪙 7"]
    assert creators == ["`#1` Dave · 🪙 7"]
    _, gifters, creators = board(everything)
    assert gifters == ["`#1` Alice · 🪙 40", "`#2` Bob · 🪙 7"]
    assert creators == ["`#1` Carol · 🪙 40", "`#2` Dave · 🪙 7"]


async def test_day_month_and_year_windows(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await send(world, world.alice, world.carol, 3)  # 2026-01-01
    await simcord_env.advance_time(DAY)
    await send(world, world.alice, world.carol, 2)  # 2026-01-02

    _, today, _ = board(await leaderboard(world, "day"))
    _, month, _ = board(await leaderboard(world, "month"))
    _, year, _ = board(await leaderboard(world, "year"))

    assert today == ["`#1` Alice · 🪙 2"]
    assert month == year == ["`#1` Alice · 🪙 5"]


async def test_empty_board_says_so(simcord_env):
    world = Community.build(simcord_env)

    result = await leaderboard(world, "day")

    embed, gifters, creators = board(result)
    assert embed.title == "🏆 Leaderboard · today"
    assert "No gifts today yet" in embed.description
    assert gifters == creators == ["Nobody yet."]


async def test_board_is_public_and_pings_nobody_even_with_hostile_names(simcord_env):
    world = Community.build(simcord_env)
    troll = world.guild.add_member(simcord_env.create_user("troll", global_name=HOSTILE))
    impostor = world.guild.add_member(simcord_env.create_user("imp", global_name=f"<@{world.alice.id}>"))
    await world.make_creators(world.carol, impostor)
    await world.grant(troll, 100)
    await world.grant(world.alice, 100)
    await send(world, troll, world.carol, 9)
    await send(world, world.alice, impostor, 8)

    result = await leaderboard(world, "all")

    assert not result.ephemeral
    assert result.response.embeds[0].colour == discord.Colour(0x9B59B6)
    assert pings(simcord_env, result.response).nobody
    _, gifters, creators = board(result)
    assert gifters[0] == "`#1` @\u200beveryone <@123> \\*\\*bold\\*\\* · 🪙 9"
    assert creators[1] == f"`#2` <@\u200b{world.alice.id}> · 🪙 8"


async def test_a_member_who_left_still_shows_by_name(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await send(world, world.alice, world.carol, 12)
    world.guild.remove_member(world.alice)
    world.guild.remove_member(world.carol)
    await simcord_env.settle()

    _, gifters, creators = board(await leaderboard(world, "all"))

    assert gifters == ["`#1` Alice · 🪙 12"]
    assert creators == ["`#1` Carol · 🪙 12"]

"""/privacy end to end: a member leaves the public boards (ranks close up behind them), still
sees their own rank privately, and comes back when they opt in again."""

from __future__ import annotations

import simcord

from tests.e2e.test_leaderboard import leaderboard, lines, own_rank, send
from tests.sim import Community, pings

HIDDEN_NOTE = (
    "\nYou're hidden from the public boards, so only you see this rank. "
    "`/privacy leaderboards:show` puts you back."
)


async def privacy(world: Community, member: simcord.MemberActor, choice: str | None = None) -> str:
    options = {} if choice is None else {"leaderboards": choice}
    result = await member.slash(world.channel, "privacy", **options)
    assert result.ephemeral
    assert pings(world.env, result.response).nobody
    (embed,) = result.response.embeds
    return f"{embed.title}\n{embed.description}"


async def three_gifters(world: Community) -> None:
    await world.make_creators()
    for member, coins in ((world.alice, 30), (world.bob, 20), (world.mod, 10)):
        await world.grant(member, 100)
        await send(world, member, world.carol, coins)


async def test_privacy_explains_privately_what_it_does(simcord_env):
    world = Community.build(simcord_env)

    status = await privacy(world, world.alice)
    hidden = await privacy(world, world.alice, "hide")
    still = await privacy(world, world.alice)
    shown = await privacy(world, world.alice, "show")

    assert status.startswith("Your leaderboard privacy\nYou're **shown** on the public leaderboards")
    assert hidden.startswith("Done: you're off the public boards\nYou're **hidden** from the public")
    assert "still tells you your own rank, privately" in hidden
    assert still.startswith("Your leaderboard privacy\nYou're **hidden**")
    assert shown.startswith("Done: you're back on the boards\nYou're **shown**")


async def test_a_hidden_member_leaves_the_public_board_and_ranks_close_up(simcord_env):
    world = Community.build(simcord_env)
    await three_gifters(world)

    await privacy(world, world.alice, "hide")
    public = await leaderboard(world, world.bob)
    mine = await leaderboard(world, world.alice)

    assert lines(public) == ["`#1` Bob · 🪙 20", "`#2` Mona the Mod · 🪙 10"]
    assert own_rank(public) == "You're #1 with 🪙 20 sent this week."
    assert not any("Alice" in line for line in lines(mine))  # not even on her own public board
    assert own_rank(mine) == "You're #1 with 🪙 30 sent this week." + HIDDEN_NOTE
    assert mine.response.embeds[0].footer.text == "Page 1 of 1 · 2 ranked"


async def test_a_hidden_members_gifts_still_count_for_the_creator(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)

    await privacy(world, world.alice, "hide")  # before her first gift: the choice is kept
    await send(world, world.alice, world.carol, 30)
    creators = await leaderboard(world, board="creators")
    gifters = await leaderboard(world, world.alice)

    assert lines(creators) == ["`#1` Carol · 🪙 30"]
    assert lines(gifters) == ["No gifts this week yet. Be the first with /gift!"]
    assert own_rank(gifters) == "You're #1 with 🪙 30 sent this week." + HIDDEN_NOTE
    assert await world.coins(world.alice) == 70


async def test_opting_back_in_restores_the_public_rank(simcord_env):
    world = Community.build(simcord_env)
    await three_gifters(world)
    await privacy(world, world.alice, "hide")

    await privacy(world, world.alice, "show")
    public = await leaderboard(world, world.bob)
    mine = await leaderboard(world, world.alice)

    assert lines(public) == ["`#1` Alice · 🪙 30", "`#2` Bob · 🪙 20", "`#3` Mona the Mod · 🪙 10"]
    assert own_rank(public) == "You're #2 with 🪙 20 sent this week."
    assert own_rank(mine) == "You're #1 with 🪙 30 sent this week."


async def test_hidden_gifters_leave_a_creators_board_and_hidden_creators_leave_theirs(simcord_env):
    world = Community.build(simcord_env)
    await three_gifters(world)
    await world.grant(world.bob, 100)
    await send(world, world.bob, world.dave, 5)

    await privacy(world, world.bob, "hide")
    carols_gifters = await leaderboard(world, world.bob, creator=world.carol)
    await privacy(world, world.carol, "hide")
    creators = await leaderboard(world, world.alice, board="creators")
    refused = await world.alice.slash(world.channel, "leaderboard", creator=world.carol)
    her_own = await leaderboard(world, world.carol, creator=world.carol)

    assert lines(carols_gifters) == ["`#1` Alice · 🪙 30", "`#2` Mona the Mod · 🪙 10"]
    assert own_rank(carols_gifters) == (
        "You're #2 among Carol's gifters with 🪙 20 sent this week." + HIDDEN_NOTE
    )
    assert lines(creators) == ["`#1` Dave · 🪙 5"]
    assert refused.ephemeral
    assert refused.response.embeds[0].description == (
        "Carol has chosen not to appear on public leaderboards."
    )
    assert lines(her_own) == lines(carols_gifters)  # she may still show her own gifters

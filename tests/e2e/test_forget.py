"""After `giftbot forget`, members see a forgotten member where the person was, and nobody is pinged
on their behalf; the books still balance."""

from __future__ import annotations

from storage.forget import FORGOTTEN_NAME, forget
from tests.sim import Community, pings


async def forgotten_alice(env) -> tuple[Community, int]:
    world = Community.build(env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await world.grant(world.bob, 100)
    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=30)
    await world.bob.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=20)
    done = await forget(world.bot.storage, guild_id=world.guild.id, user_id=world.alice.id, at=env.now())
    assert done.tombstone is not None
    return world, done.tombstone


async def test_the_leaderboard_keeps_the_rank_under_a_forgotten_name(simcord_env):
    world, _ = await forgotten_alice(simcord_env)

    board = await world.bob.slash(world.channel, "leaderboard", period="all")

    ranked = board.response.embeds[0].description.split("\n\n", 1)[1].splitlines()
    assert ranked == [f"`#1` {FORGOTTEN_NAME} · 🪙 30", "`#2` Bob · 🪙 20"]
    assert pings(simcord_env, board.response).nobody
    await world.assert_books_balance()


async def test_an_announcement_lists_a_forgotten_gifter_but_pings_only_real_members(simcord_env):
    world, tombstone = await forgotten_alice(simcord_env)

    await world.carol.slash(world.channel, "creator announce", top=3)

    message = world.channel.last_message
    assert message is not None and message.embeds[0].title.startswith("🏆")
    assert pings(simcord_env, message).users == {world.bob.id}
    assert f"<@{tombstone}>" not in message.content and str(tombstone) not in message.content
    assert FORGOTTEN_NAME in message.embeds[0].description


async def test_history_and_balance_after_forgetting(simcord_env):
    world, _ = await forgotten_alice(simcord_env)

    carol = await world.carol.slash(world.channel, "history")
    alice = await world.alice.slash(world.channel, "balance")

    (embed,) = carol.response.embeds
    received = [field.value for field in embed.fields]
    assert any(value.startswith("Received 🌹 Rose ×30 from a forgotten member") for value in received)
    assert any(value.startswith(f"Received 🌹 Rose ×20 from <@{world.bob.id}>") for value in received)
    assert alice.response.embeds[0].fields[0].value == "🪙 0"  # a fresh start, nothing carried over
    await world.assert_books_balance()

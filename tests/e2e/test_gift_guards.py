"""/gift honours the age gate and tells the sender alone when a soft budget is passed."""

from __future__ import annotations

from bot.age_gate import BUTTON_LABEL
from tests.sim import Community, pings


async def ready(env) -> Community:
    world = Community.build(env)
    await world.make_creators()
    await world.grant(world.alice, 1_000)
    return world


async def test_the_age_gate_holds_the_first_gift_until_the_member_confirms(simcord_env):
    world = await ready(simcord_env)
    await world.bot.economy.set_config(world.guild.id, "age_gate", "on", actor_id=world.mod.id)

    held = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    assert held.ephemeral and pings(simcord_env, held.response).nobody
    assert await world.coins(world.alice) == 1_000  # nothing moved
    assert await world.bot.budgets.age_confirmed(world.guild.id, world.alice.id) is None

    await world.alice.click(held.response, label=BUTTON_LABEL)
    assert await world.bot.budgets.age_confirmed(world.guild.id, world.alice.id) == simcord_env.now()

    sent = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    assert not sent.ephemeral and sent.response.embeds[0].title == "🌹 Rose x1"
    assert await world.coins(world.alice) == 999


async def test_with_the_gate_off_nobody_is_asked(simcord_env):
    world = await ready(simcord_env)
    sent = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    assert not sent.ephemeral
    assert await world.bot.budgets.age_confirmed(world.guild.id, world.alice.id) is None


async def test_passing_a_soft_budget_warns_the_sender_privately_and_the_gift_goes_through(simcord_env):
    world = await ready(simcord_env)
    await world.alice.slash(world.channel, "budget set", limit=10, period="day", mode="soft")

    first = await world.alice.slash(
        world.channel, "gift", creator=world.carol, gift="Rosa"
    )  # 10: at the limit
    assert not first.ephemeral and first.followups == []
    second = await world.alice.slash(world.channel, "gift", creator=world.dave, gift="Rosa")  # 20: past it
    assert not second.ephemeral and second.response.embeds[0].title == "🥀 Rosa x1"
    [warning] = second.followups
    assert warning.ephemeral and "past your spending limit" in warning.content
    assert pings(simcord_env, warning).nobody
    assert await world.coins(world.alice) == 980
    await world.assert_books_balance()

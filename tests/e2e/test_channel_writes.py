"""One write budget per channel, whoever writes: combo edits and announcements share it."""

from __future__ import annotations

from tests.sim import Community, message_writes, most_writes_in_any, race, stamp_requests


async def test_an_announcement_in_a_busy_gift_channel_keeps_it_within_5_writes_per_5_seconds(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    for member in (world.alice, world.bob, world.mod):
        await world.grant(member, 1_000)
    await world.bot.economy.set_config(world.guild.id, "combo_window", "2", actor_id=world.mod.id)
    await race(simcord_env, world.alice, world.channel, "gift", 1, creator=world.carol, gift="Rose")
    stamp_requests(simcord_env)

    for second in range(6):
        await race(simcord_env, world.alice, world.channel, "gift", 10, creator=world.carol, gift="Rose")
        await race(simcord_env, world.bob, world.channel, "gift", 10, creator=world.dave, gift="GG")
        to = world.carol if second % 2 else world.dave  # a combo closes (a final edit) every second
        await race(simcord_env, world.mod, world.channel, "gift", 5, creator=to, gift="Heart Me")
        if second == 2:
            announced = await world.carol.slash(world.channel, "creator announce", period="week", top=3)
            assert announced.ephemeral
        await simcord_env.advance_time(1)
    await simcord_env.advance_time(30)  # every combo closes and every write catches up

    writes = message_writes(simcord_env, world.channel.id)
    posts = [w for w in writes if w.request.method == "POST" and w.request.path.endswith("/messages")]
    assert len(posts) == 1  # the announcement, exactly once
    assert most_writes_in_any(writes, 5) <= 5
    assert (await world.bot.storage.ledger_totals()).balanced

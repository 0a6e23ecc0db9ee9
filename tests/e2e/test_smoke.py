from tests.sim import Community, pings


async def test_grantless_balance_is_private_and_zero(simcord_env):
    world = Community.build(simcord_env)
    result = await world.alice.slash(world.channel, "balance")
    assert result.ephemeral
    embed = result.response.embeds[0]
    assert [f.value for f in embed.fields] == ["🪙 0", "💎 0"]


async def test_a_gift_moves_coins_and_is_acknowledged_in_public_without_pings(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    result = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=15)
    assert not result.ephemeral
    assert result.response.embeds[0].title == "🌹 Rose x15"
    assert pings(simcord_env, result.response).nobody
    assert await world.coins(world.alice) == 85
    assert await world.diamonds(world.carol) == 7
    await world.assert_books_balance()


async def test_the_bot_reads_time_from_simcords_virtual_clock(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 10)
    await simcord_env.advance_time(3 * 24 * 3600)  # virtual: instant
    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    history = await world.bot.economy.history(world.guild.id, world.alice.id, page=0)
    assert history.items[0].created_at == simcord_env.now()
    assert simcord_env.now().isoformat() == "2026-01-04T00:00:00+00:00"

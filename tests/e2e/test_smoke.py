import discord
import pytest

from tests.sim import Community, close_dms, fail_interaction_callbacks, pings, requests


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


async def test_close_dms_makes_discord_refuse_a_dm_with_50007(simcord_env):
    world = Community.build(simcord_env)
    close_dms(simcord_env, world.alice)
    user = await world.bot.fetch_user(world.alice.id)
    with pytest.raises(discord.Forbidden) as refused:
        await user.send("hello")
    assert refused.value.code == 50007


async def test_a_failed_interaction_reply_is_logged_with_context_and_never_shown_raw(simcord_env, caplog):
    world = Community.build(simcord_env)
    fail_interaction_callbacks(simcord_env, status=500, times=None)
    await world.alice.slash(world.channel, "balance")
    replies = requests(simcord_env, "POST", "/interactions/*/*/callback")
    assert len(replies) == 2  # the balance, then the apology; Discord refused both
    apology = replies[1].json["data"]["embeds"][0]["description"]
    assert apology.startswith("Sorry, something went wrong") and "500" not in apology
    logged = [r for r in caplog.records if r.name == "giftbot.errors" and r.levelname == "ERROR"]
    assert len(logged) == 1 and f"user={world.alice.id}" in logged[0].getMessage()
    assert "command=balance" in logged[0].getMessage()


async def test_closing_the_bot_stops_its_loops_before_the_database(simcord_env):
    world = Community.build(simcord_env)
    bot = world.bot
    creator_tools = bot.get_cog("CreatorTools")
    assert creator_tools is not None and creator_tools.announce_loop.is_running()
    await bot.close()
    assert not bot.extensions and not creator_tools.announce_loop.is_running()
    assert not bot.storage.db.is_open

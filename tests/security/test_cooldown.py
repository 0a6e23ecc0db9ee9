"""/gift's per-member rate limit (`gift_cooldown`): a quick combo fits, a flood is refused
privately with a Discord timestamp saying when to try again, and the refusal changes nothing."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from bot.economy.errors import InvalidSetting
from bot.economy.guild_config import SPECS, GuildConfig, parse_setting
from bot.gift_cooldown import PRUNE_ABOVE, GiftCooldowns
from tests.sim import Community, interaction_result, race

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def timestamp(moment: datetime) -> str:
    return f"<t:{math.ceil(moment.timestamp())}:R>"


async def ready(env, coins: int = 1_000) -> Community:
    world = Community.build(env)
    await world.make_creators()
    await world.grant(world.alice, coins)
    await world.grant(world.bob, coins)
    return world


async def gift_entries(world: Community) -> int:
    rows = await world.bot.storage.db.read(
        lambda conn: conn.execute("SELECT COUNT(*) FROM entries WHERE kind = 'gift'").fetchone()
    )
    return int(rows[0])


async def test_ten_quick_roses_combo_and_the_eleventh_is_told_when_to_retry(simcord_env):
    world = await ready(simcord_env)
    start = simcord_env.now()

    sent = [
        await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose") for _ in range(10)
    ]
    assert not sent[0].ephemeral  # the public acknowledgement; the other nine joined its combo
    assert all("added to your combo" in r.response.content for r in sent[1:])
    await simcord_env.advance_time(3)

    refused = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")

    assert refused.ephemeral
    text = refused.response.embeds[0].description
    assert text.startswith("Slow down a little: this server allows 10 gifts every 10 seconds.")
    assert text.endswith(f"You can send again {timestamp(start + timedelta(seconds=10))}.")
    assert await world.coins(world.alice) == 990
    assert await gift_entries(world) == 10
    assert not refused.followups

    bob = await world.bob.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    assert not bob.ephemeral  # the limit is each member's own

    await simcord_env.advance_time(7)  # the first gifts leave the 10-second window
    again = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    assert "Slow down" not in (again.response.content or "")
    assert await world.coins(world.alice) == 989
    await world.assert_books_balance()


async def test_a_burst_of_racing_gifts_lets_exactly_the_limit_through(simcord_env):
    world = await ready(simcord_env)

    ids = await race(simcord_env, world.alice, world.channel, "gift", 25, creator=world.dave, gift="Rose")

    results = [interaction_result(simcord_env, i) for i in ids]
    slowed = [r for r in results if r.response.embeds and "Slow down" in r.response.embeds[0].description]
    assert len(slowed) == 15 and all(r.ephemeral for r in slowed)
    assert await gift_entries(world) == 10
    assert await world.coins(world.alice) == 990
    await world.assert_books_balance()


async def test_managers_set_the_limit_per_server(simcord_env):
    world = await ready(simcord_env)
    changed = await world.mod.slash(
        world.channel, "config set", setting="gift_cooldown", value="2 per minute"
    )
    assert "10 per 10s → 2 per 60s" in changed.response.embeds[0].description

    for _ in range(2):
        await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    refused = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")

    assert "allows 2 gifts every 60 seconds" in refused.response.embeds[0].description
    bad = await world.mod.slash(world.channel, "config set", setting="gift_cooldown", value="0 per 10s")
    assert bad.ephemeral and "1 to 1,000 gifts per 1 to 3,600 seconds" in bad.response.embeds[0].description


# -- the setting and the limiter, without Discord -------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("10 per 10s", "10 per 10s"),
        ("10/10", "10 per 10s"),
        ("5 gifts every 2 seconds", "5 per 2s"),
        ("30 per minute", "30 per 60s"),
        ("1,000 per 3600s", "1000 per 3600s"),
        ("3/2 min", "3 per 120s"),
    ],
)
def test_the_setting_reads_gifts_per_span(raw, stored):
    assert parse_setting("gift_cooldown", raw) == stored


@pytest.mark.parametrize(
    "raw", ["", "10", "ten per 10s", "0 per 10s", "10 per 0s", "1001 per 1s", "5 per 2h"]
)
def test_the_setting_refuses_anything_else(raw):
    with pytest.raises(InvalidSetting):
        parse_setting("gift_cooldown", raw)


def test_the_default_is_10_per_10_seconds():
    assert SPECS["gift_cooldown"].default == "10 per 10s"
    assert GuildConfig.from_stored({}, default_share=50).gift_cooldown == (10, 10)
    assert GuildConfig.from_stored({"gift_cooldown": "3 per 60s"}, default_share=50).gift_cooldown == (3, 60)


def test_the_limiter_slides_and_rounds_the_retry_up_to_a_whole_second():
    moments = iter([T0, T0 + timedelta(seconds=0.5), T0 + timedelta(seconds=1.2), T0 + timedelta(seconds=2)])
    limiter = GiftCooldowns(lambda: next(moments))
    assert limiter.take(1, 2, limit=2, seconds=2) is None
    assert limiter.take(1, 2, limit=2, seconds=2) is None
    assert limiter.take(1, 2, limit=2, seconds=2) == T0 + timedelta(seconds=2)  # not 1.2 + 0.8 = "now"
    assert limiter.take(1, 2, limit=2, seconds=2) is None  # the first use left the window


def test_idle_members_are_forgotten():
    now = [T0]
    limiter = GiftCooldowns(lambda: now[0])
    for member in range(PRUNE_ABOVE):
        limiter.take(1, member, limit=10, seconds=10)
    now[0] += timedelta(seconds=11)
    limiter.take(1, PRUNE_ABOVE, limit=10, seconds=10)
    assert len(limiter._windows) == 1

"""Public acknowledgements: combos grow one message, bursts keep a polite pace, big gifts shine,
creators' thank-you lines show and nobody is pinged."""

from __future__ import annotations

import itertools
import logging
import sqlite3
from collections import Counter
from typing import Any

import discord
import pytest
import simcord

from bot.app import create_bot
from bot.economy.service import Party
from bot.ui import theme
from tests.sim import (
    Community,
    buttons,
    fail_interaction_callbacks,
    interaction_id,
    interaction_result,
    message_writes,
    most_writes_in_any,
    pings,
    race,
    raw_click,
    stamp_requests,
    unexpected_errors,
)

WINDOW = 10  # the default combo window, in seconds
HOSTILE = "@everyone <@123> **bold**"


# -- helpers ------------------------------------------------------------------------------------


async def ready(env: simcord.Env, **coins: int) -> Community:
    world = Community.build(env)
    await world.make_creators()
    for name, amount in coins.items():
        await world.grant(getattr(world, name), amount)
    stamp_requests(env)
    return world


def acks(world: Community, channel: simcord.ChannelHandle | None = None) -> list[discord.Message]:
    """Public gift acknowledgements in the channel, oldest first."""
    found = [
        m
        for m in (channel or world.channel).history()
        if not m.flags.ephemeral and m.embeds and "sent a gift" in (m.embeds[0].description or "")
    ]
    return sorted(found, key=lambda m: m.id)


def title(message: discord.Message | simcord.ResponseMessage) -> str:
    return message.embeds[0].title or ""


def has_button(message: discord.Message) -> bool:
    return any(
        getattr(child, "label", None) == "Send again" for row in message.components for child in row.children
    )


def thanks_line(message: discord.Message | simcord.ResponseMessage) -> str:
    (field,) = message.embeds[0].fields
    return field.value or ""


async def sql(world: Community, query: str, *params: Any) -> list[tuple[Any, ...]]:
    def run(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        return conn.execute(query, params).fetchall()

    return await world.bot.storage.db.read(run)


async def gift_counts(world: Community) -> Counter[tuple[int, int, str]]:
    """Gifts in the ledger, summed by (sender, creator, gift)."""
    rows = await sql(world, "SELECT sender_id, creator_id, gift_name, count FROM gift_events")
    total: Counter[tuple[int, int, str]] = Counter()
    for sender, creator, gift, count in rows:
        total[(sender, creator, gift)] += count
    return total


async def gift_keys(world: Community) -> list[str]:
    rows = await sql(world, "SELECT e.idempotency_key FROM gift_events g JOIN entries e ON e.id = g.entry_id")
    return [key for (key,) in rows]


async def settle_all(env: simcord.Env, world: Community, seconds: int = 60) -> None:
    """Let every combo close and every pending write go out."""
    room = world.bot.get_cog("Gifting").acks  # type: ignore[union-attr]
    for _ in range(seconds):
        await env.advance_time(1)
        if room.idle:
            return
    raise AssertionError("acknowledgements still pending")


def no_bugs(env: simcord.Env, caplog: pytest.LogCaptureFixture) -> None:
    assert unexpected_errors(env) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- combos ------------------------------------------------------------------------------------


async def test_a_combo_grows_one_message_and_is_final_when_its_window_closes(simcord_env, caplog):
    world = await ready(simcord_env, alice=100)

    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    assert not first.ephemeral and title(first.response) == "🌹 Rose x1"
    assert set(buttons(first.response)) == {"Send again"}
    taps = [await world.alice.click(first.response, label="Send again") for _ in range(9)]
    more = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=5)

    assert all(tap.deferred for tap in taps)  # the tap changes the public message, not a new one
    assert more.ephemeral and more.response.content == "🌹 Rose added to your combo — x15 so far."
    await simcord_env.advance_time(1)  # edits are flushed within a second
    (ack,) = acks(world)
    assert title(ack) == "🌹 Rose x15" and has_button(ack)
    assert ack.embeds[0].footer.text == "🪙 15 coins · 💎 2 diamonds to the creator"

    await simcord_env.advance_time(WINDOW)
    (ack,) = acks(world)
    assert title(ack) == "🌹 Rose x15" and not has_button(ack)
    assert ack.embeds[0].footer.text == "🪙 15 coins · 💎 2 diamonds to the creator · Combo finished"
    assert await world.coins(world.alice) == 85
    assert await world.diamonds(world.carol) == 2  # floor(1 × 50%) × 10 + floor(5 × 50%)
    assert await gift_counts(world) == {(world.alice.id, world.carol.id, "Rose"): 15}
    assert len(await gift_keys(world)) == 11  # every tap is its own ledger transfer

    later = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    assert not later.ephemeral and title(later.response) == "🌹 Rose x1"
    assert [title(m) for m in acks(world)] == ["🌹 Rose x15", "🌹 Rose x1"]
    for message in acks(world):
        assert pings(simcord_env, message).nobody
    await world.assert_books_balance()
    no_bugs(simcord_env, caplog)


async def test_a_combo_stays_open_while_gifts_keep_coming(simcord_env):
    world = await ready(simcord_env, alice=100)
    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")

    for _ in range(3):  # each tap extends the window
        await simcord_env.advance_time(WINDOW - 2)
        await world.alice.click(first.response, label="Send again")

    await simcord_env.advance_time(1)
    (ack,) = acks(world)
    assert title(ack) == "🌹 Rose x4" and has_button(ack)


async def test_a_different_creator_gift_or_sender_is_a_separate_combo(simcord_env):
    world = await ready(simcord_env, alice=100, bob=100)

    results = [
        await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose"),
        await world.alice.slash(world.channel, "gift", creator=world.dave, gift="Rose"),
        await world.alice.slash(world.channel, "gift", creator=world.carol, gift="TikTok"),
        await world.bob.slash(world.channel, "gift", creator=world.carol, gift="Rose"),
    ]
    again = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")

    assert not any(r.ephemeral for r in results)
    assert again.ephemeral and "x2 so far" in again.response.content
    await simcord_env.advance_time(1)
    shown = sorted((m.embeds[0].description or "", title(m)) for m in acks(world))
    assert shown == sorted(
        [
            (f"<@{world.alice.id}> sent a gift to <@{world.carol.id}>", "🌹 Rose x2"),
            (f"<@{world.alice.id}> sent a gift to <@{world.dave.id}>", "🌹 Rose x1"),
            (f"<@{world.alice.id}> sent a gift to <@{world.carol.id}>", "🎵 TikTok x1"),
            (f"<@{world.bob.id}> sent a gift to <@{world.carol.id}>", "🌹 Rose x1"),
        ]
    )


async def test_gifts_that_do_not_combo_get_a_message_each_and_no_button(simcord_env):
    world = await ready(simcord_env, alice=1_000)

    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Corgi")
    second = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Corgi")

    assert not first.ephemeral and not second.ephemeral
    assert buttons(first.response) == {} and buttons(second.response) == {}
    assert [title(m) for m in acks(world)] == ["🐕 Corgi x1", "🐕 Corgi x1"]
    await settle_all(simcord_env, world)
    assert message_writes(simcord_env, world.channel.id) == []  # nothing to edit later


async def test_combo_window_is_a_guild_setting(simcord_env):
    world = await ready(simcord_env, alice=100)
    await world.bot.economy.set_config(world.guild.id, "combo_window", "3", actor_id=world.mod.id)

    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    await simcord_env.advance_time(0.5)
    await world.alice.click(first.response, label="Send again")  # open until 3.5 s
    await simcord_env.advance_time(3.2)  # closed, and its final edit not made yet
    tap = await world.alice.click(first.response, label="Send again")

    # The window had closed: the tap starts a new combo, acknowledged by its own public reply.
    assert not tap.ephemeral and not tap.deferred and tap.response.id != first.response.id
    assert title(tap.response) == "🌹 Rose x1" and set(buttons(tap.response)) == {"Send again"}
    await simcord_env.advance_time(1)
    assert [title(m) for m in acks(world)] == ["🌹 Rose x2", "🌹 Rose x1"]
    assert [has_button(m) for m in acks(world)] == [False, True]
    assert await gift_counts(world) == {(world.alice.id, world.carol.id, "Rose"): 3}


# -- the Send again button ------------------------------------------------------------------------


async def test_a_refused_tap_is_private_and_changes_nothing(simcord_env, caplog):
    world = await ready(simcord_env, alice=1)
    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    await simcord_env.advance_time(1)
    entries = await gift_keys(world)
    writes = len(message_writes(simcord_env, world.channel.id))

    tap = await world.alice.click(first.response, label="Send again")

    assert tap.ephemeral
    assert tap.response.embeds[0].description == (
        "You need 1 coin but have 0. Buy a coin package or ask a moderator about promotions."
    )
    await simcord_env.advance_time(1)
    assert await world.coins(world.alice) == 0
    assert await gift_keys(world) == entries
    assert len(message_writes(simcord_env, world.channel.id)) == writes
    (ack,) = acks(world)
    assert title(ack) == "🌹 Rose x1" and has_button(ack)
    no_bugs(simcord_env, caplog)


async def test_only_the_sender_can_tap_send_again(simcord_env, caplog):
    world = await ready(simcord_env, alice=100, bob=100)
    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")

    (intruder,) = await raw_click(simcord_env, world.bob, first.response, "Send again")

    assert intruder.ephemeral
    assert intruder.response.content == (
        "Only the member who sent this gift can send it again. Send your own with /gift."
    )
    await simcord_env.advance_time(1)
    assert await world.coins(world.bob) == 100 and await world.coins(world.alice) == 99
    (ack,) = acks(world)
    assert title(ack) == "🌹 Rose x1"
    no_bugs(simcord_env, caplog)


async def test_a_tap_delivered_twice_counts_once(simcord_env, caplog):
    world = await ready(simcord_env, alice=100)
    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")

    (tap,) = await raw_click(simcord_env, world.alice, first.response, "Send again", deliveries=2)

    assert tap.deferred
    await simcord_env.advance_time(1)
    assert await world.coins(world.alice) == 98
    (ack,) = acks(world)
    assert title(ack) == "🌹 Rose x2"
    await settle_all(simcord_env, world)
    assert title(acks(world)[0]) == "🌹 Rose x2"
    assert await gift_counts(world) == {(world.alice.id, world.carol.id, "Rose"): 2}
    await world.assert_books_balance()
    no_bugs(simcord_env, caplog)


async def test_send_again_on_a_disabled_gift_is_refused(simcord_env, caplog):
    world = await ready(simcord_env, alice=100)
    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    await world.bot.economy.edit_gift(world.guild.id, "Rose", enabled=False)

    tap = await world.alice.click(first.response, label="Send again")

    assert tap.ephemeral and tap.response.embeds[0].description == "Rose is not available right now."
    assert await world.coins(world.alice) == 99
    no_bugs(simcord_env, caplog)


async def test_a_lost_acknowledgement_is_posted_in_the_channel(simcord_env, caplog):
    world = await ready(simcord_env, alice=100)
    fail_interaction_callbacks(simcord_env, status=500)

    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=3)
    await simcord_env.advance_time(1)

    assert await world.coins(world.alice) == 97
    (ack,) = acks(world)
    assert title(ack) == "🌹 Rose x3" and pings(simcord_env, ack).nobody
    no_bugs(simcord_env, caplog)


# -- bursts -------------------------------------------------------------------------------------


BURST_SECONDS = 5


async def test_a_burst_of_100_gifts_a_second_keeps_the_channel_within_5_writes_per_5_seconds(
    simcord_env, caplog
):
    world = await ready(simcord_env, alice=1_000, bob=1_000, mod=1_000, dave=1_000)
    erin = world.guild.add_member(simcord_env.create_user("erin", global_name="Erin"))
    await world.make_creators(erin)
    # A 2-second window: the steady senders keep their combos open, while Dave's alternate
    # between two creators, so one of his closes (and needs its final edit) every second.
    await world.bot.economy.set_config(world.guild.id, "combo_window", "2", actor_id=world.mod.id)
    # 20 /gift a second from one member is a load test, far past the per-member rate limit.
    await world.bot.economy.set_config(world.guild.id, "gift_cooldown", "1000 per 1s", actor_id=world.mod.id)
    steady = [  # sender, creator, gift, /gift per second, taps per second
        (world.alice, world.carol, "Rose", 20, 20),
        (world.bob, world.dave, "GG", 15, 15),
        (world.mod, world.carol, "Heart Me", 10, 10),
    ]
    interactions: list[int] = []
    combo_messages: dict[str, simcord.ResponseMessage] = {}

    for second in range(BURST_SECONDS):
        sent_this_second = 0
        for sender, creator, gift, slashes, taps in steady:
            ids = await race(simcord_env, sender, world.channel, "gift", slashes, creator=creator, gift=gift)
            interactions += ids
            if second == 0:
                results = [interaction_result(simcord_env, i) for i in ids]
                (starter,) = [r for r in results if not r.ephemeral]
                combo_messages[gift] = starter.response
            clicks = await raw_click(
                simcord_env, sender, combo_messages[gift], "Send again", deliveries=taps, distinct=True
            )
            interactions += [interaction_id(click) for click in clicks]
            sent_this_second += slashes + taps
        to = world.carol if second % 2 == 0 else erin
        interactions += await race(
            simcord_env, world.dave, world.channel, "gift", 10, creator=to, gift="Rosa"
        )
        sent_this_second += 10
        assert sent_this_second == 100
        await simcord_env.advance_time(1)
    await settle_all(simcord_env, world)

    writes = message_writes(simcord_env, world.channel.id)
    assert 0 < most_writes_in_any(writes, 5) <= 5
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(writes)]
    assert all(gap >= 1 for gap in gaps)  # edits are coalesced, flushed at most once a second
    assert {w.request.method for w in writes} == {"PATCH"}  # edits only: new combos are replies

    # No 'interaction failed': every gift was answered, publicly or privately.
    assert all(interaction_result(simcord_env, i).acknowledged for i in interactions)
    # Every gift is in the ledger exactly once, under its own key...
    keys = await gift_keys(world)
    assert sorted(keys) == sorted(f"interaction:{i}" for i in interactions)
    assert len(keys) == BURST_SECONDS * 100
    # ...and every combo message ends on the sum of its ledger entries, with its button gone.
    counts = await gift_counts(world)
    shown = [title(m) for m in acks(world)]
    assert shown.count(f"🌹 Rose x{counts[(world.alice.id, world.carol.id, 'Rose')]}") == 1
    assert shown.count(f"🎮 GG x{counts[(world.bob.id, world.dave.id, 'GG')]}") == 1
    assert shown.count(f"💗 Heart Me x{counts[(world.mod.id, world.carol.id, 'Heart Me')]}") == 1
    assert shown.count("🥀 Rosa x10") == BURST_SECONDS  # one combo a second, 10 gifts each
    assert len(shown) == 3 + BURST_SECONDS
    assert (
        counts[(world.dave.id, world.carol.id, "Rosa")] == 30
        and counts[(world.dave.id, erin.id, "Rosa")] == 20
    )
    assert sum(counts.values()) == BURST_SECONDS * 100
    assert not any(has_button(m) for m in acks(world))
    assert all(m.embeds[0].footer.text.endswith("Combo finished") for m in acks(world))
    for message in world.channel.history():
        assert pings(simcord_env, message).nobody
    assert await world.coins(world.alice) == 1_000 - BURST_SECONDS * 40
    await world.assert_books_balance()
    no_bugs(simcord_env, caplog)
    start = writes[0].at
    timeline = [round((w.at - start).total_seconds(), 1) for w in writes]
    print(f"burst: at most {most_writes_in_any(writes, 5)} writes in any 5 s; {len(writes)} at {timeline}")


# -- big gifts ------------------------------------------------------------------------------------


async def test_a_big_gift_is_highlighted_but_not_posted_without_a_gift_wall(simcord_env):
    world = await ready(simcord_env, alice=10_000)
    await world.bot.economy.set_config(world.guild.id, "confirm_threshold", "100000", actor_id=world.mod.id)
    other = world.guild.create_text_channel("elsewhere")

    big = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Galaxy")  # 1,000
    small = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Train")  # 899
    await settle_all(simcord_env, world)

    assert big.response.embeds[0].colour == theme.BIG_GIFT
    assert big.response.embeds[0].footer.text.startswith("🎉 Big gift · 🪙 1,000 coins")
    assert small.response.embeds[0].colour == theme.GIFT
    assert small.response.embeds[0].footer.text.startswith("🪙 899 coins")
    assert len(acks(world)) == 2 and other.history() == []


async def test_a_big_gift_goes_to_the_gift_wall_when_one_is_set(simcord_env, caplog):
    world = await ready(simcord_env, alice=40_000)
    wall = world.guild.create_text_channel("gift-wall")
    await world.bot.economy.set_config(
        world.guild.id, "gift_wall_channel", str(wall.id), actor_id=world.mod.id
    )

    shown = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Lion")
    sent = await world.alice.click(shown.response, label="Send it")
    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=999)  # 999
    await settle_all(simcord_env, world)

    (ack,) = sent.followups  # the confirmation flow still acknowledges in a followup
    assert ack.embeds[0].colour == theme.BIG_GIFT
    (posted,) = acks(world, wall)
    assert posted.embeds[0].colour == theme.BIG_GIFT and title(posted) == "🦁 Lion x1"
    assert posted.embeds[0].description == (
        f"<@{world.alice.id}> sent a gift to <@{world.carol.id}> in <#{world.channel.id}>"
    )
    assert pings(simcord_env, posted).nobody
    assert len(message_writes(simcord_env, wall.id)) == 1
    no_bugs(simcord_env, caplog)


async def test_the_big_gift_threshold_is_a_guild_setting_and_combos_can_turn_big(simcord_env):
    world = await ready(simcord_env, alice=1_000)
    await world.bot.economy.set_config(world.guild.id, "big_gift_threshold", "50", actor_id=world.mod.id)

    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    assert first.response.embeds[0].colour == theme.GIFT
    big = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=50)
    await simcord_env.advance_time(1)

    assert big.ephemeral  # it joined the open combo...
    (ack,) = acks(world)
    assert title(ack) == "🌹 Rose x51" and ack.embeds[0].colour == theme.BIG_GIFT  # ...which now shines


# -- thank-you lines and hostile text ------------------------------------------------------------


async def test_the_creators_thank_you_line_is_shown_and_follows_the_combo(simcord_env):
    world = await ready(simcord_env, alice=100)

    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    await world.alice.click(first.response, label="Send again")
    await simcord_env.advance_time(1)
    await world.bot.economy.set_thanks(
        world.guild.id,
        Party(world.dave.id, world.dave.name),
        "{sender} sent {count} {gift} ({coins} coins) 💖",
    )
    custom = await world.alice.slash(world.channel, "gift", creator=world.dave, gift="Rosa", count=3)

    assert first.response.embeds[0].fields[0].name == "💬 Carol"
    assert thanks_line(first.response) == "Thank you Alice for the Rose x2!"  # the combo's count
    assert custom.response.embeds[0].fields[0].name == "💬 Dave"
    assert thanks_line(custom.response) == "Alice sent 3 Rosa (30 coins) 💖"


async def test_hostile_names_and_templates_ping_nobody_and_render_escaped(simcord_env, caplog):
    world = Community.build(simcord_env)
    troll = world.guild.add_member(simcord_env.create_user("troll", global_name=HOSTILE))
    star = world.guild.add_member(
        simcord_env.create_user("star", global_name=f"@here <@{world.alice.id}> __x__")
    )
    await world.make_creators(star)
    await world.grant(troll, 5_000)
    template = f"**Thanks** {{sender}}! <@{world.alice.id}> @everyone <@&{world.admins.id}> __{{gift}}__"
    await world.bot.economy.set_thanks(world.guild.id, Party(star.id, star.name), template)
    wall = world.guild.create_text_channel("gift-wall")
    await world.bot.economy.set_config(
        world.guild.id, "gift_wall_channel", str(wall.id), actor_id=world.mod.id
    )

    first = await troll.slash(world.channel, "gift", creator=star, gift="Rose")
    await troll.click(first.response, label="Send again")
    large = await troll.slash(world.channel, "gift", creator=star, gift="Galaxy")
    await troll.click(large.response, label="Send it")
    await settle_all(simcord_env, world)

    line = thanks_line(acks(world)[0])
    assert line.startswith("\\*\\*Thanks\\*\\* @\u200beveryone <@123> \\*\\*bold\\*\\*!")
    assert f"<@{world.alice.id}>" not in line and f"<@&{world.admins.id}>" not in line
    assert "@everyone" not in line.replace("@\u200beveryone", "")
    assert line.endswith("\\_\\_Rose\\_\\_")
    assert (
        acks(world)[0].embeds[0].fields[0].name
        == "💬 @\u200bhere <@\u200b" + f"{world.alice.id}> \\_\\_x\\_\\_"
    )
    for channel in (world.channel, wall):
        for message in channel.history():
            assert pings(simcord_env, message).nobody
            stored = simcord_env.backend.messages[channel.id][message.id]
            assert not stored.ping_user_ids and not stored.ping_role_ids and not stored.mention_everyone
    assert len(acks(world, wall)) == 1
    no_bugs(simcord_env, caplog)


# -- confirmation and restarts --------------------------------------------------------------------


async def test_a_confirmed_gift_joins_an_open_combo(simcord_env, caplog):
    world = await ready(simcord_env, alice=1_000)
    await world.bot.economy.set_config(world.guild.id, "confirm_threshold", "50", actor_id=world.mod.id)
    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")

    shown = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=60)
    sent = await world.alice.click(shown.response, label="Send it")

    assert sent.response.embeds[0].description == "Sent! 🎉 🌹 Rose added to your combo — x61 so far."
    assert sent.followups == []
    await simcord_env.advance_time(1)
    (ack,) = acks(world)
    assert ack.id == first.response.id and title(ack) == "🌹 Rose x61"
    no_bugs(simcord_env, caplog)


async def test_a_gift_that_needs_confirming_gets_no_send_again_button(simcord_env, caplog):
    world = await ready(simcord_env, alice=1_000)
    await world.bot.economy.set_config(world.guild.id, "confirm_threshold", "5", actor_id=world.mod.id)

    shown = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Finger Heart")
    sent = await world.alice.click(shown.response, label="Send it")
    shown_again = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Finger Heart")
    sent_again = await world.alice.click(shown_again.response, label="Send it")

    (ack,) = sent.followups
    assert title(ack) == "🫰 Finger Heart x1" and buttons(ack) == {}
    assert sent_again.followups == []
    await simcord_env.advance_time(1)
    assert [title(m) for m in acks(world)] == ["🫰 Finger Heart x2"]
    no_bugs(simcord_env, caplog)


async def test_send_again_still_works_after_a_restart(simcord_env, settings, caplog):
    world = await ready(simcord_env, alice=100)
    first = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    await world.bot.storage.close()
    restarted = create_bot(settings)
    await simcord_env.restart_bot(restarted)
    try:
        # The new process knows nothing of the old combo, so the tap starts a new one.
        tap = await world.alice.click(first.response, label="Send again")

        assert not tap.ephemeral and title(tap.response) == "🌹 Rose x1"
        assert await world.coins(world.alice) == 98
        no_bugs(simcord_env, caplog)
    finally:
        await restarted.storage.close()

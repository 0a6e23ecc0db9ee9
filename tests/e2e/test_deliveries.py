"""Duplicate and failed deliveries: whatever Discord does to an interaction or its reply, money
moves once, the member can see it in /history, and the gift is still acknowledged in public.

Discord may deliver an interaction twice, and may refuse the reply to one: 429 (rate limited),
5xx (its own trouble) or 10062 (the interaction expired). SimCord injects those answers; its
transport skips discord.py's own retries, so the bot's handling is what these tests see.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import discord
import pytest
import simcord

from tests.sim import (
    Community,
    deliver_twice,
    fail_interaction_callbacks,
    interaction_result,
    pings,
    requests,
    unexpected_errors,
)

FAILURES = {  # what Discord answers to the gift's acknowledgement: (status, error code)
    "429 rate limited": (429, 0),
    "500 internal error": (500, 0),
    "502 bad gateway": (502, 0),
    "503 unavailable": (503, 0),
    "10062 unknown interaction": (404, 10062),
}


async def ready(env: simcord.Env, **coins: int) -> Community:
    world = Community.build(env)
    await world.make_creators()
    for name, amount in coins.items():
        await world.grant(getattr(world, name), amount)
    return world


async def sql(world: Community, query: str, *params: Any) -> list[tuple[Any, ...]]:
    def run(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        return conn.execute(query, params).fetchall()

    return await world.bot.storage.db.read(run)


def acknowledgements(world: Community) -> list[discord.Message]:
    """Public gift acknowledgements in #live, oldest first."""
    found = [
        m
        for m in world.channel.history()
        if not m.flags.ephemeral and m.embeds and "sent a gift" in (m.embeds[0].description or "")
    ]
    return sorted(found, key=lambda m: m.id)


def channel_posts(env: simcord.Env, world: Community) -> list[simcord.HttpLogEntry]:
    """Plain channel messages the bot posted (not replies to an interaction)."""
    return requests(env, "POST", f"/channels/{world.channel.id}/messages")


async def gifts_in_ledger(world: Community) -> list[tuple[str, int]]:
    return [
        (str(key), int(coins))
        for key, coins in await sql(
            world,
            "SELECT e.idempotency_key, g.coins FROM gift_events g JOIN entries e ON e.id = g.entry_id",
        )
    ]


async def history_lines(world: Community, member: simcord.MemberActor) -> list[str]:
    result = await member.slash(world.channel, "history")
    assert result.ephemeral
    message = result.followups[-1] if result.followups else result.response
    return [f"{field.name} {field.value}" for field in message.embeds[0].fields]


def no_bugs(env: simcord.Env, caplog: pytest.LogCaptureFixture) -> None:
    assert unexpected_errors(env) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records
    ]


# -- a refused acknowledgement ------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), FAILURES.values(), ids=FAILURES.keys())
async def test_a_refused_acknowledgement_still_records_the_gift_once_and_posts_it(
    simcord_env, caplog, status, code
):
    world = await ready(simcord_env, alice=100)
    fail_interaction_callbacks(simcord_env, status=status, code=code, times=1)

    result = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=3)
    await simcord_env.advance_time(1)  # the channel's next write slot

    # the gift is recorded exactly once, under the interaction's key
    assert await gifts_in_ledger(world) == [(f"interaction:{result._interaction.id}", 3)]
    assert await world.coins(world.alice) == 97 and await world.diamonds(world.carol) == 1
    await world.assert_books_balance()
    # the acknowledgement came as a plain channel message instead, pinging nobody
    (ack,) = acknowledgements(world)
    assert ack.embeds[0].title == "🌹 Rose x3" and pings(simcord_env, ack).nobody
    assert ack.interaction_metadata is None and len(channel_posts(simcord_env, world)) == 1
    # and the member sees the gift in their own history
    (latest, *_) = await history_lines(world, world.alice)
    assert "-3" in latest and f"Sent 🌹 Rose ×3 to <@{world.carol.id}>" in latest
    no_bugs(simcord_env, caplog)


async def test_a_channel_post_that_fails_too_is_retried_until_it_is_out(simcord_env, caplog):
    world = await ready(simcord_env, alice=100)
    fail_interaction_callbacks(simcord_env, status=503, times=1)
    simcord_env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=500, times=2)

    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=2)
    for _ in range(4):
        await simcord_env.advance_time(1)

    assert len(channel_posts(simcord_env, world)) == 3  # two refused, the third accepted
    (ack,) = acknowledgements(world)
    assert ack.embeds[0].title == "🌹 Rose x2"
    assert await world.coins(world.alice) == 98 and len(await gifts_in_ledger(world)) == 1
    no_bugs(simcord_env, caplog)


async def test_a_combo_whose_first_acknowledgement_was_lost_keeps_growing_one_message(simcord_env, caplog):
    world = await ready(simcord_env, alice=100)
    fail_interaction_callbacks(simcord_env, status=500, times=1)

    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    await simcord_env.advance_time(1)
    more = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=4)
    await simcord_env.advance_time(1)

    assert more.ephemeral and "added to your combo" in more.response.content
    (ack,) = acknowledgements(world)
    assert ack.embeds[0].title == "🌹 Rose x5"
    assert await world.coins(world.alice) == 95 and len(await gifts_in_ledger(world)) == 2
    no_bugs(simcord_env, caplog)


async def test_a_confirmed_gift_whose_public_reply_fails_is_posted_in_the_channel(simcord_env, caplog):
    world = await ready(simcord_env, alice=5_000)
    shown = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Galaxy")
    assert shown.ephemeral and shown.response.embeds[0].title == "Send this gift?"
    # the public acknowledgement is a follow-up of the click: Discord refuses it
    simcord_env.inject_error("POST", "/webhooks/*/*", status=503, times=1)

    clicked = await world.alice.click(shown.response, label="Send it")
    await simcord_env.advance_time(1)

    assert shown.response.embeds[0].description == "Sent! 🎉"
    assert await world.coins(world.alice) == 4_000 and len(await gifts_in_ledger(world)) == 1
    (ack,) = acknowledgements(world)
    assert ack.embeds[0].title.endswith("Galaxy x1") and ack.interaction_metadata is None
    assert not clicked.followups or all(f.ephemeral for f in clicked.followups)
    no_bugs(simcord_env, caplog)


# -- the same interaction delivered twice -------------------------------------------------------


async def test_a_redelivered_gift_after_a_lost_acknowledgement_is_acknowledged_once(simcord_env, caplog):
    world = await ready(simcord_env, alice=100)
    fail_interaction_callbacks(simcord_env, status=500, times=1)

    interaction = await deliver_twice(
        simcord_env, world.alice, world.channel, "gift", creator=world.carol, gift="Doughnut"
    )
    await simcord_env.advance_time(1)

    assert await gifts_in_ledger(world) == [(f"interaction:{interaction}", 30)]
    assert await world.coins(world.alice) == 70
    assert len(acknowledgements(world)) == 1
    await world.assert_books_balance()
    no_bugs(simcord_env, caplog)


async def test_a_redelivered_revoke_takes_coins_back_once(simcord_env):
    world = await ready(simcord_env, alice=100)

    interaction = await deliver_twice(
        simcord_env, world.mod, world.channel, "mod revoke", member=world.alice, coins=40, reason="oops"
    )

    assert await world.coins(world.alice) == 60
    revokes = await sql(world, "SELECT idempotency_key FROM entries WHERE kind = 'revoke'")
    assert revokes == [(f"interaction:{interaction}",)]
    replies = requests(simcord_env, "POST", f"/interactions/{interaction}/*/callback")
    assert len(replies) <= 2 and interaction_result(simcord_env, interaction).ephemeral
    await world.assert_books_balance()


async def test_a_confirmation_click_whose_reply_expired_still_sends_once_and_says_so_in_public(
    simcord_env, caplog
):
    world = await ready(simcord_env, alice=5_000)
    shown = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Galaxy")
    fail_interaction_callbacks(simcord_env, status=404, code=10062, times=1)  # the click's reply

    await world.alice.click(shown.response, label="Send it")
    await simcord_env.advance_time(1)

    assert await world.coins(world.alice) == 4_000 and len(await gifts_in_ledger(world)) == 1
    assert len(acknowledgements(world)) == 1
    assert [r for r in caplog.records if "could not close the gift confirmation" in r.getMessage()]
    await world.assert_books_balance()
    no_bugs(simcord_env, caplog)  # an expired click is Discord's weather, not a bug to apologise for

"""/gift and /gifts end to end: money moves once, acknowledgements ping nobody, refusals change nothing."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

import discord
import pytest
import simcord

from bot.economy.catalogue import default_gifts, name_key
from tests.sim import Community, buttons, deliver_twice, interaction_result, pings, race, raw_click

HOSTILE = "@everyone <@123> **bold**"


# -- helpers ------------------------------------------------------------------------------------


def public_acks(world: Community) -> list[discord.Message]:
    """Gift acknowledgements everyone in the channel can see."""
    return [
        m
        for m in world.channel.history()
        if not m.flags.ephemeral
        and m.embeds
        and m.embeds[0].description
        and "sent a gift" in m.embeds[0].description
    ]


async def sql(world: Community, query: str, *params: Any) -> list[tuple[Any, ...]]:
    def run(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        return conn.execute(query, params).fetchall()

    return await world.bot.storage.db.read(run)


async def platform_fee(world: Community) -> int:
    rows = await sql(
        world,
        "SELECT balance FROM accounts WHERE guild_id = ? AND owner_id = 0 AND code = 'platform_fee'",
        world.guild.id,
    )
    return rows[0][0] if rows else 0


@dataclass(frozen=True)
class Snapshot:
    coins: dict[int, int]
    diamonds: dict[int, int]
    entries: int
    platform: int
    public_messages: int


async def snapshot(world: Community) -> Snapshot:
    people = (world.mod, world.alice, world.bob, world.carol, world.dave)
    return Snapshot(
        coins={p.id: await world.coins(p) for p in people},
        diamonds={p.id: await world.diamonds(p) for p in people},
        entries=(await sql(world, "SELECT COUNT(*) FROM entries"))[0][0],
        platform=await platform_fee(world),
        public_messages=sum(1 for m in world.channel.history() if not m.flags.ephemeral),
    )


def refusal(result: simcord.InteractionResult) -> str:
    """The private message a refused member saw."""
    assert result.ephemeral
    return refusal_text(result.response)


def refusal_text(message: simcord.ResponseMessage) -> str:
    embed = message.embeds[0]
    assert embed.colour == discord.Colour(0xED4245)
    return embed.description


async def ready(simcord_env: simcord.Env) -> Community:
    world = Community.build(simcord_env)
    await world.make_creators()
    return world


# -- sending a gift -------------------------------------------------------------------------------


async def test_gift_is_acknowledged_in_public_naming_sender_and_creator(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.alice, 100)

    result = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=15)

    assert not result.ephemeral
    embed = result.response.embeds[0]
    assert embed.title == "🌹 Rose x15"
    assert embed.description == f"<@{world.alice.id}> sent a gift to <@{world.carol.id}>"
    assert embed.footer.text == "🪙 15 coins · 💎 7 diamonds to the creator"
    assert pings(simcord_env, result.response).nobody
    assert len(public_acks(world)) == 1


async def test_hostile_display_names_ping_nobody(simcord_env):
    world = Community.build(simcord_env)
    troll = world.guild.add_member(simcord_env.create_user("troll", global_name=HOSTILE))
    star = world.guild.add_member(
        simcord_env.create_user("star", global_name=f"@here <@{world.alice.id}> __x__")
    )
    await world.make_creators(star, troll)
    await world.grant(troll, 5_000)

    small = await troll.slash(world.channel, "gift", creator=star, gift="Rose", count=3)
    large = await troll.slash(world.channel, "gift", creator=star, gift="Galaxy")
    confirm = large.response.embeds[0].description
    sent = await troll.click(large.response, label="Send it")

    assert pings(simcord_env, small.response).nobody
    assert pings(simcord_env, sent.followups[0]).nobody
    # The confirmation names the creator, escaped: no live mention, no markdown.
    assert f"<@{world.alice.id}>" not in confirm and "@here" not in confirm
    assert "\\_\\_x\\_\\_" in confirm
    for message in world.channel.history():
        stored = simcord_env.backend.messages[world.channel.id][message.id]
        assert not stored.ping_user_ids and not stored.ping_role_ids and not stored.mention_everyone


async def test_coins_debited_diamonds_credited_and_platform_keeps_the_rest(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.alice, 500)

    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=15)
    await world.alice.slash(world.channel, "gift", creator=world.dave, gift="Cap")  # 99 coins

    assert await world.coins(world.alice) == 500 - 15 - 99
    assert await world.diamonds(world.carol) == 7  # floor(15 × 50%)
    assert await world.diamonds(world.dave) == 49  # floor(99 × 50%)
    assert await platform_fee(world) == (15 - 7) + (99 - 49)
    await world.assert_books_balance()


async def test_creator_share_setting_decides_the_split(simcord_env):
    world = await ready(simcord_env)
    await world.bot.economy.set_config(world.guild.id, "creator_share", "33", actor_id=world.mod.id)
    await world.grant(world.alice, 100)

    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rosa")  # 10 coins

    assert await world.coins(world.alice) == 90
    assert await world.diamonds(world.carol) == 3  # floor(10 × 33%)
    assert await platform_fee(world) == 7
    await world.assert_books_balance()


async def test_gift_autocomplete_offers_matching_gifts(simcord_env):
    world = await ready(simcord_env)
    await world.bot.economy.edit_gift(world.guild.id, "Rocket", enabled=False)

    choices = await world.alice.autocomplete(world.channel, "gift", "gift", "ro", creator=world.carol)
    everything = await world.alice.autocomplete(world.channel, "gift", "gift", "", creator=world.carol)

    assert [c["value"] for c in choices] == ["Rose", "Rosa"]  # disabled Rocket is not offered
    assert choices[0]["name"] == "🌹 Rose · 1 coin"
    assert len(everything) == 25  # Discord's limit, cheapest first
    assert {c["value"] for c in everything[:5]} == {"GG", "Heart Me", "Ice Cream Cone", "Rose", "TikTok"}


# -- refusals ---------------------------------------------------------------------------------------


REFUSALS = {
    "insufficient coins": (
        dict(gift="Rose", count=15),
        "You need 15 coins but have 10. Buy a coin package or ask a moderator about promotions.",
    ),
    "unknown gift": (
        dict(gift="Unicorn"),
        "There is no gift called “Unicorn”. Use /gifts to see the catalogue.",
    ),
    "amount out of range": (
        dict(gift="Lion", count=34),
        "1,019,966 is more than the 1,000,000 allowed in one operation.",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_refusal_is_private_and_changes_nothing(simcord_env, case):
    world = await ready(simcord_env)
    await world.grant(world.alice, 10)
    options, message = REFUSALS[case]
    before = await snapshot(world)

    result = await world.alice.slash(world.channel, "gift", creator=world.carol, **options)

    assert refusal(result) == message
    assert await snapshot(world) == before


async def test_gift_to_someone_who_is_not_a_creator_is_refused(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.alice, 10)
    before = await snapshot(world)

    result = await world.alice.slash(world.channel, "gift", creator=world.bob, gift="Rose")

    assert refusal(result) == "Bob is not a creator here, so they can't receive gifts."
    assert await snapshot(world) == before


async def test_large_gift_to_a_non_creator_is_refused_before_asking_to_confirm(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.alice, 5_000)
    before = await snapshot(world)

    result = await world.alice.slash(world.channel, "gift", creator=world.bob, gift="Galaxy")

    assert refusal(result) == "Bob is not a creator here, so they can't receive gifts."
    assert await snapshot(world) == before


async def test_gifting_yourself_is_refused(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.carol, 10)
    before = await snapshot(world)

    result = await world.carol.slash(world.channel, "gift", creator=world.carol, gift="Rose")

    assert refusal(result) == "You can't send a gift to yourself."
    assert await snapshot(world) == before


async def test_disabled_gift_is_refused(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.alice, 10)
    await world.bot.economy.edit_gift(world.guild.id, "Rose", enabled=False)
    before = await snapshot(world)

    result = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")

    assert refusal(result) == "Rose is not available right now."
    assert await snapshot(world) == before


async def test_gift_to_a_bot_is_refused(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.alice, 10)
    before = await snapshot(world)

    result = await world.alice.slash(world.channel, "gift", creator=world.robot, gift="Rose")

    assert refusal(result) == "Bots can't receive gifts."
    assert await snapshot(world) == before


# -- duplicates and races --------------------------------------------------------------------------


async def test_duplicate_delivery_moves_coins_once_and_acknowledges_once(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.alice, 100)

    await deliver_twice(
        simcord_env, world.alice, world.channel, "gift", creator=world.carol, gift="Rose", count=15
    )

    assert await world.coins(world.alice) == 85
    assert await world.diamonds(world.carol) == 7
    assert len(public_acks(world)) == 1
    assert (await sql(world, "SELECT COUNT(*) FROM gift_events"))[0][0] == 1
    await world.assert_books_balance()


async def test_racing_gifts_spend_exactly_what_the_wallet_covers(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.alice, 30)  # covers 6 gifts of 5 coins

    ids = await race(
        simcord_env, world.alice, world.channel, "gift", 10, creator=world.carol, gift="Finger Heart"
    )

    results = [interaction_result(simcord_env, i) for i in ids]
    started = [r for r in results if not r.ephemeral]
    # The same gift to the same creator within the combo window grows one message.
    joined = [r for r in results if r.ephemeral and "added to your combo" in r.response.content]
    refused = [r for r in results if r.ephemeral and r.response.embeds]
    assert len(started) == 1 and len(joined) == 5 and len(refused) == 4
    assert {refusal(r) for r in refused} == {
        "You need 5 coins but have 0. Buy a coin package or ask a moderator about promotions."
    }
    await simcord_env.advance_time(1)  # combo edits are flushed at most once a second
    (ack,) = public_acks(world)
    assert ack.embeds[0].title == "🫰 Finger Heart x6"
    assert await world.coins(world.alice) == 0
    assert await world.diamonds(world.carol) == 6 * 2
    await world.assert_books_balance()


# -- confirming large gifts -------------------------------------------------------------------------


async def ask_to_confirm(
    world: Community, gift: str = "Galaxy", coins: int = 5_000
) -> simcord.InteractionResult:
    await world.grant(world.alice, coins)
    result = await world.alice.slash(world.channel, "gift", creator=world.carol, gift=gift)
    assert result.ephemeral
    return result


async def test_gift_below_the_threshold_needs_no_confirmation(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.alice, 1_000)

    result = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Train")  # 899

    assert not result.ephemeral
    assert await world.coins(world.alice) == 101


async def test_large_gift_asks_privately_before_spending(simcord_env):
    world = await ready(simcord_env)

    shown = await ask_to_confirm(world)  # Galaxy costs exactly the 1,000-coin threshold

    embed = shown.response.embeds[0]
    assert embed.title == "Send this gift?"
    assert embed.description == "🌌 **Galaxy** x1 to **Carol**\nThis spends 🪙 1,000."
    assert set(buttons(shown.response)) == {"Send it", "Cancel"}
    assert await world.coins(world.alice) == 5_000
    assert public_acks(world) == []


async def test_cancel_spends_nothing(simcord_env):
    world = await ready(simcord_env)
    shown = await ask_to_confirm(world)
    before = await snapshot(world)

    cancelled = await world.alice.click(shown.response, label="Cancel")

    assert cancelled.response.embeds[0].description == "Cancelled. No coins were spent."
    assert buttons(cancelled.response) == {}
    assert await snapshot(world) == before


async def test_send_it_spends_once_and_acknowledges_in_public(simcord_env):
    world = await ready(simcord_env)
    shown = await ask_to_confirm(world, gift="Lion", coins=30_000)

    sent = await world.alice.click(shown.response, label="Send it")

    assert sent.response.embeds[0].description == "Sent! 🎉"
    assert buttons(sent.response) == {}  # nothing left to press twice
    (ack,) = sent.followups
    assert not ack.ephemeral
    assert ack.embeds[0].title == "🦁 Lion x1"
    assert pings(simcord_env, ack).nobody
    assert await world.coins(world.alice) == 1
    assert await world.diamonds(world.carol) == 14_999
    assert len(public_acks(world)) == 1
    await world.assert_books_balance()


async def test_send_it_delivered_twice_spends_once(simcord_env):
    world = await ready(simcord_env)
    shown = await ask_to_confirm(world)

    await raw_click(simcord_env, world.alice, shown.response, "Send it", deliveries=2)

    assert await world.coins(world.alice) == 4_000
    assert await world.diamonds(world.carol) == 500
    assert len(public_acks(world)) == 1
    assert shown.response.embeds[0].description == "Sent! 🎉"
    await world.assert_books_balance()


async def test_send_it_pressed_twice_at_once_spends_once(simcord_env):
    world = await ready(simcord_env)
    shown = await ask_to_confirm(world)

    clicks = await raw_click(simcord_env, world.alice, shown.response, "Send it", deliveries=2, distinct=True)

    assert await world.coins(world.alice) == 4_000
    assert len(public_acks(world)) == 1
    assert sum(len(click.followups) for click in clicks) == 1
    await world.assert_books_balance()


async def test_large_gift_delivered_twice_asks_once_and_spends_once(simcord_env, caplog):
    world = await ready(simcord_env)
    await world.grant(world.alice, 5_000)

    interaction_id = await deliver_twice(
        simcord_env, world.alice, world.channel, "gift", creator=world.carol, gift="Galaxy"
    )
    shown = interaction_result(simcord_env, interaction_id)
    await world.alice.click(shown.response, label="Send it")
    await simcord_env.advance_time(61)  # no second, orphaned confirmation expires over the outcome

    assert await world.coins(world.alice) == 4_000
    assert len(public_acks(world)) == 1
    assert shown.response.embeds[0].description == "Sent! 🎉"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # the redelivery is no bug


async def test_confirmation_without_enough_coins_left_is_refused_on_send(simcord_env):
    world = await ready(simcord_env)
    shown = await ask_to_confirm(world, coins=1_500)
    await world.alice.slash(world.channel, "gift", creator=world.dave, gift="Swan")  # spends 699
    before = await snapshot(world)

    pressed = await world.alice.click(shown.response, label="Send it")

    # The refusal replaces the private confirmation, and its buttons are gone.
    assert pressed.response.id == shown.response.id and shown.response.ephemeral
    assert refusal_text(shown.response) == (
        "You need 1,000 coins but have 801. Buy a coin package or ask a moderator about promotions."
    )
    assert buttons(shown.response) == {}
    assert await snapshot(world) == before


async def test_expired_confirmation_spends_nothing(simcord_env):
    world = await ready(simcord_env)
    shown = await ask_to_confirm(world)
    before = await snapshot(world)

    await simcord_env.advance_time(61)

    expired = shown.response
    assert expired.embeds[0].description == "This confirmation expired. No coins were spent."
    assert all(b.get("disabled") for b in buttons(expired).values())
    with pytest.raises(simcord.SetupError):
        await world.alice.click(expired, label="Send it")
    await raw_click(simcord_env, world.alice, expired, "Send it")  # a stale client still sends it
    assert await snapshot(world) == before


async def test_only_the_owner_can_press_the_buttons(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.bob, 5_000)
    shown = await ask_to_confirm(world)
    before = await snapshot(world)

    (intruder,) = await raw_click(simcord_env, world.bob, shown.response, "Send it")

    assert intruder.ephemeral
    assert intruder.response.content == "These buttons belong to someone else; run the command yourself."
    assert await snapshot(world) == before
    sent = await world.alice.click(shown.response, label="Send it")
    assert sent.followups and await world.coins(world.alice) == 4_000


# -- the catalogue ----------------------------------------------------------------------------------


def catalogue_names(embed: discord.Embed) -> list[str]:
    return [line.split("**")[1] for line in embed.description.splitlines()]


async def test_gifts_pages_through_the_whole_catalogue(simcord_env):
    world = Community.build(simcord_env)

    first = await world.alice.slash(world.channel, "gifts")

    assert first.ephemeral
    seen = catalogue_names(first.response.embeds[0])
    assert first.response.embeds[0].footer.text == "Page 1 of 3 · send one with /gift"
    assert buttons(first.response)["◀ Previous"].get("disabled")
    page = first
    while not buttons(page.response)["Next ▶"].get("disabled"):
        page = await world.alice.click(page.response, label="Next ▶")
        seen += catalogue_names(page.response.embeds[0])
    assert page.response.embeds[0].footer.text == "Page 3 of 3 · send one with /gift"
    assert seen == [g.name for g in sorted(default_gifts(), key=lambda g: (g.price, name_key(g.name)))]
    assert len(seen) == 28
    back = await world.alice.click(page.response, label="◀ Previous")
    assert back.response.embeds[0].footer.text == "Page 2 of 3 · send one with /gift"
    assert (
        "🪙 29,999" in (await world.alice.click(back.response, label="Next ▶")).response.embeds[0].description
    )


async def test_gifts_hides_disabled_gifts_from_members_but_shows_them_to_moderators(simcord_env):
    world = Community.build(simcord_env)
    await world.bot.economy.edit_gift(world.guild.id, "Rose", enabled=False)

    member_view = await world.alice.slash(world.channel, "gifts")
    moderator_view = await world.mod.slash(world.channel, "gifts")

    assert "Rose**" not in member_view.response.embeds[0].description
    assert "🌹 **Rose** · 🪙 1 · *disabled*" in moderator_view.response.embeds[0].description

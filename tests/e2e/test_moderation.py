"""/mod end to end: promo coins, creators and the catalogue, for moderators only."""

from __future__ import annotations

from typing import Any

import pytest
import simcord

from tests.sim import Community, command_id, deliver_twice, pings, requests


def private(env: simcord.Env, result: simcord.InteractionResult) -> str:
    """The one embed's description of a private, ping-free reply."""
    assert result.ephemeral
    assert result.response is not None
    assert pings(env, result.response).nobody
    return result.response.embeds[0].description or ""


async def entries(world: Community, kind: str | None = None) -> list[dict[str, Any]]:
    """Ledger entries with the coins they moved, oldest first."""

    def read(conn):
        rows = conn.execute(
            "SELECT e.id, e.kind, e.actor_id, e.reason, e.idempotency_key, "
            "(SELECT COALESCE(SUM(t.amount), 0) FROM transfers t WHERE t.entry_id = e.id) "
            "FROM entries e WHERE e.guild_id = ? ORDER BY e.id",
            (world.guild.id,),
        ).fetchall()
        keys = ("id", "kind", "actor_id", "reason", "key", "amount")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    found = await world.bot.storage.db.read(read)
    return [e for e in found if kind is None or e["kind"] == kind]


async def test_grant_then_revoke_moves_coins_and_records_who_and_why(simcord_env):
    world = Community.build(simcord_env)

    granted = await world.mod.slash(
        world.channel, "mod grant", member=world.alice, coins=1500, reason="stream winner"
    )
    text = private(simcord_env, granted)
    assert text.startswith("Granted")
    assert "1,500" in text and "Alice" in text
    assert await world.coins(world.alice) == 1500

    revoked = await world.mod.slash(world.channel, "mod revoke", member=world.alice, coins=200, reason="typo")
    text = private(simcord_env, revoked)
    assert text.startswith("Revoked") and "200" in text and "1,300" in text
    assert await world.coins(world.alice) == 1300

    ledger = await entries(world)
    assert [(e["kind"], e["reason"], e["actor_id"], e["amount"]) for e in ledger] == [
        ("grant", "stream winner", world.mod.id, 1500),
        ("revoke", "typo", world.mod.id, 200),
    ]
    await world.assert_books_balance()


async def test_revoke_never_goes_below_zero(simcord_env):
    world = Community.build(simcord_env)
    await world.grant(world.bob, 30)

    result = await world.mod.slash(world.channel, "mod revoke", member=world.bob, coins=500, reason="abuse")
    text = private(simcord_env, result)
    assert "🪙 30" in text and "whole balance" in text
    assert await world.coins(world.bob) == 0
    assert [e["amount"] for e in await entries(world, "revoke")] == [30]

    again = await world.mod.slash(world.channel, "mod revoke", member=world.bob, coins=1, reason="again")
    assert "no promo coins to revoke" in private(simcord_env, again)
    assert await world.coins(world.bob) == 0
    assert len(await entries(world, "revoke")) == 1
    await world.assert_books_balance()


async def test_members_cannot_grant_even_when_an_admin_opens_mod_to_everyone(simcord_env):
    world = Community.build(simcord_env)
    with pytest.raises(simcord.SetupError):  # hidden by default_permissions
        await world.alice.slash(world.channel, "mod grant", member=world.alice, coins=10, reason="me")

    world.guild.set_command_permissions(command_id(simcord_env, "mod"), {world.guild.default_role: True})
    result = await world.alice.slash(world.channel, "mod grant", member=world.alice, coins=10, reason="me")
    assert "Only moderators" in private(simcord_env, result)
    assert await world.coins(world.alice) == 0
    assert await entries(world) == []

    # Autocomplete doesn't run checks, so it must not leak the catalogue (disabled gifts) either.
    assert await world.alice.autocomplete(world.channel, "mod catalogue edit", "name", "ro") == []


async def test_the_configured_moderator_role_can_grant_once_mod_is_opened_to_it(simcord_env):
    world = Community.build(simcord_env)
    helpers = world.guild.create_role("Helpers")
    helen = world.guild.add_member(simcord_env.create_user("helen", global_name="Helen"), roles=[helpers])

    # Before the role is configured, opening /mod to it is not enough: the code check refuses.
    world.guild.set_command_permissions(command_id(simcord_env, "mod"), {helpers: True})
    refused = await helen.slash(world.channel, "mod grant", member=world.bob, coins=5, reason="help")
    assert "Only moderators" in private(simcord_env, refused)

    await world.mod.slash(world.channel, "config set", setting="moderator_role", value=str(helpers.id))
    result = await helen.slash(world.channel, "mod grant", member=world.bob, coins=5, reason="help")
    assert private(simcord_env, result).startswith("Granted")
    assert await world.coins(world.bob) == 5
    assert [e["actor_id"] for e in await entries(world, "grant")] == [helen.id]


async def test_out_of_range_grants_and_grants_to_bots_change_nothing(simcord_env):
    world = Community.build(simcord_env)

    too_much = await world.mod.slash(
        world.channel, "mod grant", member=world.alice, coins=1_000_001, reason="oops"
    )
    assert "1,000,001 is more than the 1,000,000 allowed" in private(simcord_env, too_much)

    to_bot = await world.mod.slash(world.channel, "mod grant", member=world.robot, coins=5, reason="bot")
    assert "Bots can't" in private(simcord_env, to_bot)

    blank = await world.mod.slash(world.channel, "mod grant", member=world.alice, coins=5, reason="   ")
    assert "Give a reason" in private(simcord_env, blank)

    assert await world.coins(world.alice) == 0
    assert await world.coins(world.robot) == 0
    assert await entries(world) == []


async def test_a_redelivered_grant_moves_money_once_and_replies_once(simcord_env):
    world = Community.build(simcord_env)
    interaction_id = await deliver_twice(
        simcord_env, world.mod, world.channel, "mod grant", member=world.alice, coins=250, reason="raffle"
    )
    assert await world.coins(world.alice) == 250
    ledger = await entries(world, "grant")
    assert [(e["key"], e["amount"]) for e in ledger] == [(f"interaction:{interaction_id}", 250)]
    assert len(requests(simcord_env, "POST", f"/interactions/{interaction_id}/*/callback")) == 1
    await world.assert_books_balance()


async def test_names_in_replies_are_escaped_and_ping_nobody(simcord_env):
    world = Community.build(simcord_env)
    prankster = world.guild.add_member(simcord_env.create_user("prank", global_name="@everyone **boss**"))
    result = await world.mod.slash(world.channel, "mod grant", member=prankster, coins=1, reason="@everyone")
    text = private(simcord_env, result)
    assert "@everyone" not in text.replace("@\u200beveryone", "")
    assert "\\*\\*boss\\*\\*" in text
    assert "@everyone" not in result.response.embeds[0].fields[0].value.replace("@\u200beveryone", "")


async def test_creators_are_added_listed_and_removed(simcord_env):
    world = Community.build(simcord_env)
    await world.grant(world.alice, 100)

    added = await world.mod.slash(world.channel, "mod creator add", member=world.carol)
    assert "Carol" in private(simcord_env, added) and "now a creator" in private(simcord_env, added)
    twice = await world.mod.slash(world.channel, "mod creator add", member=world.carol)
    assert "already a creator" in private(simcord_env, twice)
    to_bot = await world.mod.slash(world.channel, "mod creator add", member=world.robot)
    assert "Bots can't" in private(simcord_env, to_bot)

    listed = await world.mod.slash(world.channel, "mod creator list")
    assert f"<@{world.carol.id}>" in private(simcord_env, listed)
    assert f"<@{world.robot.id}>" not in private(simcord_env, listed)

    gift = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=2)
    assert not gift.ephemeral
    assert await world.diamonds(world.carol) == 1

    removed = await world.mod.slash(world.channel, "mod creator remove", member=world.carol)
    assert "no longer a creator" in private(simcord_env, removed)
    not_any_more = await world.mod.slash(world.channel, "mod creator remove", member=world.carol)
    assert "not a creator" in private(simcord_env, not_any_more)

    refused = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=2)
    assert "not a creator here" in private(simcord_env, refused)
    assert await world.coins(world.alice) == 98
    assert await world.diamonds(world.carol) == 1  # diamonds stay theirs

    empty = await world.mod.slash(world.channel, "mod creator list")
    assert "No creators yet" in private(simcord_env, empty)
    await world.assert_books_balance()


async def test_a_long_creator_list_is_paged(simcord_env):
    world = Community.build(simcord_env)
    for n in range(20):
        member = world.guild.add_member(simcord_env.create_user(f"creator{n}"))
        await world.make_creators(member)
    result = await world.mod.slash(world.channel, "mod creator list")
    first = private(simcord_env, result)
    assert first.count("\n") == 14
    await world.mod.click(result.response, label="Next ▶")
    second = result.response.embeds[0].description or ""
    assert second.count("\n") == 4 and second != first


async def test_catalogue_add_edit_disable_enable(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 1000)

    added = await world.mod.slash(
        world.channel, "mod catalogue add", name="Star Dust", emoji="✨", price=7, comboable=True
    )
    assert "Star Dust" in private(simcord_env, added)
    sent = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="star dust", count=2)
    assert not sent.ephemeral
    assert await world.coins(world.alice) == 986

    conflict = await world.mod.slash(world.channel, "mod catalogue add", name="rose", emoji="🌹", price=3)
    assert "already has a gift called" in private(simcord_env, conflict)
    too_dear = await world.mod.slash(
        world.channel, "mod catalogue add", name="Moon", emoji="🌕", price=2_000_000
    )
    assert "between 1 and 1,000,000" in private(simcord_env, too_dear)

    edited = await world.mod.slash(
        world.channel, "mod catalogue edit", name="Star Dust", new_name="Stardust", price=9
    )
    assert "Stardust" in private(simcord_env, edited) and "🪙 9" in private(simcord_env, edited)
    rename_clash = await world.mod.slash(
        world.channel, "mod catalogue edit", name="Stardust", new_name="Rose"
    )
    assert "already has a gift called" in private(simcord_env, rename_clash)
    bad_price = await world.mod.slash(world.channel, "mod catalogue edit", name="Stardust", price=1_000_001)
    assert "between 1 and 1,000,000" in private(simcord_env, bad_price)
    nothing = await world.mod.slash(world.channel, "mod catalogue edit", name="Stardust")
    assert "Say what to change" in private(simcord_env, nothing)
    unknown = await world.mod.slash(world.channel, "mod catalogue edit", name="Nope", price=5)
    assert "no gift called" in private(simcord_env, unknown)

    disabled = await world.mod.slash(world.channel, "mod catalogue disable", name="Stardust")
    assert private(simcord_env, disabled).startswith("Disabled")
    refused = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Stardust")
    assert "not available right now" in private(simcord_env, refused)
    assert await world.coins(world.alice) == 986

    # Moderators still find disabled gifts by name; members' /gift autocomplete doesn't offer them.
    offered = await world.mod.autocomplete(world.channel, "mod catalogue enable", "name", "star")
    assert [c["value"] for c in offered] == ["Stardust"]
    everything = await world.mod.autocomplete(world.channel, "mod catalogue edit", "name", "stard")
    assert [c["value"] for c in everything] == ["Stardust"]
    member_view = await world.alice.autocomplete(world.channel, "gift", "gift", "stard", creator=world.carol)
    assert member_view == []

    enabled = await world.mod.slash(world.channel, "mod catalogue enable", name="Stardust")
    assert private(simcord_env, enabled).startswith("Enabled")
    again = await world.mod.slash(world.channel, "mod catalogue enable", name="Stardust")
    assert "already enabled" in private(simcord_env, again)
    sent = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Stardust")
    # Still within the combo window of the first Stardust, so it grows that combo.
    assert sent.response.content == "✨ Stardust added to your combo — x3 so far."
    assert await world.coins(world.alice) == 977
    await world.assert_books_balance()

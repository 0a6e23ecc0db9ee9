"""The coin store end to end: /store, purchases through SimCord's entitlements, the inbox,
reconciliation, refunds, promotions and /mod store."""

from __future__ import annotations

import json

import discord
import pytest
import simcord

from tests.sim import Community, acknowledge_errors, close_dms, command_id, pings
from tests.store_helpers import (
    Restarts,
    adult,
    consumed,
    deliver_delete_again,
    dms,
    ledger,
    legs,
    receipts,
    sell,
    sql,
    wallet,
)

HOUR = 3_600


@pytest.fixture
async def restarts(simcord_env, settings):
    tracker = Restarts(simcord_env, settings)
    yield tracker
    await tracker.close()


def private(env: simcord.Env, result: simcord.InteractionResult) -> discord.Embed:
    """The one embed of a private, ping-free reply."""
    assert result.ephemeral and result.response is not None
    assert pings(env, result.response).nobody
    return result.response.embeds[0]


def text(embed: discord.Embed) -> str:
    fields = " ".join(f"{f.name} {f.value}" for f in embed.fields)
    return f"{embed.title or ''} {embed.description or ''} {fields} {embed.footer.text or ''}"


async def purchases(world: Community) -> list[tuple[int, int | None, str, int, int, bool]]:
    """(entitlement, guild, status, paid coins, bonus coins, consumed) per purchase."""
    return await sql(  # type: ignore[return-value]
        world,
        "SELECT entitlement_id, guild_id, status, coins, bonus_coins, consumed_at IS NOT NULL "
        "FROM purchases ORDER BY entitlement_id",
    )


async def other_guild(world: Community, *members: simcord.MemberActor) -> tuple[simcord.GuildHandle, dict]:
    guild = world.env.create_guild("Second Room")
    channel = guild.create_text_channel("chat")
    joined = {m.id: guild.add_member(m.user) for m in members}
    return guild, {"channel": channel, **joined}


# -- /store view -------------------------------------------------------------------------------


async def test_a_server_that_sells_nothing_says_coins_come_from_moderator_grants(simcord_env):
    world = Community.build(simcord_env)
    shown = private(simcord_env, await world.alice.slash(world.channel, "store view"))
    assert "doesn't sell coins" in text(shown) and "moderator grants" in text(shown)


async def test_moderators_sell_a_package_and_members_get_buy_buttons_after_the_age_check(simcord_env):
    world = Community.build(simcord_env)
    sku = simcord_env.create_sku("388 coins", type=discord.SKUType.consumable)
    packages = await world.mod.autocomplete(world.channel, "mod store map", "package", "350 + 38", sku="1")
    skus = await world.mod.autocomplete(world.channel, "mod store map", "sku", "388", package="1")
    assert [c["name"] for c in packages] == ["350 + 38 bonus coins · not for sale"]
    assert skus == [{"name": f"388 coins · {sku.id}", "value": str(sku.id)}]

    mapped = await world.mod.slash(
        world.channel, "mod store map", package=packages[0]["value"], sku=skus[0]["value"]
    )
    assert "Now selling" in text(private(simcord_env, mapped)) and str(sku.id) in text(
        mapped.response.embeds[0]
    )

    asked = await world.alice.slash(world.channel, "store view")
    assert private(simcord_env, asked).title == "Please confirm your age"
    assert "sells coins" in text(asked.response.embeds[0])
    assert await sql(world, "SELECT * FROM purchase_intents") == []
    await world.alice.click(asked.response, label="I am 18 or older")

    shown = await world.alice.slash(world.channel, "store view")
    embed = private(simcord_env, shown)
    assert embed.title == "🪙 Coin store" and "388 (350 + 38 bonus)" in text(embed)
    buttons = [c for row in shown.response.components for c in row["components"]]
    assert [(b["style"], int(b["sku_id"])) for b in buttons] == [(discord.ButtonStyle.premium.value, sku.id)]
    assert await sql(world, "SELECT user_id, sku_id, guild_id FROM purchase_intents") == [
        (world.alice.id, sku.id, world.guild.id)
    ]


# -- purchases: which guild --------------------------------------------------------------------


async def test_a_purchase_is_credited_in_the_guild_of_the_latest_intent_and_consumed(simcord_env):
    world = Community.build(simcord_env)
    sku = await sell(world)
    second, there = await other_guild(world, world.alice)
    await sell(world, guild_id=second.id, sku=sku)
    await adult(world, world.alice)
    await adult(world, world.alice, second.id)
    await world.alice.slash(world.channel, "store view")
    await there[world.alice.id].slash(there["channel"], "store view")  # the latest intent

    bought = await simcord_env.grant_entitlement(sku, user=world.alice)

    assert await wallet(world, world.alice, second.id) == (0, 388)
    assert await wallet(world, world.alice) == (0, 0)
    assert consumed(bought)
    ((entry_id, kind, key),) = await ledger(world, second.id)
    assert (kind, key) == ("purchase", f"entitlement:{bought.id}")
    assert await legs(world, entry_id) == [("0:store", f"{world.alice.id}:coins_paid", 388)]
    (receipt,) = receipts(world.alice)
    assert f"#{entry_id}" in text(receipt) and "Second Room" in text(receipt) and "388" in text(receipt)
    assert all(pings(simcord_env, m).nobody for m in dms(world.alice))
    await world.assert_books_balance()


async def test_a_purchase_riding_on_a_command_is_credited_in_that_guild_before_the_command_runs(simcord_env):
    world = Community.build(simcord_env)
    sku = await sell(world)
    second, there = await other_guild(world, world.alice)
    await sell(world, guild_id=second.id, sku=sku)
    await adult(world, world.alice, second.id)
    await there[world.alice.id].slash(there["channel"], "store view")  # an intent elsewhere
    # Bought, but the event never reached the bot: it rides on the member's next interaction.
    bought = simcord_env.seed_entitlement(sku, user=world.alice)

    shown = await world.alice.slash(world.channel, "balance")

    assert "388" in text(private(simcord_env, shown))  # /balance already sees the coins
    assert await wallet(world, world.alice) == (0, 388)
    assert await wallet(world, world.alice, second.id) == (0, 0)
    assert consumed(bought)
    assert [(k, key) for _, k, key in await ledger(world)] == [("purchase", f"entitlement:{bought.id}")]
    assert len(receipts(world.alice)) == 1


async def test_a_purchase_with_no_intent_waits_in_the_inbox_until_claimed(simcord_env):
    world = Community.build(simcord_env)
    sku = await sell(world)
    second, there = await other_guild(world, world.alice)  # sells nothing
    await adult(world, world.alice)

    bought = await simcord_env.grant_entitlement(sku, user=world.alice)

    assert consumed(bought)  # consumed: the coins are safe in the inbox
    assert await wallet(world, world.alice) == (0, 0)
    assert await ledger(world) == []
    (waiting,) = receipts(world.alice)
    assert "/store claim" in text(waiting)
    choices = await world.alice.autocomplete(world.channel, "store claim", "purchase", "")
    assert [c["value"] for c in choices] == [str(bought.id)] and "388 coins" in choices[0]["name"]

    typed = await world.alice.slash(world.channel, "store claim", purchase="the big one")
    assert "Pick a purchase from the list" in text(private(simcord_env, typed))
    elsewhere = await there[world.alice.id].slash(there["channel"], "store claim")
    assert "doesn't sell" in text(private(simcord_env, elsewhere))
    assert await ledger(world, second.id) == []

    claimed = await world.alice.slash(world.channel, "store claim", purchase=str(bought.id))

    embed = private(simcord_env, claimed)
    assert embed.title == "🧾 Coins claimed" and "388" in text(embed)
    ((entry_id, kind, key),) = await ledger(world)
    assert (kind, key) == ("purchase", f"entitlement:{bought.id}") and f"#{entry_id}" in text(embed)
    assert await wallet(world, world.alice) == (0, 388)
    again = await world.alice.slash(world.channel, "store claim")
    assert "no purchases waiting" in text(private(simcord_env, again))
    await world.assert_books_balance()


async def test_the_same_entitlement_delivered_twice_is_credited_once(simcord_env):
    world = Community.build(simcord_env)
    sku = await sell(world)
    await adult(world, world.alice)
    await world.alice.slash(world.channel, "store view")

    bought = await simcord_env.grant_entitlement(sku, user=world.alice)
    await bought.replay_create()

    assert await wallet(world, world.alice) == (0, 388)
    assert len(await ledger(world)) == 1
    assert len(receipts(world.alice)) == 1
    assert await purchases(world) == [(bought.id, world.guild.id, "credited", 388, 0, True)]
    consumes = [e for e in simcord_env.http_requests if e.path.endswith(f"/entitlements/{bought.id}/consume")]
    assert len(consumes) == 1  # the replay found it credited and consumed: nothing to do


async def test_a_purchase_riding_on_a_button_click_is_credited_in_that_guild(simcord_env):
    world = Community.build(simcord_env)
    sku = await sell(world)
    await world.make_creators()
    asked = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    bought = simcord_env.seed_entitlement(sku, user=world.alice)

    await world.alice.click(asked.response, label="I am 18 or older")

    assert await wallet(world, world.alice) == (0, 388)
    assert consumed(bought) and len(receipts(world.alice)) == 1


# -- start-up and crashes ----------------------------------------------------------------------


async def test_a_purchase_made_while_the_bot_was_down_is_credited_at_start_up(simcord_env, restarts):
    world = Community.build(simcord_env)
    sku = await sell(world)
    await adult(world, world.alice)
    await world.alice.slash(world.channel, "store view")
    await world.bot.storage.close()
    bought = simcord_env.seed_entitlement(sku, user=world.alice)  # no event: the bot is down

    await restarts.restart(crash=True)  # its database is already closed: a clean stop

    assert await wallet(world, world.alice) == (0, 388)
    assert consumed(bought)
    assert await purchases(world) == [(bought.id, world.guild.id, "credited", 388, 0, True)]
    assert len(receipts(world.alice)) == 1
    await world.assert_books_balance()


async def test_a_crash_between_credit_and_consume_never_credits_twice(simcord_env, restarts):
    world = Community.build(simcord_env)
    sku = await sell(world)
    await adult(world, world.alice)
    await world.alice.slash(world.channel, "store view")
    simcord_env.inject_error("POST", "/applications/*/entitlements/*/consume", status=500, times=2)

    bought = await simcord_env.grant_entitlement(sku, user=world.alice)

    assert not consumed(bought)
    assert await purchases(world) == [(bought.id, world.guild.id, "credited", 388, 0, False)]
    # Still unconsumed, so it rides on the next command: nothing is credited again.
    await world.alice.slash(world.channel, "balance")
    assert not consumed(bought) and await wallet(world, world.alice) == (0, 388)

    await restarts.restart(crash=True)  # the process dies before consuming; then it comes back

    assert consumed(bought)
    assert await wallet(world, world.alice) == (0, 388)
    assert await purchases(world) == [(bought.id, world.guild.id, "credited", 388, 0, True)]
    assert [kind for _, kind, _ in await ledger(world)] == ["purchase"]
    assert len(receipts(world.alice)) == 1
    await world.assert_books_balance()


async def test_a_consume_discord_already_applied_counts_as_done_after_a_crash(simcord_env, restarts):
    world = Community.build(simcord_env)
    sku = await sell(world)
    await adult(world, world.alice)
    await world.alice.slash(world.channel, "store view")
    # Discord consumed it, but the process died before recording that.
    simcord_env.inject_error("POST", "/applications/*/entitlements/*/consume", status=500, times=1)
    bought = await simcord_env.grant_entitlement(sku, user=world.alice)
    simcord_env.backend.consume_entitlement(bought.id)

    await restarts.restart(crash=True)

    assert await purchases(world) == [(bought.id, world.guild.id, "credited", 388, 0, True)]
    retried = [e for e in simcord_env.http_requests if e.path.endswith(f"/entitlements/{bought.id}/consume")]
    assert len(retried) == 2  # the failed one, then one answered "already consumed" (40022)
    assert await wallet(world, world.alice) == (0, 388)


# -- refunds -----------------------------------------------------------------------------------


async def test_a_refund_after_part_was_spent_claws_back_coins_and_diamonds_never_below_zero(simcord_env):
    world = Community.build(simcord_env)
    audit = world.guild.create_text_channel("audit")
    await world.bot.economy.set_config(world.guild.id, "audit_channel", str(audit.id), actor_id=world.mod.id)
    await world.make_creators()
    sku = await sell(world)
    await adult(world, world.alice)
    await world.alice.slash(world.channel, "store view")
    bought = await simcord_env.grant_entitlement(sku, user=world.alice)
    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=300)
    carol = await world.bot.storage.balances(guild_id=world.guild.id, user_id=world.carol.id)
    assert (carol.paid_diamonds, carol.held_diamonds) == (150, 150)

    await bought.revoke()

    assert await wallet(world, world.alice) == (0, 0)
    carol = await world.bot.storage.balances(guild_id=world.guild.id, user_id=world.carol.id)
    assert (carol.diamonds, carol.paid_diamonds, carol.held_diamonds) == (0, 0, 0)
    refund_id, kind, key = (await ledger(world))[-1]
    assert (kind, key) == ("refund", f"refund:{bought.id}")
    assert await legs(world, refund_id) == [
        (f"{world.alice.id}:coins_paid", "0:store", 88),
        (f"{world.carol.id}:diamonds_paid", "0:diamond_issuer", 150),
    ]
    assert await sql(world, "SELECT status, unrecovered FROM purchases") == [("refunded", 300)]
    (payload,) = await sql(
        world, "SELECT payload FROM outbox WHERE kind = 'audit' AND dedupe_key LIKE 'audit:refund:%'"
    )
    posted = json.loads(payload[0])
    assert posted["entry_id"] == refund_id and posted["amount"] == 88
    assert posted["details"]["coins_unrecovered"] == 300 and posted["details"]["diamonds_recovered"] == 150
    (post,) = [m for m in audit.history(viewer=world.mod) if m.embeds[0].title == "💸 Purchase refunded"]
    assert f"#{refund_id}" in text(post.embeds[0]) and "coins unrecovered: 300" in text(post.embeds[0])
    assert pings(simcord_env, post).nobody
    await world.assert_books_balance()

    await deliver_delete_again(simcord_env, bought)
    assert [k for _, k, _ in await ledger(world)].count("refund") == 1
    assert await wallet(world, world.alice) == (0, 0)


# -- promotions --------------------------------------------------------------------------------


async def test_a_promotion_adds_its_bonus_only_to_purchases_inside_its_window(simcord_env):
    world = Community.build(simcord_env)
    sku = await sell(world)
    await adult(world, world.alice)
    created = await world.mod.slash(world.channel, "mod promo create", percent=20, starts="in 1h", ends="+2h")
    embed = private(simcord_env, created)
    assert embed.title == "Promotion #1: +20%" and "<t:" in text(embed)

    await world.alice.slash(world.channel, "store view")
    before = await simcord_env.grant_entitlement(sku, user=world.alice)
    await simcord_env.advance_time(HOUR)
    shown = await world.alice.slash(world.channel, "store view")
    assert "+20%" in text(shown.response.embeds[0]) and "+77 promotion bonus" in text(
        shown.response.embeds[0]
    )
    during = await simcord_env.grant_entitlement(sku, user=world.alice)
    await simcord_env.advance_time(2 * HOUR)
    after = await simcord_env.grant_entitlement(sku, user=world.alice)

    assert await wallet(world, world.alice) == (77, 3 * 388)
    assert [(p[0], p[4]) for p in await purchases(world)] == [(before.id, 0), (during.id, 77), (after.id, 0)]
    bonus = [(entry, key) for entry, kind, key in await ledger(world) if kind == "purchase_bonus"]
    assert [key for _, key in bonus] == [f"entitlement:{during.id}:bonus"]
    assert await legs(world, bonus[0][0]) == [("0:promo_issuer", f"{world.alice.id}:coins_promo", 77)]
    receipt = text(receipts(world.alice)[1])
    assert "Promotion +20%" in receipt and f"bonus #{bonus[0][0]}" in receipt
    await world.assert_books_balance()


async def test_a_purchase_made_during_a_promotion_while_the_bot_was_down_still_gets_the_bonus(
    simcord_env, restarts
):
    world = Community.build(simcord_env)
    sku = await sell(world, 70, 0)
    await adult(world, world.alice)
    await world.mod.slash(world.channel, "mod promo create", percent=50, starts="now", ends="in 1h")
    await world.alice.slash(world.channel, "store view")
    await world.bot.storage.close()
    bought = simcord_env.seed_entitlement(sku, user=world.alice)  # during the promotion
    await simcord_env.advance_time(3 * HOUR)  # back up after it ended

    await restarts.restart(crash=True)

    assert await wallet(world, world.alice) == (35, 70)
    assert consumed(bought)


async def test_promotions_are_listed_and_a_cancelled_one_adds_nothing_after(simcord_env):
    world = Community.build(simcord_env)
    sku = await sell(world, 70, 0)
    await adult(world, world.alice)
    await world.mod.slash(world.channel, "mod promo create", percent=50, starts="now", ends="+1d")
    await world.mod.slash(world.channel, "mod promo create", percent=10, starts="in 2d", ends="+1d")

    listed = private(simcord_env, await world.mod.slash(world.channel, "mod promo list"))
    assert [f.name for f in listed.fields] == ["Running", "Upcoming"]
    assert "+50%" in listed.fields[0].value and "<t:" in listed.fields[0].value
    choices = await world.mod.autocomplete(world.channel, "mod promo cancel", "promo", "")
    assert [c["value"] for c in choices] == ["2", "1"]

    cancelled = await world.mod.slash(world.channel, "mod promo cancel", promo="1")
    assert "Cancelled promotion #1" in text(private(simcord_env, cancelled))
    await world.alice.slash(world.channel, "store view")
    await simcord_env.grant_entitlement(sku, user=world.alice)
    assert await wallet(world, world.alice) == (0, 70)
    again = await world.mod.slash(world.channel, "mod promo cancel", promo="1")
    assert "already ended or was cancelled" in text(private(simcord_env, again))
    bad = await world.mod.slash(world.channel, "mod promo create", percent=5, starts="yesterday", ends="+1d")
    assert "not a time I understand" in text(private(simcord_env, bad))


# -- /mod store --------------------------------------------------------------------------------


async def test_packages_are_added_sold_and_removed_with_an_audit_row_each(simcord_env):
    world = Community.build(simcord_env)
    audit = world.guild.create_text_channel("audit")
    await world.bot.economy.set_config(world.guild.id, "audit_channel", str(audit.id), actor_id=world.mod.id)
    sku = simcord_env.create_sku("Mega pack", type=discord.SKUType.consumable)

    added = await world.mod.slash(world.channel, "mod store add", coins=17_500, bonus=5_500)
    assert "17,500 + 5,500 bonus coins" in text(private(simcord_env, added))
    (choice,) = await world.mod.autocomplete(world.channel, "mod store map", "package", "17500", sku="1")
    await world.mod.slash(world.channel, "mod store map", package=choice["value"], sku=str(sku.id))
    listed = text(private(simcord_env, await world.mod.slash(world.channel, "mod store list")))
    assert f"17,500 + 5,500 bonus coins** · SKU `{sku.id}`" in listed and "not for sale" in listed
    assert await world.bot.coin_store.sells_coins(world.guild.id)

    removed = await world.mod.slash(world.channel, "mod store remove", package=choice["value"])
    assert "Removed" in text(private(simcord_env, removed))
    assert "17,500" not in text(private(simcord_env, await world.mod.slash(world.channel, "mod store list")))
    assert not await world.bot.coin_store.sells_coins(world.guild.id)
    events = [
        json.loads(p)["event"] for (p,) in await sql(world, "SELECT payload FROM outbox WHERE kind = 'audit'")
    ]
    assert events == ["package_added", "package_mapped", "package_removed"]


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("abc", "not a SKU id"),
        ("12", "not a SKU id"),
        ("1456074443980800999", "not one of this application's SKUs"),
        ("DURABLE", "not a consumable SKU"),
    ],
)
async def test_mapping_refuses_what_is_not_a_consumable_sku_of_this_app(simcord_env, typed, says):
    world = Community.build(simcord_env)
    simcord_env.create_sku("Coins", type=discord.SKUType.consumable)
    durable = simcord_env.create_sku("Badge", type=discord.SKUType.durable)
    sku = str(durable.id) if typed == "DURABLE" else typed
    refused = await world.mod.slash(world.channel, "mod store map", package="1", sku=sku)
    assert says in text(private(simcord_env, refused))
    assert not await world.bot.coin_store.sells_coins(world.guild.id)


async def test_members_cannot_change_the_store_even_when_mod_is_opened_to_everyone(simcord_env):
    world = Community.build(simcord_env)
    world.guild.set_command_permissions(command_id(simcord_env, "mod"), {world.guild.default_role: True})
    sku = simcord_env.create_sku("Coins", type=discord.SKUType.consumable)

    for name, options in (
        ("mod store map", {"package": "1", "sku": str(sku.id)}),
        ("mod store add", {"coins": 5}),
        ("mod promo create", {"percent": 50, "starts": "now", "ends": "+1d"}),
    ):
        refused = await world.alice.slash(world.channel, name, **options)
        assert "Only moderators" in text(private(simcord_env, refused))
    assert await world.alice.autocomplete(world.channel, "mod store map", "package", "", sku="1") == []
    assert await world.alice.autocomplete(world.channel, "mod store map", "sku", "", package="1") == []
    assert await world.alice.autocomplete(world.channel, "mod promo cancel", "promo", "") == []
    assert not await world.bot.coin_store.sells_coins(world.guild.id)
    assert await world.bot.coin_store.promotions(world.guild.id) == []
    assert await sql(world, "SELECT COUNT(*) FROM coin_packages WHERE coins = 5") == [(0,)]


# -- receipts and the age gate -----------------------------------------------------------------


async def test_a_receipt_rides_privately_on_the_command_when_dms_are_closed(simcord_env):
    world = Community.build(simcord_env)
    sku = await sell(world)
    close_dms(simcord_env, world.alice)
    bought = simcord_env.seed_entitlement(sku, user=world.alice)

    shown = await world.alice.slash(world.channel, "balance")

    (followup,) = shown.followups
    assert followup.ephemeral and "couldn't send you by DM" in followup.content
    assert f"Purchase {bought.id}" in text(followup.embeds[0]) and pings(simcord_env, followup).nobody
    assert await wallet(world, world.alice) == (0, 388)
    assert acknowledge_errors(simcord_env) == []


async def test_gifts_ask_for_the_age_check_once_the_server_sells_coins(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 10)
    await sell(world)
    asked = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    embed = private(simcord_env, asked)
    assert embed.title == "Please confirm your age" and "sells coins" in text(embed)
    assert await world.coins(world.alice) == 10
    shown = await world.mod.slash(world.channel, "config show")
    (shown_embed,) = shown.followups[0].embeds if shown.followups else shown.response.embeds
    (gate,) = [f for f in shown_embed.fields if f.name == "Age gate"]
    assert "**On**, because this server sells coins" in gate.value

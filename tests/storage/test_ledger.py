"""Grants, revokes and gifts as double-entry bookkeeping: the legs, the balances, the invariants."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from bot.economy.errors import InsufficientCoins
from bot.economy.models import Balances, EntryKind
from storage.money_ops import NothingToRevoke
from tests.storage.books import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    GUILD,
    MOD,
    NOW,
    assert_books_balance,
    gift_named,
    grant,
    ledger_size,
    legs,
    revoke,
    rows,
    send,
    system_balances,
    with_creators,
)


async def balances(store, user_id):
    return await store.balances(guild_id=GUILD, user_id=user_id)


async def test_a_grant_moves_promo_coins_to_the_member(store):
    receipt = await grant(store, ALICE, 500, key="g1")
    assert (receipt.amount, receipt.balance, receipt.created_at, receipt.replayed) == (500, 500, NOW, False)
    assert await legs(store, receipt.entry_id) == [
        ("g1#coins", "0:promo_issuer", f"{ALICE}:coins_promo", "coin", 500)
    ]
    entry = await rows(
        store,
        "SELECT guild_id, idempotency_key, kind, actor_id, reason FROM entries WHERE id = ?",
        (receipt.entry_id,),
    )
    assert entry == [(GUILD, "g1", EntryKind.GRANT.value, MOD, "promo")]
    assert await balances(store, ALICE) == Balances(coins=500, diamonds=0)
    assert (await system_balances(store))["promo_issuer"] == -500
    await assert_books_balance(store)


async def test_a_revoke_moves_coins_back_to_the_promo_issuer(store):
    await grant(store, ALICE, 500, key="g1")
    receipt = await revoke(store, ALICE, 120, key="r1")
    assert (receipt.amount, receipt.balance) == (120, 380)
    assert await legs(store, receipt.entry_id) == [
        ("r1#coins", f"{ALICE}:coins_promo", "0:promo_issuer", "coin", 120)
    ]
    assert await rows(store, "SELECT kind FROM entries WHERE id = ?", (receipt.entry_id,)) == [("revoke",)]
    assert (await system_balances(store))["promo_issuer"] == -380
    await assert_books_balance(store)


async def test_a_revoke_takes_at_most_the_balance(store):
    await grant(store, ALICE, 50, key="g1")
    receipt = await revoke(store, ALICE, 1_000, key="r1")
    assert (receipt.amount, receipt.balance) == (50, 0)
    await assert_books_balance(store)


async def test_revoking_from_an_empty_wallet_changes_nothing(store):
    await grant(store, ALICE, 1, key="g1")
    await revoke(store, ALICE, 1, key="r1")
    before = await ledger_size(store)
    with pytest.raises(NothingToRevoke):
        await revoke(store, ALICE, 1, key="r2")
    with pytest.raises(NothingToRevoke):
        await revoke(store, BOB, 1, key="r3")  # never had a wallet at all
    assert await ledger_size(store) == before


@pytest.mark.parametrize(
    ("gift", "count", "share", "coins", "diamonds"),
    [
        ("Rose", 15, 50, 15, 7),
        ("Corgi", 1, 50, 299, 149),
        ("Lion", 1, 50, 29_999, 14_999),
        ("Finger Heart", 3, 70, 15, 10),
    ],
)
async def test_a_gift_has_three_legs(store, gift, count, share, coins, diamonds):
    await with_creators(store)
    await grant(store, ALICE, 30_000, key="g1")
    receipt = await send(store, ALICE, CAROL, gift, count, key="gift1", share=share)
    platform = coins - diamonds
    assert (receipt.coins, receipt.diamonds, receipt.platform_coins) == (coins, diamonds, platform)
    assert (receipt.sender_id, receipt.creator_id, receipt.count, receipt.gift.name) == (
        ALICE,
        CAROL,
        count,
        gift,
    )
    assert receipt.sender_balance == 30_000 - coins
    assert not receipt.replayed
    assert await legs(store, receipt.entry_id) == [
        ("gift1#coins", f"{ALICE}:coins_promo", "0:gift_sink", "coin", coins),
        ("gift1#platform", "0:gift_sink", "0:platform_fee", "coin", platform),
        ("gift1#diamonds", "0:diamond_issuer", f"{CAROL}:diamonds_promo", "diamond", diamonds),
    ]
    assert await balances(store, ALICE) == Balances(coins=30_000 - coins, diamonds=0)
    assert await balances(store, CAROL) == Balances(coins=0, diamonds=diamonds)
    assert await system_balances(store) == {
        "promo_issuer": -30_000,
        "gift_sink": diamonds,  # the coins that back the creator's diamonds
        "platform_fee": platform,
        "diamond_issuer": -diamonds,
        "store": 0,
        "cashout": 0,
    }
    event = await rows(
        store,
        "SELECT sender_id, creator_id, gift_name, unit_price, count, coins, diamonds FROM gift_events "
        "WHERE entry_id = ?",
        (receipt.entry_id,),
    )
    assert event == [(ALICE, CAROL, gift, coins // count, count, coins, diamonds)]
    await assert_books_balance(store)


async def test_legs_that_would_move_nothing_are_left_out(store):
    await with_creators(store)
    await grant(store, ALICE, 10, key="g1")
    all_to_creator = await send(store, ALICE, CAROL, "Rose", 2, key="s100", share=100)
    assert [leg[0] for leg in await legs(store, all_to_creator.entry_id)] == ["s100#coins", "s100#diamonds"]
    all_to_platform = await send(store, ALICE, CAROL, "Rose", 2, key="s0", share=0)
    assert [leg[0] for leg in await legs(store, all_to_platform.entry_id)] == ["s0#coins", "s0#platform"]
    one_rose = await send(store, ALICE, CAROL, "Rose", 1, key="s50", share=50)
    assert one_rose.diamonds == 0  # floor(0.5): the platform absorbs the fraction
    assert [leg[0] for leg in await legs(store, one_rose.entry_id)] == ["s50#coins", "s50#platform"]
    assert await balances(store, CAROL) == Balances(coins=0, diamonds=2)
    await assert_books_balance(store)


async def test_transfer_keys_are_unique_across_the_ledger(store):
    await with_creators(store)
    await grant(store, ALICE, 10_000, key="g1")
    await grant(store, BOB, 10_000, key="g2")
    for i in range(5):
        await send(store, ALICE, CAROL, "Corgi", key=f"a{i}")
        await send(store, BOB, DAVE, "Doughnut", 2, key=f"b{i}")
    await revoke(store, BOB, 10, key="r1")
    keys = [r[0] for r in await rows(store, "SELECT idempotency_key FROM transfers")]
    assert len(keys) == len(set(keys)) == 2 + 5 * 3 + 5 * 3 + 1
    await assert_books_balance(store)


async def test_a_busy_day_keeps_the_books_balanced(store):
    await with_creators(store)
    for user_id in (ALICE, BOB, CAROL):
        await grant(store, user_id, 5_000, key=f"g{user_id}")
    ops: list[Awaitable[object]] = []
    for i in range(30):
        sender = (ALICE, BOB, CAROL)[i % 3]
        creator = DAVE if sender == CAROL or i % 2 else CAROL
        ops.append(send(store, sender, creator, ("Rose", "Perfume", "Cap")[i % 3], 1 + i % 4, key=f"s{i}"))
    ops.append(revoke(store, ALICE, 100, key="r1"))
    await asyncio.gather(*ops)
    await assert_books_balance(store)
    for user in (ALICE, BOB, CAROL):
        history = await store.history(guild_id=GUILD, user_id=user, limit=100)
        assert (await balances(store, user)).coins == sum(h.coins for h in history.items)
    assert (await balances(store, ALICE)).coins < 5_000 - 100


async def test_idempotent_grant(store):
    first = await grant(store, ALICE, 100, key="same")
    again = await grant(store, ALICE, 100, key="same")
    assert not first.replayed and again.replayed
    assert (again.entry_id, again.amount, again.balance, again.created_at) == (first.entry_id, 100, 100, NOW)
    assert await balances(store, ALICE) == Balances(100, 0)
    assert await rows(store, "SELECT COUNT(*) FROM entries") == [(1,)]
    await assert_books_balance(store)


async def test_idempotent_revoke(store):
    await grant(store, ALICE, 100, key="g1")
    first = await revoke(store, ALICE, 30, key="same")
    again = await revoke(store, ALICE, 30, key="same")
    assert not first.replayed and again.replayed
    assert (again.entry_id, again.amount, again.balance) == (first.entry_id, 30, 70)
    assert await balances(store, ALICE) == Balances(70, 0)
    await assert_books_balance(store)


async def test_idempotent_gift(store):
    await with_creators(store)
    await grant(store, ALICE, 1_000, key="g1")
    first = await send(store, ALICE, CAROL, "Corgi", key="same")
    again = await send(store, ALICE, CAROL, "Corgi", key="same")
    assert not first.replayed and again.replayed
    assert (again.entry_id, again.coins, again.diamonds, again.sender_balance) == (
        first.entry_id,
        299,
        149,
        701,
    )
    assert again.gift.name == "Corgi"
    assert await balances(store, ALICE) == Balances(701, 0)
    assert await balances(store, CAROL) == Balances(0, 149)
    assert await rows(store, "SELECT COUNT(*) FROM gift_events") == [(1,)]
    await assert_books_balance(store)


async def test_the_same_key_delivered_concurrently_moves_money_once(store):
    await with_creators(store)
    await grant(store, ALICE, 1_000, key="g1")
    receipts = await asyncio.gather(*(send(store, ALICE, CAROL, "Corgi", key="dup") for _ in range(10)))
    assert sum(not r.replayed for r in receipts) == 1
    assert {r.entry_id for r in receipts} == {receipts[0].entry_id}
    grants = await asyncio.gather(*(grant(store, BOB, 5, key="dup-grant") for _ in range(10)))
    assert sum(not r.replayed for r in grants) == 1
    assert await balances(store, ALICE) == Balances(701, 0)
    assert await balances(store, BOB) == Balances(5, 0)
    await assert_books_balance(store)


async def test_a_replay_reports_the_original_not_the_new_request(store):
    await grant(store, ALICE, 100, key="same")
    again = await grant(store, ALICE, 9_999, key="same")
    assert again.replayed and again.amount == 100
    assert await balances(store, ALICE) == Balances(100, 0)


async def test_insufficient_coins_are_refused_and_nothing_is_written(store):
    await with_creators(store)
    await grant(store, ALICE, 298, key="g1")
    before = await ledger_size(store)
    with pytest.raises(InsufficientCoins) as refused:
        await send(store, ALICE, CAROL, "Corgi", key="too-much")
    assert (refused.value.balance, refused.value.needed) == (298, 299)
    with pytest.raises(InsufficientCoins):
        await send(store, BOB, CAROL, "Rose", key="no-wallet")  # bob has never had coins
    assert await ledger_size(store) == before
    assert await rows(
        store, "SELECT COUNT(*) FROM entries WHERE idempotency_key IN ('too-much', 'no-wallet')"
    ) == [(0,)]
    assert await balances(store, ALICE) == Balances(298, 0)
    assert await balances(store, CAROL) == Balances(0, 0)
    await assert_books_balance(store)


async def test_a_refused_key_can_be_retried_once_the_coins_are_there(store):
    await with_creators(store)
    with pytest.raises(InsufficientCoins):
        await send(store, ALICE, CAROL, "Rose", key="retry")
    await grant(store, ALICE, 1, key="g1")
    receipt = await send(store, ALICE, CAROL, "Rose", key="retry")
    assert not receipt.replayed and receipt.sender_balance == 0


async def test_a_refusal_in_a_batch_does_not_fail_its_neighbours(store):
    await with_creators(store)
    await grant(store, ALICE, 1_000, key="g1")
    await grant(store, BOB, 10, key="g2")
    corgi, rose = await gift_named(store, "Corgi"), await gift_named(store, "Rose")
    batches_before = store.db.writer.batches
    results = await asyncio.gather(
        send(store, ALICE, CAROL, corgi, key="ok1"),
        send(store, BOB, CAROL, corgi, key="bad"),  # bob has 10 coins
        grant(store, DAVE, 50, key="ok2"),
        send(store, ALICE, DAVE, rose, 3, key="ok3"),
        return_exceptions=True,
    )
    assert store.db.writer.batches == batches_before + 1  # all four shared one transaction
    assert isinstance(results[1], InsufficientCoins)
    assert [isinstance(r, BaseException) for r in results] == [False, True, False, False]
    assert await balances(store, ALICE) == Balances(1_000 - 299 - 3, 0)
    assert await balances(store, BOB) == Balances(10, 0)
    assert await balances(store, CAROL) == Balances(0, 149)
    assert await balances(store, DAVE) == Balances(50, 1)
    assert await rows(store, "SELECT COUNT(*) FROM entries WHERE idempotency_key = 'bad'") == [(0,)]
    await assert_books_balance(store)

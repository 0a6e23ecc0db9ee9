"""A gift is refused whole when the recipient, the gift or the price is not right at commit time."""

from __future__ import annotations

import pytest

from bot.economy.errors import AmountOutOfRange, GiftDisabled, NotACreator, UnknownGift
from bot.economy.models import Balances
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
    rows,
    send,
    with_creators,
)


@pytest.fixture
async def funded(store):
    await with_creators(store, CAROL)
    await grant(store, ALICE, 100_000, key="g1")
    return store


async def assert_nothing_moved(store, before) -> None:
    assert await ledger_size(store) == before
    assert await store.balances(guild_id=GUILD, user_id=ALICE) == Balances(100_000, 0)
    assert await rows(store, "SELECT COUNT(*) FROM member_names") == [(0,)]
    await assert_books_balance(store)


async def test_gifts_go_to_creators_only(funded):
    before = await ledger_size(funded)
    with pytest.raises(NotACreator) as refused:
        await send(funded, ALICE, BOB, "Rose", key="k")
    assert "bob" in refused.value.user_message
    await assert_nothing_moved(funded, before)


async def test_a_removed_creator_receives_nothing_more(funded):
    await send(funded, ALICE, CAROL, "Rose", 4, key="before")
    await funded.remove_creator(guild_id=GUILD, user_id=CAROL, name="carol")
    with pytest.raises(NotACreator):
        await send(funded, ALICE, CAROL, "Rose", key="after")
    assert await funded.balances(guild_id=GUILD, user_id=CAROL) == Balances(0, 2)  # keeps earned diamonds


async def test_a_disabled_gift_is_refused(funded):
    rose = await gift_named(funded, "Rose")
    await funded.edit_gift(guild_id=GUILD, name="Rose", enabled=False, at=NOW)
    before = await ledger_size(funded)
    with pytest.raises(GiftDisabled) as refused:
        await send(funded, ALICE, CAROL, rose, key="k")  # the sender still holds the old item
    assert refused.value.user_message == "Rose is not available right now."
    await assert_nothing_moved(funded, before)


@pytest.mark.parametrize("gift_id", [999_999, -1, 0])
async def test_an_unknown_gift_id_is_refused(funded, gift_id):
    before = await ledger_size(funded)
    with pytest.raises(UnknownGift):
        await send(funded, ALICE, CAROL, key="k", gift_id=gift_id)
    await assert_nothing_moved(funded, before)


async def test_another_guilds_gift_is_unknown_here(funded):
    await funded.ensure_guild(guild_id=2, at=NOW)
    foreign = await funded.gift_by_name(guild_id=2, name="Rose")
    assert foreign is not None
    before = await ledger_size(funded)
    with pytest.raises(UnknownGift):
        await send(funded, ALICE, CAROL, key="k", gift_id=foreign.id)
    await assert_nothing_moved(funded, before)


async def test_the_price_at_commit_time_is_charged(funded):
    corgi = await gift_named(funded, "Corgi")
    await funded.edit_gift(guild_id=GUILD, name="Corgi", price=300, at=NOW)
    receipt = await send(funded, ALICE, CAROL, corgi, key="k")  # quoted at 299
    assert (receipt.coins, receipt.gift.price) == (300, 300)


async def test_a_count_pushing_past_the_limit_is_refused(funded):
    before = await ledger_size(funded)
    with pytest.raises(AmountOutOfRange):
        await send(funded, ALICE, CAROL, "Lion", 34, key="k")  # 1,019,966 coins
    with pytest.raises(AmountOutOfRange):
        await send(funded, ALICE, CAROL, "Rose", 0, key="k2")
    await assert_nothing_moved(funded, before)


async def test_names_are_remembered_at_gift_time(funded):
    await send(funded, ALICE, CAROL, "Rose", key="k1")
    await send(
        funded, ALICE, CAROL, "Rose", key="k2", names={ALICE: "Alice 🌸", CAROL: "carol", MOD: "m", DAVE: "d"}
    )
    assert await rows(funded, "SELECT user_id, name FROM member_names ORDER BY user_id") == [
        (ALICE, "Alice 🌸"),
        (CAROL, "carol"),
    ]

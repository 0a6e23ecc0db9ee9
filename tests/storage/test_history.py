"""A member's history: newest first, paged, each entry's signed effect from their side."""

from __future__ import annotations

from bot.economy.models import EntryKind
from tests.storage.books import ALICE, BOB, CAROL, GUILD, MOD, at, grant, revoke, send, with_creators


async def history(store, user_id, offset=0, limit=10):
    return await store.history(guild_id=GUILD, user_id=user_id, offset=offset, limit=limit)


async def test_a_stranger_has_an_empty_history(store):
    page = await history(store, BOB)
    assert (page.items, page.total, page.page_count) == ([], 0, 1)


async def test_sender_and_creator_see_the_same_gift_from_their_own_side(store):
    await with_creators(store, CAROL)
    await grant(store, ALICE, 1_000, key="g1", when=at(0))
    await send(store, ALICE, CAROL, "Corgi", 2, key="s1", when=at(60))
    await revoke(store, ALICE, 2, key="r1", when=at(120))

    mine = await history(store, ALICE)
    assert mine.total == 3
    assert [(h.kind, h.coins, h.diamonds) for h in mine.items] == [
        (EntryKind.REVOKE, -2, 0),
        (EntryKind.GIFT, -598, 0),
        (EntryKind.GRANT, 1_000, 0),
    ]
    revoked, gift, granted = mine.items
    assert (revoked.reason, revoked.counterparty_id, revoked.created_at) == ("oops", MOD, at(120))
    assert (gift.gift_name, gift.gift_emoji, gift.count, gift.counterparty_id) == ("Corgi", "🐕", 2, CAROL)
    assert gift.reason is None and gift.created_at == at(60)
    assert (granted.reason, granted.counterparty_id, granted.gift_name) == ("promo", MOD, None)

    theirs = await history(store, CAROL)
    assert theirs.total == 1
    (received,) = theirs.items
    assert (received.kind, received.coins, received.diamonds) == (EntryKind.GIFT, 0, 299)
    assert (received.counterparty_id, received.entry_id) == (ALICE, gift.entry_id)


async def test_history_pages_newest_first(store):
    for i in range(23):
        await grant(store, ALICE, i + 1, key=f"g{i}", when=at(i))
    await grant(store, BOB, 5, key="other")  # someone else's entries do not show
    pages = [await history(store, ALICE, offset=offset, limit=10) for offset in (0, 10, 20)]
    assert [len(p.items) for p in pages] == [10, 10, 3]
    assert {p.total for p in pages} == {23}
    assert [p.page_number for p in pages] == [1, 2, 3]
    assert pages[0].page_count == 3
    amounts = [h.coins for p in pages for h in p.items]
    assert amounts == list(range(23, 0, -1))
    assert (await history(store, ALICE, offset=30)).items == []


async def test_a_creator_who_also_sends_sees_both(store):
    await with_creators(store, CAROL, ALICE)
    await grant(store, CAROL, 100, key="g1")
    await grant(store, BOB, 100, key="g2")
    await send(store, BOB, CAROL, "Rosa", key="in")  # 10 coins
    await send(store, CAROL, ALICE, "Perfume", key="out")  # 20 coins
    items = (await history(store, CAROL)).items
    assert [(h.coins, h.diamonds, h.counterparty_id) for h in items] == [
        (-20, 0, ALICE),
        (0, 5, BOB),
        (100, 0, MOD),
    ]


async def test_past_gifts_keep_the_name_they_had(store):
    await with_creators(store, CAROL)
    await grant(store, ALICE, 10, key="g1")
    await send(store, ALICE, CAROL, "Rose", key="s1")
    await store.edit_gift(guild_id=GUILD, name="Rose", new_name="Red Rose", emoji="🥀", price=2, at=at(5))
    (gift, _) = (await history(store, ALICE)).items
    assert (gift.gift_name, gift.gift_emoji, gift.coins) == ("Rose", "🌹", -1)


async def test_history_is_per_guild(store):
    await grant(store, ALICE, 10, key="here")
    await store.grant(
        guild_id=2, user_id=ALICE, amount=7, actor_id=MOD, reason="elsewhere", key="there", at=at()
    )
    assert [h.coins for h in (await history(store, ALICE)).items] == [10]
    assert (await store.balances(guild_id=2, user_id=ALICE)).coins == 7

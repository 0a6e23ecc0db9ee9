"""A guild's catalogue: add, edit, rename and disable gifts without clashing names."""

from __future__ import annotations

import pytest

from bot.economy.errors import CatalogueConflict, UnknownGift
from bot.economy.models import GiftItem
from tests.storage.books import GUILD, NOW, at, rows


async def add(store, name, price=7, emoji="💋", comboable=False):
    return await store.add_gift(
        guild_id=GUILD, name=name, emoji=emoji, price=price, comboable=comboable, at=NOW
    )


async def test_a_new_gift_joins_the_catalogue(store):
    kiss = await add(store, "Kiss", 7, comboable=True)
    assert kiss == GiftItem(kiss.id, GUILD, "Kiss", "💋", 7, True, True)
    assert await store.gift_by_name(guild_id=GUILD, name="  KISS ") == kiss
    names = [g.name for g in await store.gifts(guild_id=GUILD)]
    assert len(names) == 29
    assert names.index("Kiss") == names.index("Rosa") - 1  # 7 coins: just before Rosa's 10


@pytest.mark.parametrize("name", ["Rose", "rose", "ROSE", "Money Gun", "money gun"])
async def test_a_name_already_taken_is_refused(store, name):
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    with pytest.raises(CatalogueConflict) as refused:
        await add(store, name)
    assert name in refused.value.user_message
    assert len(await store.gifts(guild_id=GUILD)) == 28


async def test_editing_changes_only_what_is_given(store):
    before, after = await store.edit_gift(guild_id=GUILD, name="corgi", price=300, at=at(5))
    assert (before.name, before.price, before.emoji) == ("Corgi", 299, "🐕")
    assert after == GiftItem(before.id, GUILD, "Corgi", "🐕", 300, True, before.comboable)
    assert await store.gift_by_name(guild_id=GUILD, name="Corgi") == after
    assert await rows(store, "SELECT updated_at FROM catalogue WHERE id = ?", (after.id,)) == [
        (int(at(5).timestamp() * 1000),)
    ]


async def test_renaming(store):
    _, renamed = await store.edit_gift(guild_id=GUILD, name="Rose", new_name="Red Rose", emoji="🥀", at=NOW)
    assert (renamed.name, renamed.emoji) == ("Red Rose", "🥀")
    assert await store.gift_by_name(guild_id=GUILD, name="Rose") is None
    assert await store.gift_by_name(guild_id=GUILD, name="red rose") == renamed
    # the old name is free again
    assert (await add(store, "Rose")).name == "Rose"


async def test_renaming_onto_another_gift_is_refused(store):
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    with pytest.raises(CatalogueConflict):
        await store.edit_gift(guild_id=GUILD, name="Rose", new_name="lion", at=NOW)
    rose = await store.gift_by_name(guild_id=GUILD, name="Rose")
    assert rose is not None and rose.name == "Rose"


async def test_changing_only_the_case_of_a_name_is_allowed(store):
    _, after = await store.edit_gift(guild_id=GUILD, name="Tiktok", new_name="TIKTOK", at=NOW)
    assert after.name == "TIKTOK"


async def test_editing_an_unknown_gift_is_refused(store):
    with pytest.raises(UnknownGift):
        await store.edit_gift(guild_id=GUILD, name="Unicorn", price=5, at=NOW)


async def test_disabled_gifts_are_hidden_but_kept(store):
    _, off = await store.edit_gift(guild_id=GUILD, name="Lion", enabled=False, at=NOW)
    assert not off.enabled
    assert "Lion" not in [g.name for g in await store.gifts(guild_id=GUILD)]
    assert "Lion" in [g.name for g in await store.gifts(guild_id=GUILD, include_disabled=True)]
    assert await store.search_gifts(guild_id=GUILD, text="lio") == []
    _, on = await store.edit_gift(guild_id=GUILD, name="Lion", enabled=True, at=NOW)
    assert on.enabled and (await store.search_gifts(guild_id=GUILD, text="lio"))[0].name == "Lion"


async def test_search_puts_prefix_matches_first(store):
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    # names starting with the text come first (by price), then names merely containing it
    found = [g.name for g in await store.search_gifts(guild_id=GUILD, text="CO")]
    assert found == ["Confetti", "Corgi", "Ice Cream Cone"]
    assert [g.name for g in await store.search_gifts(guild_id=GUILD, text="ro")] == ["Rose", "Rosa", "Rocket"]
    assert [g.name for g in await store.search_gifts(guild_id=GUILD, text="ro", limit=2)] == ["Rose", "Rosa"]
    assert [g.name for g in await store.search_gifts(guild_id=GUILD, text="money  gun")] == ["Money Gun"]


async def test_search_treats_wildcards_literally(store):
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    assert await store.search_gifts(guild_id=GUILD, text="%") == []
    assert await store.search_gifts(guild_id=GUILD, text="_") == []
    await add(store, "100% Love")
    await add(store, "snake_case", price=8)
    assert [g.name for g in await store.search_gifts(guild_id=GUILD, text="%")] == ["100% Love"]
    assert [g.name for g in await store.search_gifts(guild_id=GUILD, text="e_c")] == ["snake_case"]


async def test_an_empty_search_lists_enabled_gifts_cheapest_first(store):
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    found = await store.search_gifts(guild_id=GUILD, text="", limit=25)
    assert len(found) == 25
    assert [g.price for g in found] == sorted(g.price for g in found)

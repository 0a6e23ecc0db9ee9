"""A guild's books open once: four system accounts and its own copy of the default catalogue."""

from __future__ import annotations

import asyncio

from bot.economy.catalogue import default_gifts
from storage import Storage
from tests.storage.books import GUILD, NOW, SYSTEM_CODES, at, count, rows, system_balances


async def test_first_use_seeds_system_accounts_and_the_catalogue(store):
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    accounts = await rows(
        store,
        "SELECT code, currency, non_negative, balance FROM accounts WHERE guild_id = ? ORDER BY id",
        (GUILD,),
    )
    assert accounts == [
        ("promo_issuer", "coin", 0, 0),
        ("gift_sink", "coin", 1, 0),
        ("platform_fee", "coin", 1, 0),
        ("diamond_issuer", "diamond", 0, 0),
        ("store", "coin", 0, 0),
        ("cashout", "diamond", 1, 0),
    ]
    gifts = await store.gifts(guild_id=GUILD)
    assert len(gifts) == 28
    assert {(g.name, g.emoji, g.price, g.comboable) for g in gifts} == {
        (d.name, d.emoji, d.price, d.comboable) for d in default_gifts()
    }
    assert all(g.enabled and g.guild_id == GUILD for g in gifts)
    assert [g.price for g in gifts] == sorted(g.price for g in gifts)  # listed cheapest first


async def test_seeding_happens_exactly_once(store, tmp_path):
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    await store.ensure_guild(guild_id=GUILD, at=at(60))
    await asyncio.gather(*(store.ensure_guild(guild_id=7, at=NOW) for _ in range(5)))
    # A second Storage on the same file has an empty cache: the database itself must say no.
    other = Storage(tmp_path / "x.sqlite3")
    await other.open()
    try:
        await other.ensure_guild(guild_id=GUILD, at=at(120))
    finally:
        await other.close()
    assert await count(store, "guilds") == 2
    assert await count(store, "accounts") == 12
    assert await count(store, "coin_packages") == 12
    assert await count(store, "catalogue") == 56
    assert await rows(store, "SELECT created_at FROM guilds WHERE guild_id = ?", (GUILD,)) == [
        (int(NOW.timestamp() * 1000),)
    ]


async def test_guilds_have_separate_books(store):
    await store.ensure_guild(guild_id=1, at=NOW)
    await store.ensure_guild(guild_id=2, at=NOW)
    assert set(await system_balances(store, 1)) == SYSTEM_CODES
    assert set(await system_balances(store, 2)) == SYSTEM_CODES
    await store.edit_gift(guild_id=1, name="Rose", price=2, at=NOW)
    rose_1 = await store.gift_by_name(guild_id=1, name="Rose")
    rose_2 = await store.gift_by_name(guild_id=2, name="Rose")
    assert rose_1 is not None and rose_2 is not None
    assert (rose_1.price, rose_2.price) == (2, 1)
    assert rose_1.id != rose_2.id


async def test_any_write_opens_the_guild(store):
    await store.grant(guild_id=5, user_id=9, amount=1, actor_id=1, reason="r", key="k", at=NOW)
    assert set(await system_balances(store, 5)) == SYSTEM_CODES
    assert len(await store.gifts(guild_id=5)) == 28

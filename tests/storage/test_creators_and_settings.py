"""Creators come and go (keeping their diamonds); every setting change is recorded."""

from __future__ import annotations

import pytest

from bot.economy.errors import AlreadyCreator
from bot.economy.models import Creator, SettingChange
from storage.catalogue_ops import NotCreator
from tests.storage.books import ALICE, CAROL, DAVE, GUILD, MOD, at, rows


async def add_creator(store, user_id, name, when):
    return await store.add_creator(guild_id=GUILD, user_id=user_id, name=name, actor_id=MOD, at=when)


async def test_creators_are_listed_in_the_order_they_were_added(store):
    dave = await add_creator(store, DAVE, "dave", at(0))
    carol = await add_creator(store, CAROL, "carol", at(10))
    assert dave == Creator(GUILD, DAVE, MOD, at(0))
    assert await store.creators(guild_id=GUILD) == [dave, carol]
    assert await store.is_creator(guild_id=GUILD, user_id=CAROL)
    assert not await store.is_creator(guild_id=GUILD, user_id=ALICE)
    assert await store.creators(guild_id=2) == []


async def test_adding_a_creator_twice_is_refused(store):
    await add_creator(store, CAROL, "carol", at(0))
    with pytest.raises(AlreadyCreator) as refused:
        await add_creator(store, CAROL, "carol", at(5))
    assert refused.value.user_message == "carol is already a creator."
    assert await store.creators(guild_id=GUILD) == [Creator(GUILD, CAROL, MOD, at(0))]


async def test_removing_a_creator(store):
    await add_creator(store, CAROL, "carol", at(0))
    await store.remove_creator(guild_id=GUILD, user_id=CAROL, name="carol")
    assert await store.creators(guild_id=GUILD) == []
    with pytest.raises(NotCreator) as refused:
        await store.remove_creator(guild_id=GUILD, user_id=CAROL, name="carol")
    assert refused.value.user_message == "carol is not a creator."
    again = await add_creator(store, CAROL, "carol", at(20))
    assert again.added_at == at(20)


async def test_a_setting_change_is_stored_and_recorded(store):
    first = await store.set_guild_setting(
        guild_id=GUILD, key="creator_share", value="60", actor_id=MOD, at=at(0)
    )
    assert first == SettingChange("creator_share", None, "60", MOD, at(0))
    second = await store.set_guild_setting(
        guild_id=GUILD, key="creator_share", value="70", actor_id=ALICE, at=at(5)
    )
    assert second == SettingChange("creator_share", "60", "70", ALICE, at(5))
    await store.set_guild_setting(guild_id=GUILD, key="timezone", value="Asia/Tokyo", actor_id=MOD, at=at(9))
    assert await store.guild_settings(guild_id=GUILD) == {"creator_share": "70", "timezone": "Asia/Tokyo"}
    changes = await store.setting_changes(guild_id=GUILD)
    assert [(c.key, c.old_value, c.new_value) for c in changes] == [
        ("timezone", None, "Asia/Tokyo"),
        ("creator_share", "60", "70"),
        ("creator_share", None, "60"),
    ]
    assert len(await store.setting_changes(guild_id=GUILD, limit=2)) == 2


async def test_clearing_a_setting_removes_it_and_records_that(store):
    await store.set_guild_setting(
        guild_id=GUILD, key="moderator_role", value="123456789012345678", actor_id=MOD, at=at(0)
    )
    cleared = await store.set_guild_setting(
        guild_id=GUILD, key="moderator_role", value=None, actor_id=MOD, at=at(1)
    )
    assert cleared == SettingChange("moderator_role", "123456789012345678", None, MOD, at(1))
    assert await store.guild_settings(guild_id=GUILD) == {}
    assert len(await store.setting_changes(guild_id=GUILD)) == 2


async def test_settings_are_per_guild(store):
    await store.set_guild_setting(guild_id=GUILD, key="creator_share", value="60", actor_id=MOD, at=at(0))
    assert await store.guild_settings(guild_id=2) == {}
    assert await store.setting_changes(guild_id=2) == []
    assert await rows(store, "SELECT guild_id FROM guild_setting_changes") == [(GUILD,)]

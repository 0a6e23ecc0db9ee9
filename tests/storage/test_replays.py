"""A replayed key returns the original result; a key reused for another kind is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.ledger import KeyReused

AT = datetime(2026, 1, 1, tzinfo=UTC)


async def test_a_grant_key_cannot_be_replayed_as_a_gift_or_revoke(store):
    await store.add_creator(guild_id=1, user_id=4, name="c", actor_id=2, at=AT)
    rose = await store.gift_by_name(guild_id=1, name="Rose")
    await store.grant(guild_id=1, user_id=3, amount=50, actor_id=2, reason="r", key="k", at=AT)
    with pytest.raises(KeyReused) as caught:
        await store.send_gift(
            guild_id=1,
            sender_id=3,
            sender_name="s",
            creator_id=4,
            creator_name="c",
            gift_id=rose.id,
            count=1,
            share_percent=50,
            key="k",
            at=AT,
        )
    assert "nothing was changed" in caught.value.user_message
    with pytest.raises(KeyReused):
        await store.revoke(guild_id=1, user_id=3, amount=5, actor_id=2, reason="r", key="k", at=AT)
    assert (await store.balances(guild_id=1, user_id=3)).coins == 50
    assert (await store.balances(guild_id=1, user_id=4)).diamonds == 0

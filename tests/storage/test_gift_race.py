"""No wallet goes negative, whatever the concurrency: 200 gifts race for 57 gifts' worth."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.economy.errors import InsufficientCoins
from bot.economy.models import Currency
from storage import Storage

GUILD, MOD, SENDER, CREATOR = 1, 2, 3, 4
NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def test_two_hundred_concurrent_gifts_on_57_gifts_worth(tmp_path):
    store = Storage(tmp_path / "race.sqlite3")
    await store.open()
    try:
        await store.add_creator(guild_id=GUILD, user_id=CREATOR, name="creator", actor_id=MOD, at=NOW)
        corgi = await store.gift_by_name(guild_id=GUILD, name="Corgi")
        assert corgi is not None and corgi.price == 299
        await store.grant(
            guild_id=GUILD,
            user_id=SENDER,
            amount=57 * 299,
            actor_id=MOD,
            reason="race",
            key="grant:1",
            at=NOW,
        )

        async def one(i: int):
            return await store.send_gift(
                guild_id=GUILD,
                sender_id=SENDER,
                sender_name="s",
                creator_id=CREATOR,
                creator_name="c",
                gift_id=corgi.id,
                count=1,
                share_percent=50,
                key=f"gift:{i}",
                at=NOW,
            )

        results = await asyncio.gather(*(one(i) for i in range(200)), return_exceptions=True)
        ok = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, InsufficientCoins)]
        assert len(ok) == 57
        assert len(refused) == 143
        balances = await store.balances(guild_id=GUILD, user_id=SENDER)
        assert balances.coins == 0
        creator = await store.balances(guild_id=GUILD, user_id=CREATOR)
        assert creator.diamonds == 57 * (299 * 50 // 100)
        totals = await store.ledger_totals()
        assert totals.sums == {Currency.COIN: 0, Currency.DIAMOND: 0}
        assert await store.balance_mismatches() == []
        assert store.db.writer.batches < 200  # they really were committed in groups
    finally:
        await store.close()

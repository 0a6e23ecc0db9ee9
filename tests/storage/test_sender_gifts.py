"""A member's sent gifts, found through their ledger legs (schema 8 keeps no index of gifts by
sender): each gift once, however many of the member's wallets paid for it, and never a debit
that was not a gift."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from bot.economy.periods import Period
from storage import Storage, budget_ops
from storage import forget as forget_ops
from storage.forget import forget, planned
from storage.migrate import apply_migrations

from .books import ALICE, BOB, CAROL, DAVE, GUILD, NOW, at, grant, revoke, rows, send, with_creators
from .test_purchases import entitlement, sell

SKU = 900_001


async def alice_pays_from_both_wallets(store: Storage) -> None:
    """Alice's Doughnut (30) takes her 5 promo coins and 25 paid ones: two legs, one gift. A
    revoke debits her wallet too, and is no gift; Bob's gift is not hers."""
    await with_creators(store)
    await sell(store, GUILD, 350, 38, SKU)
    await grant(store, ALICE, 10, key="promo")
    await revoke(store, ALICE, 5, key="revoke", when=at(1))
    await store.credit_purchase(facts=entitlement(ALICE, SKU), guild_id=GUILD, at=at(2))
    await send(store, ALICE, CAROL, "Doughnut", key="both-wallets", when=at(10))
    await send(store, ALICE, DAVE, "Rose", 3, key="paid-only", when=at(20))
    await grant(store, BOB, 10, key="bob")
    await send(store, BOB, CAROL, "Rose", 2, key="bob-gift", when=at(30))


async def test_a_gift_paid_from_two_wallets_counts_once(store):
    await alice_pays_from_both_wallets(store)
    legs = await rows(
        store,
        "SELECT COUNT(*) FROM transfers t JOIN entries e ON e.id = t.entry_id "
        "WHERE e.idempotency_key = 'both-wallets' AND t.currency = 'coin' AND t.credit_account_id IN "
        "(SELECT id FROM accounts WHERE code = 'gift_sink')",
    )
    assert legs == [(2,)]  # the fixture really pays from both wallets

    assert (await planned(store, guild_id=GUILD, user_id=ALICE))["gift_events.sender_id"] == 2
    gifted = await store.gifted_by_creator(guild_id=GUILD, user_id=ALICE, start=NOW, end=at(3_600))
    assert gifted == [(CAROL, "carol", 30), (DAVE, "dave", 3)]
    later = await store.gifted_by_creator(guild_id=GUILD, user_id=ALICE, start=at(15), end=at(3_600))
    assert later == [(DAVE, "dave", 3)]  # the window still bounds it


async def test_her_counters_are_rebuilt_from_her_gifts_alone(store):
    await alice_pays_from_both_wallets(store)

    await store.update_prefs(guild_id=GUILD, user_id=ALICE, at=at(40), timezone="Asia/Tokyo")

    spent = await store.spent(guild_id=GUILD, user_id=ALICE, period=Period.DAY, at=at(40))
    assert spent == 33  # not 58 (the Doughnut twice) nor 38 (the revoke)
    assert await store.counter_mismatches() == []


async def test_forgetting_her_moves_exactly_her_gifts(store):
    await alice_pays_from_both_wallets(store)

    done = await forget(store, guild_id=GUILD, user_id=ALICE, at=at(50))

    assert done.changed["gift_events.sender_id"] == 2
    senders = await rows(store, "SELECT sender_id, COUNT(*) FROM gift_events GROUP BY sender_id ORDER BY 1")
    assert senders == [(done.tombstone, 2), (BOB, 1)]
    assert await store.counter_mismatches() == []
    tomb = done.tombstone
    assert tomb is not None
    after = await store.gifted_by_creator(
        guild_id=GUILD, user_id=tomb, start=NOW, end=NOW + timedelta(hours=1)
    )
    assert after == [(CAROL, "carol", 30), (DAVE, "dave", 3)]


def test_no_read_of_a_members_gifts_scans_the_gift_events(tmp_path):
    """Each goes from the member's accounts to their legs, and on by primary key."""
    conn = sqlite3.connect(tmp_path / "plan.sqlite3")
    try:
        apply_migrations(conn)
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        statements = [
            (budget_ops._SENT_GIFTS, (1, 2)),
            (budget_ops._GIFTED_BY_CREATOR, (1, 2, 0, 9)),
            (forget_ops._COUNT[("gift_events", "sender_id")], (1, 2)),
            (forget_ops._REWRITE[("gift_events", "sender_id")], (-1, 1, 2)),
        ]
        plans = [[row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, p)] for sql, p in statements]
    finally:
        conn.close()
    assert "gift_events_by_sender" not in indexes and "gift_events_by_creator" in indexes
    for plan in plans:
        assert not any(step.startswith("SCAN") for step in plan), plan
        assert any("transfers_by_debit" in step for step in plan), plan
        assert any("USING INTEGER PRIMARY KEY" in step for step in plan), plan

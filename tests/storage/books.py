"""Shared helpers for storage tests: short ways to move money and to read the raw ledger."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.economy.models import Currency, GiftItem, GiftReceipt, Receipt
from storage import Storage, budget_ops

GUILD = 1_000
MOD = 10
ALICE, BOB, CAROL, DAVE = 11, 12, 13, 14  # carol and dave are made creators by `with_creators`
NAMES = {MOD: "mod", ALICE: "alice", BOB: "bob", CAROL: "carol", DAVE: "dave"}
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SYSTEM_CODES = {"promo_issuer", "gift_sink", "platform_fee", "diamond_issuer", "store", "cashout"}


def at(seconds: float = 0) -> datetime:
    return NOW + timedelta(seconds=seconds)


async def grant(
    store: Storage, user_id: int, amount: int, *, key: str | None = None, when: datetime = NOW
) -> Receipt:
    return await store.grant(
        guild_id=GUILD,
        user_id=user_id,
        amount=amount,
        actor_id=MOD,
        reason="promo",
        key=key or f"grant:{user_id}:{amount}:{when.isoformat()}",
        at=when,
    )


async def revoke(store: Storage, user_id: int, amount: int, *, key: str, when: datetime = NOW) -> Receipt:
    return await store.revoke(
        guild_id=GUILD, user_id=user_id, amount=amount, actor_id=MOD, reason="oops", key=key, at=when
    )


async def gift_named(store: Storage, name: str) -> GiftItem:
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    found = await store.gift_by_name(guild_id=GUILD, name=name)
    assert found is not None, name
    return found


async def send(
    store: Storage,
    sender: int,
    creator: int,
    gift: str | GiftItem = "Rose",
    count: int = 1,
    *,
    key: str,
    share: int = 50,
    when: datetime = NOW,
    gift_id: int | None = None,
    names: dict[int, str] | None = None,
) -> GiftReceipt:
    names = names or NAMES
    item = gift if isinstance(gift, GiftItem) else await gift_named(store, gift)
    return await store.send_gift(
        guild_id=GUILD,
        sender_id=sender,
        sender_name=names[sender],
        creator_id=creator,
        creator_name=names[creator],
        gift_id=gift_id if gift_id is not None else item.id,
        count=count,
        share_percent=share,
        key=key,
        at=when,
    )


async def with_creators(store: Storage, *user_ids: int) -> None:
    for user_id in user_ids or (CAROL, DAVE):
        await store.add_creator(guild_id=GUILD, user_id=user_id, name=NAMES[user_id], actor_id=MOD, at=NOW)


async def rows(store: Storage, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Raw rows, read on the store's own connection."""

    def query(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]

    return await store.db.read(query)


async def count(store: Storage, table: str) -> int:
    assert table.isidentifier()
    return (await rows(store, f"SELECT COUNT(*) FROM {table}"))[0][0]


async def ledger_size(store: Storage) -> tuple[int, int, int, int]:
    """(entries, transfers, accounts, gift events): what a refused operation must not change."""
    return (
        await count(store, "entries"),
        await count(store, "transfers"),
        await count(store, "accounts"),
        await count(store, "gift_events"),
    )


async def legs(store: Storage, entry_id: int) -> list[tuple[str, str, str, str, int]]:
    """An entry's transfers as (key, debit 'owner:code', credit 'owner:code', currency, amount)."""
    found = await rows(
        store,
        "SELECT t.idempotency_key, d.owner_id || ':' || d.code, c.owner_id || ':' || c.code, "
        "t.currency, t.amount FROM transfers t "
        "JOIN accounts d ON d.id = t.debit_account_id JOIN accounts c ON c.id = t.credit_account_id "
        "WHERE t.entry_id = ? ORDER BY t.id",
        (entry_id,),
    )
    return [(str(a), str(b), str(c), str(d), int(e)) for a, b, c, d, e in found]


async def system_balances(store: Storage, guild_id: int = GUILD) -> dict[str, int]:
    found = await rows(
        store, "SELECT code, balance FROM accounts WHERE guild_id = ? AND owner_id = 0", (guild_id,)
    )
    return {str(code): int(balance) for code, balance in found}


async def assert_books_balance(store: Storage) -> None:
    """Both currencies sum to zero, every balance matches its transfers, no member is negative."""
    totals = await store.ledger_totals()
    assert totals.sums == {Currency.COIN: 0, Currency.DIAMOND: 0}
    assert totals.balanced
    assert await store.balance_mismatches() == []
    assert await rows(store, "SELECT id FROM accounts WHERE non_negative = 1 AND balance < 0") == []


async def one_batch(store: Storage, *writes: Any) -> list[Any]:
    """Run the writes concurrently and check they really shared one transaction."""
    before = store.db.writer.batches
    results = await asyncio.gather(*writes, return_exceptions=True)
    assert store.db.writer.batches - before == 1
    return results


async def assert_derived_rows_match(store: Storage) -> None:
    """Boards and spend counters equal a recount from the gifts, and the books balance."""
    assert await store.rollup_mismatches() == []
    assert await store.db.read(budget_ops.counter_mismatches) == []
    await assert_books_balance(store)

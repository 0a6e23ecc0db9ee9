"""The database itself defends the books: an append-only ledger and no negative member wallets."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from tests.storage.books import ALICE, CAROL, GUILD, assert_books_balance, grant, rows, send, with_creators

TAMPERING = [
    "UPDATE entries SET reason = 'rewritten'",
    "UPDATE entries SET kind = 'grant' WHERE kind = 'gift'",
    "DELETE FROM entries",
    "UPDATE transfers SET amount = amount + 1",
    "UPDATE transfers SET credit_account_id = debit_account_id",
    "DELETE FROM transfers",
    "DELETE FROM transfers WHERE idempotency_key LIKE '%#diamonds'",
]


async def books_with_a_gift(store) -> None:
    await with_creators(store, CAROL)
    await grant(store, ALICE, 100, key="g1")
    await send(store, ALICE, CAROL, "Rose", 10, key="gift1")


def statement(sql: str) -> Callable[[sqlite3.Connection], object]:
    return lambda conn: conn.execute(sql)


@pytest.mark.parametrize("sql", TAMPERING)
async def test_the_ledger_is_append_only_on_the_bots_own_connection(store, sql):
    await books_with_a_gift(store)
    before = await rows(store, "SELECT * FROM transfers ORDER BY id")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await store.db.read(statement(sql))
    assert await rows(store, "SELECT * FROM transfers ORDER BY id") == before
    await assert_books_balance(store)


@pytest.mark.parametrize("sql", TAMPERING)
async def test_the_ledger_is_append_only_for_any_other_client(store, sql):
    await books_with_a_gift(store)
    other = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            other.execute(sql)
        other.rollback()
    finally:
        other.close()
    await assert_books_balance(store)


async def test_the_ledger_is_append_only_inside_the_writer_too(store):
    await books_with_a_gift(store)
    with pytest.raises(sqlite3.IntegrityError):
        await store.db.write(statement("DELETE FROM entries"))
    assert await rows(store, "SELECT COUNT(*) FROM entries") == [(2,)]


async def test_a_member_balance_can_never_be_negative_even_bypassing_the_code(store):
    await grant(store, ALICE, 5, key="g1")
    other = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            other.execute(
                "UPDATE accounts SET balance = -1 "
                "WHERE guild_id = ? AND owner_id = ? AND code = 'coins_promo'",
                (GUILD, ALICE),
            )
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            other.execute(
                "INSERT INTO accounts (guild_id, owner_id, code, currency, non_negative, balance, "
                "created_at) "
                "VALUES (?, 99, 'coins_promo', 'coin', 1, -10, 0)",
                (GUILD,),
            )
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # the platform's keep is never negative
            other.execute(
                "UPDATE accounts SET balance = -1 WHERE guild_id = ? AND code = 'platform_fee'", (GUILD,)
            )
        other.rollback()
    finally:
        other.close()
    assert (await store.balances(guild_id=GUILD, user_id=ALICE)).coins == 5


async def test_issuers_may_go_negative_by_design(store):
    await grant(store, ALICE, 5, key="g1")
    assert await rows(store, "SELECT balance FROM accounts WHERE code = 'promo_issuer'") == [(-5,)]


@pytest.mark.parametrize(
    "sql",
    [
        # a transfer of nothing, or from an account to itself, is not a transfer
        "INSERT INTO transfers (entry_id, idempotency_key, guild_id, currency, debit_account_id, "
        "credit_account_id, amount, created_at) SELECT 1, 'x#0', 1000, 'coin', 1, 5, 0, 0",
        "INSERT INTO transfers (entry_id, idempotency_key, guild_id, currency, debit_account_id, "
        "credit_account_id, amount, created_at) SELECT 1, 'x#1', 1000, 'coin', 5, 5, 1, 0",
        # a transfer key can be used once
        "INSERT INTO transfers (entry_id, idempotency_key, guild_id, currency, debit_account_id, "
        "credit_account_id, amount, created_at) SELECT 1, 'g1#coins', 1000, 'coin', 1, 5, 1, 0",
        # an entry key can be used once
        "INSERT INTO entries (guild_id, idempotency_key, kind, actor_id, created_at) "
        "VALUES (1000, 'g1', 'grant', 1, 0)",
        # money only comes in two currencies
        "UPDATE accounts SET currency = 'gold' WHERE id = 1",
        # entries belong to a known guild (foreign keys are on)
        "INSERT INTO entries (guild_id, idempotency_key, kind, actor_id, created_at) "
        "VALUES (4242, 'z', 'grant', 1, 0)",
    ],
)
async def test_the_schema_refuses_malformed_rows(store, sql):
    await grant(store, ALICE, 5, key="g1")
    with pytest.raises(sqlite3.IntegrityError):
        await store.db.read(statement(sql))
    await assert_books_balance(store)

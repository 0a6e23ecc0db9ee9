"""Concurrent writes share transactions, each keeps its own outcome, and the writer does not linger."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.economy.models import Balances
from storage import Storage
from storage.group_commit import apply_batch
from tests.storage.books import ALICE, GUILD, NOW, assert_books_balance, grant, rows


async def test_many_concurrent_writes_commit_in_fewer_batches(store):
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    writer = store.db.writer
    batches, operations = writer.batches, writer.operations
    receipts = await asyncio.gather(*(grant(store, 100 + i, i + 1, key=f"g{i}") for i in range(100)))
    assert writer.operations - operations == 100
    assert 1 <= writer.batches - batches < 100
    assert [r.balance for r in receipts] == [i + 1 for i in range(100)]
    assert writer._task is None  # idle again: nothing left running for SimCord's settle() to wait on
    await assert_books_balance(store)


async def test_the_writer_task_is_gone_after_each_write(store):
    await grant(store, ALICE, 1, key="g1")
    assert store.db.writer._task is None
    await asyncio.gather(grant(store, ALICE, 1, key="g2"), grant(store, ALICE, 1, key="g3"))
    assert store.db.writer._task is None
    await store.db.writer.wait_idle()  # returns at once when idle


async def test_a_failing_operation_is_rolled_back_alone(store):
    def insert_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO guilds (guild_id, created_at) VALUES (777, 0)")
        raise ValueError("boom")

    def insert(guild_id: int):
        return lambda conn: (
            conn.execute("INSERT INTO guilds (guild_id, created_at) VALUES (?, 0)", (guild_id,)).rowcount
        )

    results = await asyncio.gather(
        store.db.write(insert(1)),
        store.db.write(insert_then_fail),
        store.db.write(insert(2)),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[2] == 1
    assert isinstance(results[1], ValueError)
    assert await rows(store, "SELECT guild_id FROM guilds ORDER BY guild_id") == [(1,), (2,)]


async def test_results_arrive_only_after_commit(store):
    await grant(store, ALICE, 5, key="g1")
    other = sqlite3.connect(store.path)  # another reader sees the write as soon as the caller does
    try:
        row = other.execute(
            "SELECT balance FROM accounts WHERE guild_id = ? AND owner_id = ? AND code = 'coins_promo'",
            (GUILD, ALICE),
        ).fetchone()
        assert row == (5,)
    finally:
        other.close()


def test_apply_batch_reports_each_outcome_in_order(tmp_path):
    conn = sqlite3.connect(tmp_path / "plain.sqlite3", isolation_level=None)
    try:
        conn.execute("CREATE TABLE t (x INTEGER CHECK (x > 0))")
        outcomes = apply_batch(
            conn,
            [
                lambda c: c.execute("INSERT INTO t VALUES (1)").rowcount,
                lambda c: c.execute("INSERT INTO t VALUES (-1)"),
                lambda c: c.execute("INSERT INTO t VALUES (2)").rowcount,
            ],
        )
        assert [ok for ok, _ in outcomes] == [True, False, True]
        assert isinstance(outcomes[1][1], sqlite3.IntegrityError)
        assert conn.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,)]
        assert not conn.in_transaction
    finally:
        conn.close()


async def test_a_closed_store_refuses_writes_without_hanging(tmp_path):
    store = Storage(tmp_path / "x.sqlite3")
    await store.open()
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await grant(store, ALICE, 1, key="late")
    assert store.db.writer._task is None


async def test_balances_read_through_the_same_connection(store):
    await asyncio.gather(*(grant(store, ALICE, 1, key=f"g{i}") for i in range(10)))
    assert await store.balances(guild_id=GUILD, user_id=ALICE) == Balances(10, 0)

"""Gifts share their group-commit batch (storage/batch.py): held-back writes, shared lookups.

Whatever a batch merges, it must commit exactly what the operations one by one would have:
a replay in the same batch moves money once, a refusal leaves nothing behind, an operation that
is not a gift sees (and changes) the real state, and a failure writing the merged rows out
fails no operation that did nothing wrong.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest

from bot.economy.errors import GiftDisabled, InsufficientCoins, NotACreator
from bot.economy.models import Balances, EntryKind
from storage import batch as batches
from storage import budget_ops, money_ops, reads, rollups
from storage.group_commit import apply_batch
from tests.storage.books import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    GUILD,
    MOD,
    NAMES,
    NOW,
    assert_derived_rows_match,
    gift_named,
    grant,
    one_batch,
    rows,
    send,
    with_creators,
)


async def items(store, *names: str):
    """Catalogue gifts looked up before a race, so the racing calls are writes and nothing else."""
    return [await gift_named(store, name) for name in names]


async def test_a_key_sent_twice_in_one_batch_moves_money_once(store):
    await with_creators(store)
    await grant(store, ALICE, 100, key="g")
    (rose,) = await items(store, "Rose")
    first, again = await one_batch(
        store, send(store, ALICE, CAROL, rose, key="k"), send(store, ALICE, CAROL, rose, key="k")
    )
    assert not first.replayed and again.replayed
    assert again.entry_id == first.entry_id and again.coins == first.coins == 1
    assert (await store.balances(guild_id=GUILD, user_id=ALICE)).coins == 99
    assert await rows(store, "SELECT COUNT(*) FROM gift_events") == [(1,)]
    await assert_derived_rows_match(store)


async def test_a_refused_gift_leaves_nothing_behind_in_its_batch(store):
    await with_creators(store)
    await grant(store, ALICE, 10, key="g")
    (rose,) = await items(store, "Rose")
    ok, refused, also_ok = await one_batch(
        store,
        send(store, ALICE, CAROL, rose, key="a"),
        send(store, BOB, CAROL, rose, key="b"),  # bob holds no coins
        send(store, ALICE, DAVE, rose, key="c"),
    )
    assert isinstance(refused, InsufficientCoins)
    assert not ok.replayed and not also_ok.replayed
    # bob's name, counters and rollups would only exist had his gift gone through
    assert await rows(store, "SELECT user_id FROM member_names WHERE user_id = ?", (BOB,)) == []
    assert await rows(store, "SELECT COUNT(*) FROM spend_counters WHERE user_id = ?", (BOB,)) == [(0,)]
    assert await rows(store, "SELECT COUNT(*) FROM leaderboard_totals WHERE user_id = ?", (BOB,)) == [(0,)]
    assert await store.balances(guild_id=GUILD, user_id=CAROL) == Balances(0, 0)  # a rose earns 0 diamonds
    await assert_derived_rows_match(store)


async def test_a_members_gifts_in_one_batch_add_up_in_every_row(store):
    await with_creators(store)
    await grant(store, ALICE, 1_000, key="g")
    doughnut = await gift_named(store, "Doughnut")  # 30 coins, 15 diamonds
    await one_batch(store, *(send(store, ALICE, CAROL, doughnut, key=f"k{i}") for i in range(7)))
    assert await store.balances(guild_id=GUILD, user_id=CAROL) == Balances(0, 7 * 15)
    assert await rows(
        store,
        "SELECT score, diamonds, gifts FROM leaderboard_totals WHERE board = 'creators' AND period = 'all'",
    ) == [(7 * 30, 7 * 15, 7)]
    await assert_derived_rows_match(store)


async def test_other_writes_in_a_batch_see_and_change_what_gifts_rely_on(store):
    await with_creators(store)
    await grant(store, ALICE, 1_000, key="g")
    rose, doughnut = await items(store, "Rose", "Doughnut")
    results = await one_batch(
        store,
        send(store, ALICE, CAROL, rose, key="before"),
        store.remove_creator(guild_id=GUILD, user_id=CAROL, name="carol"),
        send(store, ALICE, CAROL, rose, key="after-removal"),
        store.edit_gift(guild_id=GUILD, name="Rose", enabled=False, at=NOW),
        send(store, ALICE, DAVE, rose, key="after-disabling"),
        grant(store, ALICE, 5, key="g2"),  # a plain ledger write between gifts
        send(store, ALICE, DAVE, doughnut, key="last"),
    )
    assert not results[0].replayed
    assert isinstance(results[2], NotACreator)
    assert isinstance(results[4], GiftDisabled)
    assert results[5].balance == 1_000 - 1 + 5  # the grant saw the first gift's debit
    assert results[6].sender_balance == 1_000 - 1 + 5 - 30
    await assert_derived_rows_match(store)


async def test_a_failed_write_out_reruns_the_batch_one_operation_at_a_time(store, monkeypatch):
    await with_creators(store)
    await grant(store, ALICE, 100, key="g")
    write = rollups.Totals.write
    failures = []

    def fail_once(self, conn):
        if not failures:
            failures.append(True)
            raise sqlite3.OperationalError("disk I/O error")
        write(self, conn)

    (rose,) = await items(store, "Rose")
    monkeypatch.setattr(rollups.Totals, "write", fail_once)
    results = await one_batch(store, *(send(store, ALICE, CAROL, rose, key=f"k{i}") for i in range(5)))
    assert failures and all(not r.replayed for r in results)
    assert (await store.balances(guild_id=GUILD, user_id=ALICE)).coins == 95
    await assert_derived_rows_match(store)


async def test_only_the_gift_whose_rows_cannot_be_written_fails(store, monkeypatch):
    await with_creators(store)
    await grant(store, ALICE, 100, key="g")
    await grant(store, BOB, 100, key="g2")
    write = rollups.Totals.write

    def refuse_bob(self, conn):
        if any(key[3] == BOB for key in self.rows):
            raise sqlite3.IntegrityError("CHECK constraint failed")
        write(self, conn)

    (rose,) = await items(store, "Rose")
    monkeypatch.setattr(rollups.Totals, "write", refuse_bob)
    alice, bob, alice_again = await one_batch(
        store,
        send(store, ALICE, CAROL, rose, key="a"),
        send(store, BOB, CAROL, rose, key="b"),
        send(store, ALICE, CAROL, rose, key="c"),
    )
    assert isinstance(bob, sqlite3.IntegrityError)
    assert not alice.replayed and not alice_again.replayed
    assert (await store.balances(guild_id=GUILD, user_id=BOB)).coins == 100
    assert (await store.balances(guild_id=GUILD, user_id=ALICE)).coins == 98
    monkeypatch.setattr(rollups.Totals, "write", write)
    await assert_derived_rows_match(store)


def test_a_gift_outside_group_commit_writes_everything_before_returning(tmp_path):
    from storage.database import configure
    from storage.migrate import apply_migrations

    conn = sqlite3.connect(tmp_path / "alone.sqlite3", isolation_level=None)
    try:
        configure(conn)
        apply_migrations(conn)
        ((ok, outcome),) = apply_batch(
            conn,
            [
                lambda c: money_ops.promo_transfer(
                    c,
                    kind=EntryKind.GRANT,
                    guild_id=GUILD,
                    user_id=ALICE,
                    amount=50,
                    actor_id=MOD,
                    reason="r",
                    key="g",
                    at_ms=1,
                )
            ],
        )
        assert ok, outcome
        conn.execute(
            "INSERT INTO creators (guild_id, user_id, added_by, added_at) VALUES (?, ?, ?, 1)",
            (GUILD, CAROL, MOD),
        )
        rose_id = conn.execute(
            "SELECT id FROM catalogue WHERE guild_id = ? AND name = 'Rose'", (GUILD,)
        ).fetchone()[0]
        assert batches.current() is None
        conn.execute("BEGIN")
        receipt = money_ops.send_gift(
            conn,
            guild_id=GUILD,
            sender_id=ALICE,
            sender_name="alice",
            creator_id=CAROL,
            creator_name="carol",
            gift_id=rose_id,
            count=3,
            share_percent=50,
            channel_id=None,
            key="k",
            at_ms=2,
        )
        conn.execute("COMMIT")
        assert receipt.sender_balance == 47
        assert conn.execute(
            "SELECT COUNT(*) FROM transfers WHERE entry_id = ?", (receipt.entry_id,)
        ).fetchone() == (3,)
        assert conn.execute("SELECT COUNT(*) FROM gift_events").fetchone() == (1,)
        assert reads.balance_mismatches(conn) == []
        assert reads.rollup_mismatches(conn) == []
        assert budget_ops.counter_mismatches(conn) == []
    finally:
        conn.close()


@pytest.mark.parametrize("count", [1, 3])
async def test_every_derived_row_matches_a_recount_after_racing_gifts(store, count):
    await with_creators(store)
    for member in (ALICE, BOB):
        await grant(store, member, 10_000, key=f"g{member}")
    gifts = await items(store, "Rose", "Doughnut", "Finger Heart")
    writes = [
        send(store, sender, creator, gift, count, key=f"{sender}:{creator}:{gift.name}:{i}")
        for i in range(10)
        for sender in (ALICE, BOB)
        for creator in (CAROL, DAVE)
        for gift in gifts
    ]
    await asyncio.gather(*writes)
    await assert_derived_rows_match(store)


async def test_the_log_is_copied_back_beside_the_writer_and_before_close(store):
    """Checkpoints run on their own connection after busy batches; the writer's is a backstop."""
    from storage.checkpointer import BACKSTOP_PAGES, EVERY

    await with_creators(store)
    await grant(store, ALICE, 10_000, key="g")
    (rose,) = await items(store, "Rose")
    assert await rows(store, "PRAGMA wal_autocheckpoint") == [(BACKSTOP_PAGES,)]
    checkpointer = store.db.checkpointer
    assert checkpointer is not None
    await asyncio.gather(*(send(store, ALICE, CAROL, rose, key=f"k{i}") for i in range(EVERY)))
    await store.close()  # waits for the copy under way
    assert checkpointer.runs >= 1
    assert (store.path.parent / (store.path.name + "-wal")).exists() is False


async def test_a_name_is_written_when_it_changes_in_a_batch_or_one_by_one(store):
    """updated_at is when the name last changed: repeats leave the row alone, a new name moves
    it, and a batch ends exactly as the same gifts one by one would (a rename and back included)."""
    await with_creators(store)
    await grant(store, ALICE, 100, key="g")
    await send(store, ALICE, CAROL, key="first", when=NOW)
    later = NOW + timedelta(minutes=5)
    await send(store, ALICE, CAROL, key="same", when=later)
    named = "SELECT name, updated_at FROM member_names WHERE user_id = ?"
    assert await rows(store, named, (ALICE,)) == [(NAMES[ALICE], int(NOW.timestamp() * 1000))]

    renamed = {**NAMES, ALICE: "Alice Liddell"}
    (rose,) = await items(store, "Rose")
    moments = [later + timedelta(seconds=i) for i in range(1, 4)]
    await one_batch(
        store,
        send(store, ALICE, CAROL, rose, key="b1", when=moments[0], names=renamed),
        send(store, ALICE, CAROL, rose, key="b2", when=moments[1], names=NAMES),
        send(store, ALICE, CAROL, rose, key="b3", when=moments[2], names=NAMES),
    )
    # back to her old name at b2: that is when it last changed
    assert await rows(store, named, (ALICE,)) == [(NAMES[ALICE], int(moments[1].timestamp() * 1000))]

"""Gifts worked out ahead and written by the writer process commit exactly what the bot's own
process would have, and anything that goes wrong on the way runs again in-process."""

from __future__ import annotations

import asyncio
import os
import pickle
import random
import signal
import sqlite3
import time
from datetime import UTC, datetime

import pytest

from bot.economy.budget import Budget, BudgetState, Mode
from bot.economy.errors import EconomyError, InsufficientCoins
from bot.economy.periods import Period
from storage import Storage, plan_ahead, writer_process
from storage.batch import Held
from storage.budget_ops import Spending
from storage.rollups import Totals

GUILD, MOD = 1, 2
CREATORS = (10, 11)
SENDERS = tuple(range(100, 140))
AT = datetime(2026, 3, 4, 12, tzinfo=UTC)
TABLES = (
    "entries",
    "transfers",
    "gift_events",
    "accounts",
    "board_current",
    "board_closed",
    "board_top",
    "spend_counters",
    "member_names",
    "diamond_holds",
    "outbox",
)


async def open_store(path, *, planned: bool) -> Storage:
    store = Storage(path, writer_process=planned)
    await store.open()
    if planned:
        store.db.writer.plan_from = 1
        assert store.db.writer_process is not None
        await store.db.writer_process.started()
    return store


async def seed(store: Storage) -> None:
    for creator in CREATORS:
        await store.add_creator(guild_id=GUILD, user_id=creator, name=f"c{creator}", actor_id=MOD, at=AT)
    for sender in SENDERS:
        coins = 300 + 97 * (sender % 7)  # some run dry during the race
        await store.grant(
            guild_id=GUILD, user_id=sender, amount=coins, actor_id=MOD, reason="r", key=f"g{sender}", at=AT
        )
    for sender in SENDERS[:5]:  # hard budgets, checked against scores still being written
        await store.save_budget(
            guild_id=GUILD,
            user_id=sender,
            state=BudgetState(Budget(250, Period.WEEK, Mode.HARD)),
            thresholds=(100,),  # a reminder is written at once: that batch runs in-process
            at=AT,
        )
    for sender in SENDERS[:2]:  # their spending is counted in their own timezone's counters
        await store.update_prefs(guild_id=GUILD, user_id=sender, at=AT, timezone="Asia/Tokyo")


async def race(store: Storage, *, seed: int, gifts: int = 600) -> list[tuple[str, object]]:
    """Many gifts at once from few senders (each is in many batches), some of them replays."""
    rng = random.Random(seed)
    catalogue = [g for g in await store.gifts(guild_id=GUILD) if g.price <= 30]
    keys: list[str] = []

    async def one(i: int):
        key = rng.choice(keys) if keys and rng.random() < 0.02 else f"k{seed}-{i}"
        keys.append(key)
        return await store.send_gift(
            guild_id=GUILD,
            sender_id=rng.choice(SENDERS),
            sender_name="fan",
            creator_id=rng.choice((*CREATORS, 99)),  # 99 is no creator: refused
            creator_name="creator",
            gift_id=rng.choice(catalogue).id,
            count=rng.choice((1, 1, 2, 5)),
            share_percent=50,
            key=key,
            at=AT,
        )

    results = await asyncio.gather(*(one(i) for i in range(gifts)), return_exceptions=True)
    return [
        ("refused", type(r).__name__)
        if isinstance(r, EconomyError)
        else ("sent", (r.entry_id, r.sender_balance))
        for r in results
    ]


async def assert_as_in_process(store: Storage, outcomes, tmp_path, *, race_seed: int, gifts: int) -> None:
    """The same books and race on a fresh in-process store: the same outcomes, the same rows."""
    reference = await open_store(tmp_path / "reference.sqlite3", planned=False)
    try:
        await seed(reference)
        assert outcomes == await race(reference, seed=race_seed, gifts=gifts)
        assert await rows(store) == await rows(reference)
    finally:
        await reference.close()


async def rows(store: Storage) -> dict[str, list[tuple]]:
    def read(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4").fetchall() for table in TABLES
        }

    return await store.db.read(read)


@pytest.mark.parametrize("late", [False, True], ids=["in-flight", "committed-first"])
async def test_planned_batches_commit_exactly_what_in_process_batches_do(tmp_path, monkeypatch, late):
    if late:
        slow_plans(monkeypatch)
    outcomes, books = {}, {}
    for planned in (False, True):
        store = await open_store(tmp_path / f"{planned}.sqlite3", planned=planned)
        try:
            await seed(store)
            outcomes[planned] = [*await race(store, seed=1), *await race(store, seed=2)]
            books[planned] = await rows(store)
            assert (await store.ledger_totals()).balanced
            assert await store.balance_mismatches() == []
            if planned:
                assert store.db.writer.planned >= 4  # batches the writer process committed
                assert store.db.writer.replanned == 0
        finally:
            await store.close()
    sent = [o for o in outcomes[True] if o[0] == "sent"]
    assert 300 < len(sent) < 1_100  # some of everything: gifts, replays, refusals
    assert ("refused", "InsufficientCoins") in outcomes[True]
    assert ("refused", "BudgetExceeded") in outcomes[True]
    assert ("refused", "NotACreator") in outcomes[True]
    assert outcomes[True] == outcomes[False]
    for table in TABLES:
        assert books[True][table] == books[False][table], table


async def test_a_wallet_is_never_overdrawn_across_batches_in_flight(tmp_path):
    store = await open_store(tmp_path / "p.sqlite3", planned=True)
    try:
        await store.add_creator(guild_id=GUILD, user_id=10, name="c", actor_id=MOD, at=AT)
        rose = await store.gift_by_name(guild_id=GUILD, name="Rose")
        await store.grant(guild_id=GUILD, user_id=100, amount=157, actor_id=MOD, reason="r", key="g", at=AT)

        async def one(i: int):
            return await store.send_gift(
                guild_id=GUILD, sender_id=100, sender_name="s", creator_id=10, creator_name="c",
                gift_id=rose.id, count=1, share_percent=50, key=f"k{i}", at=AT,
            )  # fmt: skip

        results = await asyncio.gather(*(one(i) for i in range(400)), return_exceptions=True)
        sent = [r for r in results if not isinstance(r, BaseException)]
        assert len(sent) == 157
        assert all(isinstance(r, InsufficientCoins) for r in results if isinstance(r, BaseException))
        assert sorted(r.sender_balance for r in sent) == list(range(157))
        assert (await store.balances(guild_id=GUILD, user_id=100)).coins == 0
        assert store.db.writer.planned >= 2
    finally:
        await store.close()


def slow_plans(monkeypatch) -> None:
    """Plans carried from a batch start late, once that batch has surely committed: the
    snapshot then shows it already, and its carry must not count it twice."""
    real = plan_ahead.plan_batch

    def slow(conn, operations, carry):
        if carry is not None:
            time.sleep(0.3)  # on the database thread; the writer process commits meanwhile
        return real(conn, operations, carry)

    monkeypatch.setattr("storage.group_commit.plan_batch", slow)


@pytest.mark.parametrize("late", [False, True], ids=["in-flight", "committed-first"])
@pytest.mark.parametrize("timezone", [None, "Asia/Tokyo"])
async def test_a_hard_budget_counts_the_gifts_still_being_written(tmp_path, monkeypatch, timezone, late):
    """Their spending is a gifters score or a spend counter not written yet: the carry holds it."""
    if late:
        slow_plans(monkeypatch)
    store = await open_store(tmp_path / "p.sqlite3", planned=True)
    try:
        await store.add_creator(guild_id=GUILD, user_id=10, name="c", actor_id=MOD, at=AT)
        rose = await store.gift_by_name(guild_id=GUILD, name="Rose")
        await store.grant(
            guild_id=GUILD, user_id=100, amount=10_000, actor_id=MOD, reason="r", key="g", at=AT
        )
        await store.save_budget(
            guild_id=GUILD, user_id=100, state=BudgetState(Budget(300, Period.WEEK, Mode.HARD)),
            thresholds=(1,), at=AT,
        )  # fmt: skip
        if timezone:
            await store.update_prefs(guild_id=GUILD, user_id=100, at=AT, timezone=timezone)

        async def one(key: str, count: int = 1):
            return await store.send_gift(
                guild_id=GUILD, sender_id=100, sender_name="s", creator_id=10, creator_name="c",
                gift_id=rose.id, count=count, share_percent=50, key=key, at=AT,
            )  # fmt: skip

        await one("first", 3)  # opens the creator's account and owes the 1% reminder: all else plans
        results = await asyncio.gather(*(one(f"k{i}") for i in range(400)), return_exceptions=True)
        assert sum(not isinstance(r, BaseException) for r in results) == 297
        assert await store.spent(guild_id=GUILD, user_id=100, period=Period.WEEK, at=AT) == 300
        assert store.db.writer.planned >= 2 and store.db.writer.replanned == 0
    finally:
        await store.close()


async def test_a_replay_of_a_gift_still_being_written_finds_it(tmp_path, monkeypatch):
    real, plans = plan_ahead.plan_batch, []

    def spy(conn, operations, carry):
        plans.append(real(conn, operations, carry))
        return plans[-1]

    monkeypatch.setattr("storage.group_commit.plan_batch", spy)
    store = await open_store(tmp_path / "p.sqlite3", planned=True)
    try:
        await seed(store)
        rose = await store.gift_by_name(guild_id=GUILD, name="Rose")

        async def one(i: int, key: str):
            return await store.send_gift(
                guild_id=GUILD, sender_id=SENDERS[i % 40], sender_name="s", creator_id=10,
                creator_name="c", gift_id=rose.id, count=1, share_percent=50, key=key, at=AT,
            )  # fmt: skip

        # The first half is written while the second is worked out: "same" is in both.
        keys = ["same", *(f"k{i}" for i in range(1, 100)), "same", *(f"k{i}" for i in range(101, 200))]
        receipts = await asyncio.gather(*(one(i, key) for i, key in enumerate(keys)))
        assert receipts[0].entry_id == receipts[100].entry_id
        assert store.db.writer.planned >= 1
        assert plans[0] is not None and plans[1] is None  # the second half ran in-process
        count = await store.db.read(
            lambda conn: conn.execute(
                "SELECT COUNT(*) FROM entries WHERE idempotency_key = 'same'"
            ).fetchone()
        )
        assert count == (1,)
        assert (await store.ledger_totals()).balanced
    finally:
        await store.close()


async def test_a_batch_the_writer_process_refuses_runs_again_in_process(tmp_path, monkeypatch, caplog):
    real = plan_ahead.plan_batch
    spoiled = []

    def spoil(conn, operations, carry):
        plan = real(conn, operations, carry)
        if plan is not None and not spoiled:  # the first plan overdraws a wallet: CHECK fails there
            held, carried = pickle.loads(plan.payload)
            held.moves.append((-(10**9), held.moves[0][1]))
            plan.payload = pickle.dumps((held, carried))
            spoiled.append(plan)
        return plan

    monkeypatch.setattr("storage.group_commit.plan_batch", spoil)
    store = await open_store(tmp_path / "p.sqlite3", planned=True)
    try:
        await seed(store)
        outcomes = await race(store, seed=3, gifts=300)
        assert spoiled and store.db.writer.replanned == 1
        assert "refused a planned batch (IntegrityError: CHECK constraint failed" in caplog.text
        await assert_as_in_process(store, outcomes, tmp_path, race_seed=3, gifts=300)
    finally:
        await store.close()


async def test_gifts_sent_to_a_dead_writer_process_run_in_process_once(tmp_path):
    store = await open_store(tmp_path / "p.sqlite3", planned=True)
    try:
        await seed(store)
        process = store.db.writer_process
        assert process is not None and process._proc is not None
        os.kill(process._proc.pid, signal.SIGKILL)
        process._proc.wait()
        outcomes = await race(store, seed=4, gifts=300)
        assert process.starts == 2  # lost, then started again on demand
        assert (await store.ledger_totals()).balanced
        assert await store.balance_mismatches() == []
        await assert_as_in_process(store, outcomes, tmp_path, race_seed=4, gifts=300)
    finally:
        await store.close()


def test_the_writer_refuses_a_carried_plan_after_another_connection_wrote(tmp_path):
    path = tmp_path / "w.sqlite3"
    sqlite3.connect(path).executescript(
        "PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);"
    )
    conn = sqlite3.connect(path, isolation_level=None)
    writer = writer_process._Writer(conn)
    empty = Held([], [], [], [], [], [], Totals(), Spending())
    assert writer.write(empty, carried=False) == ("ok", None)
    assert writer.write(empty, carried=True) == ("ok", None)  # only itself wrote in between
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("INSERT INTO t VALUES (2)")
    assert writer.write(empty, carried=True) == ("stale", None)
    assert not conn.in_transaction
    assert writer.write(empty, carried=False) == ("ok", None)  # a fresh plan reads afresh


async def test_the_writer_process_stops_when_idle_and_starts_again_on_demand(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_process, "IDLE_SECONDS", 0.05)
    store = await open_store(tmp_path / "p.sqlite3", planned=True)
    try:
        process = store.db.writer_process
        assert process is not None and process.running
        for _ in range(200):
            await asyncio.sleep(0.01)
            if not process.running:
                break
        assert not process.running
        await seed(store)
        await race(store, seed=5, gifts=100)  # starts it (ready a moment later)
        assert process.starts >= 2  # (the 0.05 s idle stop may strike again before it is ready)
    finally:
        await store.close()
    assert not process.running


async def test_without_the_setting_no_process_starts(tmp_path):
    store = Storage(tmp_path / "p.sqlite3", writer_process=False)
    await store.open()
    try:
        store.db.writer.plan_from = 1
        await seed(store)
        await race(store, seed=6, gifts=200)
        assert store.db.writer_process is None and store.db.writer.planned == 0
    finally:
        await store.close()


@pytest.mark.parametrize("setting", ["FULL", "bogus"])
def test_the_child_takes_only_a_known_durability(setting, tmp_path):
    import socket
    from multiprocessing.connection import Connection

    ours, theirs = socket.socketpair()
    if setting == "bogus":
        assert writer_process.main([str(theirs.fileno()), str(tmp_path / "c.sqlite3"), setting]) == 2
        return
    channel = Connection(ours.detach())
    channel.send(None)  # stop at once
    assert writer_process.main([str(theirs.detach()), str(tmp_path / "c.sqlite3"), setting]) == 0
    assert channel.recv() == ("ready", None)
    channel.close()
    conn = sqlite3.connect(tmp_path / "c.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_ctrl_c_leaves_the_child_to_the_bot(tmp_path):
    """SIGINT reaches the whole process group; the child keeps writing until the bot stops it."""
    store = await open_store(tmp_path / "p.sqlite3", planned=True)
    try:
        process = store.db.writer_process
        assert process is not None and process._proc is not None
        os.kill(process._proc.pid, signal.SIGINT)
        await seed(store)
        await race(store, seed=7, gifts=200)
        assert process.starts == 1 and store.db.writer.planned >= 1
    finally:
        await store.close()

"""Gifts in a group-commit batch run on prefetched lookups, without SQL or savepoints of their own.

Whatever the batch keeps in Python (entry ids, wallets, which keys exist, spend counters), it
must commit exactly what the operations one by one would have: the same rows, ids, receipts and
refusals. A gift that fails after writing something at once sends the whole batch through
savepoints again, so only that gift fails.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from functools import partial
from typing import Any

import pytest

from bot.economy.budget import Budget, BudgetExceeded, Mode, SpendPolicy
from bot.economy.clock import to_millis
from bot.economy.errors import InsufficientCoins
from bot.economy.models import Currency, EntryKind
from bot.economy.periods import Period
from storage import budget_ops, catalogue_ops, group_commit, ledger, money_ops, settings_ops
from storage.database import configure
from storage.migrate import apply_migrations
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


@pytest.fixture
def runs(monkeypatch) -> list[bool]:
    """Whether each run of a batch was merged (True) or one savepoint per operation (False)."""
    seen: list[bool] = []
    run_batch = group_commit._run_batch

    def spy(conn, operations, *, merged):
        seen.append(merged)
        return run_batch(conn, operations, merged=merged)

    monkeypatch.setattr(group_commit, "_run_batch", spy)
    return seen


async def test_a_replay_of_a_key_sent_earlier_in_the_batch_returns_its_receipt(store, runs):
    await with_creators(store)
    await grant(store, ALICE, 100, key="g")
    doughnut, rose = await gift_named(store, "Doughnut"), await gift_named(store, "Rose")
    runs.clear()
    first, other, again = await one_batch(
        store,
        send(store, ALICE, CAROL, doughnut, key="k"),
        send(store, ALICE, DAVE, rose, key="other"),
        send(store, ALICE, CAROL, doughnut, key="k"),
    )
    assert runs == [True]
    assert not first.replayed and not other.replayed and again.replayed
    assert (again.entry_id, again.gift, again.coins, again.diamonds) == (
        first.entry_id,
        first.gift,
        first.coins,
        first.diamonds,
    )
    assert again.sender_balance == 100 - 30 - 1  # the wallet as it stands, debits held back included
    assert other.entry_id == first.entry_id + 1
    assert await rows(store, "SELECT COUNT(*) FROM entries WHERE idempotency_key = 'k'") == [(1,)]
    assert (await store.balances(guild_id=GUILD, user_id=ALICE)).coins == 69
    await assert_derived_rows_match(store)


async def test_a_members_second_gift_is_refused_when_the_first_took_the_coins(store, runs):
    await with_creators(store)
    await grant(store, ALICE, 40, key="g")
    doughnut, rose = await gift_named(store, "Doughnut"), await gift_named(store, "Rose")
    runs.clear()
    first, refused, third = await one_batch(
        store,
        send(store, ALICE, CAROL, doughnut, key="a"),
        send(store, ALICE, DAVE, doughnut, key="b"),
        send(store, ALICE, DAVE, rose, key="c"),
    )
    assert runs == [True]
    assert isinstance(refused, InsufficientCoins)
    assert refused.user_message == InsufficientCoins(balance=10, needed=30).user_message
    assert (first.sender_balance, third.sender_balance) == (10, 9)
    assert third.entry_id == first.entry_id + 1  # the refused gift's id was given back, as in SQLite
    assert await rows(store, "SELECT COUNT(*) FROM entries WHERE idempotency_key = 'b'") == [(0,)]
    assert (await store.balances(guild_id=GUILD, user_id=ALICE)).coins == 9
    assert (await store.balances(guild_id=GUILD, user_id=DAVE)).diamonds == 0  # a rose earns none
    await assert_derived_rows_match(store)


async def test_a_failure_after_an_immediate_write_fails_only_its_gift(store, runs, monkeypatch):
    await with_creators(store)
    for member in (ALICE, BOB):
        await grant(store, member, 100, key=f"g{member}")
    await store.update_prefs(guild_id=GUILD, user_id=BOB, at=NOW, low_balance_below=90)
    doughnut = await gift_named(store, "Doughnut")
    owe_reminder = budget_ops.owe_reminder

    def write_then_fail(conn, **reminder: Any) -> bool:
        owe_reminder(conn, **reminder)  # the outbox row is written at once, then…
        raise RuntimeError("a bug after the reminder")

    monkeypatch.setattr(budget_ops, "owe_reminder", write_then_fail)
    runs.clear()
    alice, bob, alice_again = await one_batch(
        store,
        send(store, ALICE, CAROL, doughnut, key="a"),
        send(store, BOB, CAROL, doughnut, key="b"),  # 100 → 70 crosses bob's floor: a reminder
        send(store, ALICE, DAVE, doughnut, key="c"),
    )
    assert runs == [True, False]  # rolled back and run again, a savepoint each
    assert isinstance(bob, RuntimeError)
    assert not alice.replayed and not alice_again.replayed
    assert alice_again.entry_id == alice.entry_id + 1
    assert await rows(store, "SELECT COUNT(*) FROM outbox WHERE kind = 'low_balance'") == [(0,)]
    assert (await store.balances(guild_id=GUILD, user_id=BOB)).coins == 100
    assert (await store.balances(guild_id=GUILD, user_id=ALICE)).coins == 40
    assert await rows(store, "SELECT user_id FROM member_names WHERE user_id = ?", (BOB,)) == []
    monkeypatch.setattr(budget_ops, "owe_reminder", owe_reminder)
    await assert_derived_rows_match(store)


async def test_a_thousand_gifts_in_one_batch_are_prefetched_and_checked_together(store, runs, caplog):
    """More calls than SQLite's old limit of 999 bound variables, budgets counted across them."""
    await with_creators(store)
    fans = range(100_000, 100_500)
    await asyncio.gather(*(grant(store, fan, 10, key=f"g{fan}") for fan in fans))
    rose = await gift_named(store, "Rose")
    policy = SpendPolicy(default_budget=Budget(2, Period.DAY, Mode.HARD))

    def gift(fan: int, key: str):
        return store.send_gift(
            guild_id=GUILD,
            sender_id=fan,
            sender_name=f"fan {fan}",
            creator_id=CAROL if fan % 2 else DAVE,
            creator_name="creator",
            gift_id=rose.id,
            count=1,
            share_percent=50,
            key=key,
            at=NOW,
            policy=policy,
        )

    await asyncio.gather(*(gift(fan, f"{fan}:before") for fan in fans))  # 1 of 2 coins spent
    store.db.writer._max_batch = 1_000
    store.db.writer.plan_from = 10**9  # all in this process, which `runs` watches
    runs.clear()
    with caplog.at_level(logging.ERROR, logger="storage.gift_prefetch"):
        results = await one_batch(
            store, *(gift(fan, f"{fan}:{attempt}") for fan in fans for attempt in ("a", "b"))
        )
    assert runs == [True] and caplog.records == []
    assert all(not isinstance(r, BaseException) for r in results[0::2])
    assert all(isinstance(r, BudgetExceeded) for r in results[1::2])
    assert await rows(store, "SELECT COUNT(*) FROM gift_events") == [(1_000,)]
    assert await rows(
        store,
        "SELECT DISTINCT balance FROM accounts WHERE owner_id >= 100000 AND code = 'coins_promo'",
    ) == [(8,)]
    await assert_derived_rows_match(store)


async def test_gifts_in_a_batch_run_no_sql_of_their_own(store, monkeypatch):
    """Everything a gift reads was prefetched; everything it writes waits for the batch."""
    await with_creators(store)
    for member in (ALICE, BOB):
        await grant(store, member, 1_000, key=f"g{member}")
    doughnut, rose = await gift_named(store, "Doughnut"), await gift_named(store, "Rose")
    await send(store, ALICE, CAROL, doughnut, key="carol's diamond account")
    await send(store, ALICE, DAVE, doughnut, key="dave's diamond account")
    statements: list[str] = []
    run_joined = group_commit._run_joined

    def traced(conn, batch, operation):
        conn.set_trace_callback(statements.append)
        try:
            return run_joined(conn, batch, operation)
        finally:
            conn.set_trace_callback(None)

    monkeypatch.setattr(group_commit, "_run_joined", traced)
    results = await one_batch(
        store,
        send(store, ALICE, CAROL, doughnut, key="a"),
        send(store, BOB, DAVE, rose, 3, key="b"),
        send(store, ALICE, DAVE, doughnut, key="a"),  # a replay
        send(store, BOB, BOB, rose, key="c"),  # bob is no creator
        send(store, ALICE, CAROL, rose, key=f"g{ALICE}"),  # a grant's key
    )
    assert [type(r).__name__ for r in results] == [
        "GiftReceipt",
        "GiftReceipt",
        "GiftReceipt",
        "NotACreator",
        "KeyReused",
    ]
    assert statements == []
    await assert_derived_rows_match(store)


async def test_a_batch_sends_sqlite_only_the_names_that_changed(store, monkeypatch):
    """The prefetch reads both parties' stored names: a gift under the same names writes no
    member_names row at all, and a renamed member's new name still lands."""
    await with_creators(store)
    for member in (ALICE, BOB):
        await grant(store, member, 1_000, key=f"g{member}")
    await send(store, ALICE, CAROL, key="names stored")
    await send(store, BOB, DAVE, key="names stored too")
    written: list[list[Any]] = []
    write = group_commit.Batch.write

    def spy(batch):
        written.append(list(batch.name_rows))
        return write(batch)

    monkeypatch.setattr(group_commit.Batch, "write", spy)
    renamed = {**NAMES, BOB: "Bobby"}
    rose = await gift_named(store, "Rose")
    await one_batch(
        store,
        send(store, ALICE, CAROL, rose, key="same names"),
        send(store, ALICE, DAVE, rose, key="same again"),
        send(store, BOB, CAROL, rose, key="bob renamed", names=renamed),
    )
    assert [(row[1], row[2]) for rows_ in written for row in rows_] == [(BOB, "Bobby")]
    assert await rows(store, "SELECT name FROM member_names WHERE user_id = ?", (BOB,)) == [("Bobby",)]
    await assert_derived_rows_match(store)


# -- merged or one by one: the same database ------------------------------------------------------

ERIN = 15
START = to_millis(NOW)


def _open(path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    configure(conn)
    apply_migrations(conn)
    return conn


def _setup(conn: sqlite3.Connection) -> None:
    """Two creators (carol with no diamond account yet), promo coins, and erin's bought coins."""
    conn.execute("BEGIN")
    ledger.ensure_guild(conn, GUILD, START)
    for creator in (CAROL, DAVE):
        catalogue_ops.add_creator(conn, guild_id=GUILD, user_id=creator, name="c", actor_id=MOD, at_ms=START)
    for member, coins in ((ALICE, 100), (BOB, 40), (ERIN, 20)):
        _grant(conn, member, coins, f"g{member}", START)
    paid = ledger.member_account(conn, GUILD, ERIN, "coins_paid", START)
    store = ledger.system_account(conn, GUILD, "store")
    ledger.post_entry(
        conn,
        guild_id=GUILD,
        key="bought",
        kind=EntryKind.PURCHASE,
        actor_id=ERIN,
        reason=None,
        at_ms=START,
        legs=[ledger.Leg("coins", store, paid, 50, Currency.COIN)],
    )
    budget_ops.update_prefs(conn, guild_id=GUILD, user_id=BOB, at_ms=START, low_balance_below=30)
    conn.execute("COMMIT")


def _grant(conn: sqlite3.Connection, member: int, coins: int, key: str, at_ms: int) -> Any:
    return money_ops.promo_transfer(
        conn,
        kind=EntryKind.GRANT,
        guild_id=GUILD,
        user_id=member,
        amount=coins,
        actor_id=MOD,
        reason="r",
        key=key,
        at_ms=at_ms,
    )


def _operations(conn: sqlite3.Connection) -> list[Any]:
    gift_id = dict(conn.execute("SELECT name, id FROM catalogue WHERE guild_id = ?", (GUILD,)).fetchall())
    policy = SpendPolicy(default_budget=Budget(200, Period.DAY, Mode.HARD))
    at = itertools.count(START + 1_000, 1_000)

    def gift(sender: int, creator: int, name: str, count: int, key: str) -> Any:
        return partial(
            money_ops.send_gift,
            guild_id=GUILD,
            sender_id=sender,
            sender_name=f"member {sender}",
            creator_id=creator,
            creator_name=f"creator {creator}",
            gift_id=gift_id.get(name, 999_999),
            count=count,
            share_percent=50,
            channel_id=7,
            key=key,
            at_ms=next(at),
            policy=policy,
        )

    def timezone(c: sqlite3.Connection) -> Any:
        return settings_ops.set_setting(
            c, guild_id=GUILD, key="timezone", value="Asia/Tokyo", actor_id=MOD, at_ms=START + 500
        )

    return [
        gift(ALICE, CAROL, "Doughnut", 1, "k1"),  # carol's first diamonds open her account
        gift(BOB, CAROL, "Doughnut", 1, "k2"),  # 40 → 10: below bob's floor, a reminder
        gift(BOB, DAVE, "Doughnut", 1, "k3"),  # 10 coins left: refused
        gift(ALICE, DAVE, "Rose", 1, "k4"),  # takes the id k3 gave back
        gift(ALICE, DAVE, "Doughnut", 1, "k1"),  # a replay of a gift earlier in the batch
        gift(ERIN, CAROL, "Doughnut", 2, "k5"),  # 20 promo, then 40 bought coins: paid diamonds held
        lambda c: _grant(c, ALICE, 500, "g-more", START + 500),  # not a gift: in the middle
        gift(ALICE, CAROL, "Doughnut", 4, "k6"),  # 151 of a 200 budget: crosses 50%
        gift(ALICE, BOB, "Rose", 1, "k7"),  # bob is not a creator
        timezone,  # not a gift: re-buckets rollups and counters
        gift(ALICE, DAVE, "Doughnut", 2, "k8"),  # 211 > 200: over the hard budget
        gift(ERIN, DAVE, "Rose", 1, "k9"),  # bought coins only now
        gift(ERIN, DAVE, "No such gift", 1, "k10"),
        gift(ALICE, DAVE, "Rose", 1, "g-more"),  # a grant's key
        gift(CAROL, DAVE, "Rose", 1, "k11"),  # carol holds diamonds, no coins
        gift(ALICE, CAROL, "Rose", 1, "k12"),
    ]


def _outcome(ok: bool, value: Any) -> Any:
    return value if ok else (type(value).__name__, str(value))


def _dump(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in tables}


def test_a_merged_batch_commits_exactly_what_one_by_one_execution_does(tmp_path, runs):
    merged, alone = _open(tmp_path / "merged.sqlite3"), _open(tmp_path / "alone.sqlite3")
    try:
        for conn in (merged, alone):
            _setup(conn)
        runs.clear()
        together = [_outcome(*o) for o in group_commit.apply_batch(merged, _operations(merged))]
        assert runs == [True]  # no rerun: nothing failed after writing
        one_by_one = [
            _outcome(*group_commit.apply_batch(alone, [operation])[0]) for operation in _operations(alone)
        ]
        assert together == one_by_one
        assert [o if isinstance(o, tuple) else type(o).__name__ for o in together] == [
            "GiftReceipt",
            "GiftReceipt",
            ("InsufficientCoins", str(InsufficientCoins(balance=10, needed=30))),
            "GiftReceipt",
            "GiftReceipt",
            "GiftReceipt",
            "Receipt",
            "GiftReceipt",
            ("NotACreator", together[8][1]),
            "SettingChange",
            ("BudgetExceeded", together[10][1]),
            "GiftReceipt",
            ("UnknownGift", together[12][1]),
            ("KeyReused", together[13][1]),
            ("InsufficientCoins", together[14][1]),
            "GiftReceipt",
        ]
        assert together[4].replayed and together[4].entry_id == together[0].entry_id
        assert together[5].paid_coins == 40
        assert _dump(merged) == _dump(alone)
        kinds = [kind for (kind,) in merged.execute("SELECT kind FROM outbox ORDER BY id")]
        assert kinds == ["low_balance", "budget_threshold"]
    finally:
        merged.close()
        alone.close()

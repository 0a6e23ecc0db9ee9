"""Budgets inside the gift transaction: never overshot under a race, one reminder per threshold."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.economy.budget import Budget, BudgetExceeded, BudgetState, GiftTooLarge, Mode, SpendPolicy
from bot.economy.periods import Period

GUILD, MOD, FAN, CREATOR = 1, 2, 3, 4
AT = datetime(2026, 3, 4, 12, tzinfo=UTC)  # a Wednesday


@pytest.fixture
async def books(store):
    await store.add_creator(guild_id=GUILD, user_id=CREATOR, name="creator", actor_id=MOD, at=AT)
    await store.grant(
        guild_id=GUILD, user_id=FAN, amount=100_000, actor_id=MOD, reason="r", key="grant", at=AT
    )
    return store


async def gift(store, key: str, *, name="Doughnut", count=1, at=AT, policy=None):
    item = await store.gift_by_name(guild_id=GUILD, name=name)
    return await store.send_gift(
        guild_id=GUILD,
        sender_id=FAN,
        sender_name="fan",
        creator_id=CREATOR,
        creator_name="creator",
        gift_id=item.id,
        count=count,
        share_percent=50,
        key=key,
        at=at,
        policy=policy,
    )


async def set_budget(store, budget: Budget, thresholds=(50, 80, 100)):
    await store.save_budget(
        guild_id=GUILD, user_id=FAN, state=BudgetState(budget), thresholds=thresholds, at=AT
    )


async def reminders(store) -> list[dict]:
    rows = await store.db.read(
        lambda conn: conn.execute(
            "SELECT kind, dedupe_key, payload FROM outbox WHERE user_id = ? ORDER BY id", (FAN,)
        ).fetchall()
    )
    return [{"kind": kind, "key": key, **json.loads(payload)} for kind, key, payload in rows]


async def test_a_hard_limit_is_never_overshot_by_racing_gifts(books):
    await set_budget(books, Budget(1_000, Period.WEEK, Mode.HARD))  # 33 doughnuts of 30 coins fit
    results = await asyncio.gather(*(gift(books, f"k{i}") for i in range(100)), return_exceptions=True)
    sent = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert (len(sent), len(refused)) == (33, 67)
    assert await books.spent(guild_id=GUILD, user_id=FAN, period=Period.WEEK, at=AT) == 990
    assert refused[0].remaining == 10 and "10 left" in refused[0].user_message
    assert (await books.balances(guild_id=GUILD, user_id=FAN)).coins == 100_000 - 990
    assert (await books.ledger_totals()).balanced


async def test_racing_gifts_crossing_thresholds_owe_exactly_one_reminder_each(books):
    await set_budget(books, Budget(1_000, Period.WEEK, Mode.SOFT))
    await asyncio.gather(*(gift(books, f"k{i}") for i in range(60)))  # 1,800 coins: past 100%
    owed = await reminders(books)
    assert [(r["kind"], r["threshold"]) for r in owed] == [
        ("budget_threshold", 50),
        ("budget_threshold", 80),
        ("budget_threshold", 100),
    ]
    assert [r["spent"] for r in owed] == [510, 810, 1_020]
    assert len({r["key"] for r in owed}) == 3


async def test_a_soft_limit_lets_the_gift_through_and_flags_it(books):
    await set_budget(books, Budget(50, Period.DAY, Mode.SOFT))
    first = await gift(books, "k1")
    second = await gift(books, "k2")
    assert (first.over_budget, second.over_budget) == (False, True)
    assert await books.spent(guild_id=GUILD, user_id=FAN, period=Period.DAY, at=AT) == 60


async def test_a_new_period_starts_from_zero_in_the_members_timezone(books):
    await set_budget(books, Budget(30, Period.DAY, Mode.HARD))
    await books.update_prefs(guild_id=GUILD, user_id=FAN, at=AT, timezone="Asia/Tokyo")
    late = datetime(2026, 3, 4, 14, 59, tzinfo=UTC)  # 23:59 in Tokyo
    await gift(books, "k1", at=late)
    with pytest.raises(BudgetExceeded):
        await gift(books, "k2", at=late)
    await gift(books, "k3", at=late + timedelta(minutes=1))  # midnight in Tokyo: a new day
    assert await books.counter_mismatches() == []


async def test_changing_the_members_timezone_rebuckets_their_counters(books):
    await gift(books, "k1", at=datetime(2026, 3, 4, 23, 30, tzinfo=UTC))  # Thursday 08:30 in Tokyo
    assert (
        await books.spent(
            guild_id=GUILD, user_id=FAN, period=Period.DAY, at=datetime(2026, 3, 4, 12, tzinfo=UTC)
        )
        == 30
    )
    await books.update_prefs(guild_id=GUILD, user_id=FAN, at=AT, timezone="Asia/Tokyo")
    assert (
        await books.spent(
            guild_id=GUILD, user_id=FAN, period=Period.DAY, at=datetime(2026, 3, 4, 12, tzinfo=UTC)
        )
        == 0
    )
    assert await books.counter_mismatches() == []


async def test_the_guild_default_budget_applies_to_members_without_one(books):
    policy = SpendPolicy(default_budget=Budget(40, Period.WEEK, Mode.HARD))
    await gift(books, "k1", policy=policy)
    with pytest.raises(BudgetExceeded):
        await gift(books, "k2", policy=policy)
    await set_budget(books, Budget(100, Period.WEEK, Mode.HARD))  # their own replaces the default
    await gift(books, "k3", policy=policy)


async def test_the_largest_single_gift_is_capped(books):
    with pytest.raises(GiftTooLarge) as refused:
        await gift(books, "k1", name="Galaxy", policy=SpendPolicy(max_gift_coins=999))
    assert "999" in refused.value.user_message
    assert (await books.balances(guild_id=GUILD, user_id=FAN)).coins == 100_000


async def test_a_low_balance_reminder_is_owed_once_when_the_balance_drops_below(books):
    await books.update_prefs(guild_id=GUILD, user_id=FAN, at=AT, low_balance_below=99_950)
    await gift(books, "k1")  # 99,970: still above
    await gift(books, "k2")  # 99,940: crossed
    await gift(books, "k3")  # already below: nothing new
    owed = [r for r in await reminders(books) if r["kind"] == "low_balance"]
    assert [(r["balance"], r["below"]) for r in owed] == [(99_940, 99_950)]


async def test_refused_gifts_leave_no_counter_and_no_reminder(books):
    await set_budget(books, Budget(10, Period.WEEK, Mode.HARD))
    with pytest.raises(BudgetExceeded):
        await gift(books, "k1")
    assert await books.spent(guild_id=GUILD, user_id=FAN, period=Period.WEEK, at=AT) == 0
    assert await reminders(books) == []


async def test_without_their_own_timezone_a_members_spending_is_their_gifters_score(books):
    """Only a member who keeps their own timezone has spend counters; everyone else's spending
    is their gifters score, and switching between the two keeps the budget exact."""
    await set_budget(books, Budget(100, Period.WEEK, Mode.HARD))
    await gift(books, "k1")
    await gift(books, "k2")

    def counters_and_score(conn):
        counters = conn.execute("SELECT COUNT(*) FROM spend_counters WHERE user_id = ?", (FAN,)).fetchone()[0]
        (score,) = conn.execute(
            "SELECT score FROM leaderboard_totals "
            "WHERE board = 'gifters' AND period = 'week' AND user_id = ?",
            (FAN,),
        ).fetchone()
        return counters, score

    assert await books.db.read(counters_and_score) == (0, 60)

    await books.update_prefs(guild_id=GUILD, user_id=FAN, at=AT, timezone="Asia/Tokyo")
    assert (await books.db.read(counters_and_score))[0] == 3  # day, week and month, in Tokyo
    await gift(books, "k3")  # 90 of 100
    with pytest.raises(BudgetExceeded):
        await gift(books, "k4")

    await books.update_prefs(guild_id=GUILD, user_id=FAN, at=AT, timezone=None)
    assert await books.db.read(counters_and_score) == (0, 90)
    with pytest.raises(BudgetExceeded):
        await gift(books, "k5")
    assert await books.spent(guild_id=GUILD, user_id=FAN, period=Period.WEEK, at=AT) == 90
    assert await books.counter_mismatches() == []

"""The days of a member's spending chart: their own days only, each day once, read through their
own rows however many members gifted those days."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from bot.economy.clock import to_millis
from storage import budget_ops
from storage.migrate import apply_migrations

from .books import ALICE, BOB, CAROL, DAVE, GUILD, NOW, grant, send, with_creators

DAY = timedelta(days=1)


async def test_each_day_is_the_members_own_spending_closed_days_and_today(store):
    await with_creators(store)
    await grant(store, ALICE, 1_000, key="alice")
    await grant(store, BOB, 1_000, key="bob")
    await send(store, ALICE, CAROL, "Rose", 5, key="a1", when=NOW - 3 * DAY)
    await send(store, ALICE, DAVE, "Rose", 2, key="a2", when=NOW - 3 * DAY)
    await send(store, BOB, CAROL, "Rose", 40, key="b1", when=NOW - 3 * DAY)
    await send(store, BOB, CAROL, "Rose", 9, key="b2", when=NOW - 2 * DAY)  # Alice skipped this day
    await send(store, ALICE, CAROL, "Doughnut", key="a3", when=NOW - DAY)
    await send(store, ALICE, CAROL, "Rose", 4, key="a4", when=NOW)  # today: still board_current

    days = await store.daily_spending(guild_id=GUILD, user_id=ALICE, start=NOW - 7 * DAY, end=NOW + DAY)
    midnight = NOW.replace(hour=0)
    window = await store.daily_spending(guild_id=GUILD, user_id=ALICE, start=midnight - 2 * DAY, end=midnight)

    assert days == [
        (to_millis(midnight - 3 * DAY), 7),
        (to_millis(midnight - DAY), 30),
        (to_millis(midnight), 4),
    ]
    assert window == [(to_millis(midnight - DAY), 30)]  # days start in [start, end)


def test_the_closed_days_are_found_through_the_members_own_rows(tmp_path):
    conn = sqlite3.connect(tmp_path / "plan.sqlite3")
    try:
        apply_migrations(conn)
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + budget_ops._DAYS_SCORE, (1, 2, 0, 9))]
    finally:
        conn.close()
    assert not any(step.startswith("SCAN") for step in plan), plan
    assert any("board_closed_by_member (guild_id=? AND user_id=?" in step for step in plan), plan
    assert any(
        "PRIMARY KEY (guild_id=? AND board=? AND creator_id=? AND period=? AND period_start=? AND user_id=?)"
        in s
        for s in plan
    ), plan

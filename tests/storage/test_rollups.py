"""Leaderboard rollups: they agree with a recomputation from the gifts, follow the guild's
timezone (re-bucketed when it changes, right on daylight-saving days), rank ties by who got
there first, leave opted-out members off public pages, and are read through their index."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bot.economy.models import Board, GiftReceipt, LeaderboardRow
from bot.economy.periods import Period, previous_window, window, zone
from storage import Storage, reads
from storage.migrate import apply_migrations
from tests.storage.books import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    GUILD,
    MOD,
    NAMES,
    gift_named,
    grant,
    rows,
    with_creators,
)

NEW_YORK = "America/New_York"
MS = timedelta(milliseconds=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def gift(
    store: Storage,
    sender: int,
    creator: int,
    coins: int,
    when: datetime,
    *,
    key: str,
    timezone: str = "UTC",
    names: dict[int, str] = NAMES,
) -> GiftReceipt:
    """`coins` Roses (1 coin each), bucketed in `timezone`: the guild's setting, which the gift reads."""
    current = (await store.guild_settings(guild_id=GUILD)).get("timezone", "UTC")
    if current != timezone:
        await store.set_guild_setting(guild_id=GUILD, key="timezone", value=timezone, actor_id=1, at=when)
    rose = await gift_named(store, "Rose")
    return await store.send_gift(
        guild_id=GUILD,
        sender_id=sender,
        sender_name=names[sender],
        creator_id=creator,
        creator_name=names[creator],
        gift_id=rose.id,
        count=coins,
        share_percent=50,
        key=key,
        at=when,
    )


async def set_timezone(store: Storage, name: str, when: datetime) -> None:
    await store.set_guild_setting(guild_id=GUILD, key="timezone", value=name, actor_id=MOD, at=when)


async def page(
    store: Storage,
    period: Period,
    now: datetime,
    timezone: str = "UTC",
    *,
    board: Board = Board.GIFTERS,
    creator_id: int = 0,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[tuple[int, int, int]], int]:
    """(rank, user, score) rows of the board for the period containing `now`, and the total."""
    found, total = await store.board_page(
        guild_id=GUILD,
        board=board,
        period=period,
        period_start=Storage.period_start(period, now, timezone),
        creator_id=creator_id,
        limit=limit,
        offset=offset,
    )
    return [(r.rank, r.user_id, r.score) for r in found], total


async def standing(
    store: Storage,
    user_id: int,
    now: datetime,
    period: Period = Period.ALL,
    *,
    board: Board = Board.GIFTERS,
    creator_id: int = 0,
) -> LeaderboardRow | None:
    return await store.board_standing(
        guild_id=GUILD,
        board=board,
        period=period,
        period_start=Storage.period_start(period, now, "UTC"),
        user_id=user_id,
        creator_id=creator_id,
    )


async def setup(store: Storage, *senders: int) -> None:
    await with_creators(store, CAROL, DAVE)
    for user_id in senders or (ALICE, BOB, MOD):
        await grant(store, user_id, 1_000_000, key=f"seed:{user_id}", when=utc(2025, 1, 1))


# -- agreement with a recomputation -------------------------------------------------------------


async def test_rollups_equal_a_recomputation_after_many_gifts(store):
    await setup(store, ALICE, BOB, MOD, CAROL)
    await set_timezone(store, NEW_YORK, utc(2025, 12, 1))
    rng = random.Random(2026)
    start = utc(2025, 12, 20)
    sent = 0
    for index in range(150):
        # Across a year end, a month end and the spring-forward day; creators gift too.
        when = start + timedelta(seconds=rng.randrange(0, 90 * 24 * 3600))
        sender = rng.choice([ALICE, BOB, MOD, CAROL])
        creator = rng.choice([c for c in (CAROL, DAVE) if c != sender])
        coins = rng.randint(1, 500)
        await gift(store, sender, creator, coins, when, key=f"r{index}", timezone=NEW_YORK)
        sent += coins

    assert await store.rollup_mismatches() == []
    for period in Period:  # every gift sits in exactly one bucket of every period
        (total,) = await rows(
            store,
            "SELECT SUM(score) FROM leaderboard_totals WHERE board = 'gifters' AND period = ?",
            (period.value,),
        )
        assert total == (sent,), period

    await set_timezone(store, "Asia/Kolkata", utc(2026, 4, 1))  # a half-hour offset
    assert await store.rollup_mismatches() == []


async def test_a_tampered_rollup_is_reported(store):
    await setup(store)
    await gift(store, ALICE, CAROL, 5, utc(2026, 1, 5, 12), key="one")

    def tamper(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE board_current SET week_score = week_score + 1")

    await store.db.write(tamper)

    wrong = await store.rollup_mismatches()
    assert len(wrong) == 3  # gifters, creators, supporters of that week
    assert {(key[1], key[3]) for key, _, _ in wrong} == {
        ("gifters", "week"),
        ("creators", "week"),
        ("supporters", "week"),
    }


# -- timezones ----------------------------------------------------------------------------------


async def test_a_timezone_change_rebuckets_past_gifts(store):
    await setup(store)
    # Monday 03:30 UTC is still Sunday 23:30 in New York (daylight time, UTC-4).
    await gift(store, ALICE, CAROL, 7, utc(2026, 3, 9, 3, 30), key="late")
    now = utc(2026, 3, 9, 12)

    assert await page(store, Period.WEEK, now) == ([(1, ALICE, 7)], 1)  # this week in UTC

    await set_timezone(store, NEW_YORK, now)

    assert await page(store, Period.WEEK, now, NEW_YORK) == ([], 0)  # not this week in New York
    last_week = previous_window(Period.WEEK, now, zone(NEW_YORK)).start
    assert last_week == utc(2026, 3, 2, 5)  # Monday 00:00 EST, before the clocks changed
    assert await page(store, Period.WEEK, last_week, NEW_YORK) == ([(1, ALICE, 7)], 1)
    assert await page(store, Period.DAY, utc(2026, 3, 8, 12), NEW_YORK) == ([(1, ALICE, 7)], 1)
    assert await store.rollup_mismatches() == []

    await set_timezone(store, "UTC", now)

    assert await page(store, Period.WEEK, now) == ([(1, ALICE, 7)], 1)
    assert await store.rollup_mismatches() == []


async def test_removing_the_timezone_setting_falls_back_to_utc(store):
    await setup(store)
    await set_timezone(store, NEW_YORK, utc(2026, 1, 1))
    await gift(store, ALICE, CAROL, 3, utc(2026, 1, 1, 3), key="eve", timezone=NEW_YORK)  # Dec 31 in NY

    await store.set_guild_setting(
        guild_id=GUILD, key="timezone", value=None, actor_id=MOD, at=utc(2026, 1, 2)
    )

    assert await page(store, Period.YEAR, utc(2026, 1, 2)) == ([(1, ALICE, 3)], 1)
    assert await store.rollup_mismatches() == []


async def _one_day(store: Storage, start: datetime, end: datetime) -> None:
    """Gifts just before, at the first and last millisecond of, and just after a New York day."""
    await setup(store)
    await set_timezone(store, NEW_YORK, start - timedelta(days=1))
    for key, when, coins in (
        ("before", start - MS, 1),
        ("first", start, 10),
        ("last", end - MS, 100),
        ("after", end, 1_000),
    ):
        await gift(store, ALICE, CAROL, coins, when, key=key, timezone=NEW_YORK)
    span = window(Period.DAY, start + timedelta(hours=12), zone(NEW_YORK))
    assert (span.start, span.end) == (start, end)
    for moment in (start, start + timedelta(hours=12), end - MS):
        assert await page(store, Period.DAY, moment, NEW_YORK) == ([(1, ALICE, 110)], 1)
    assert await page(store, Period.DAY, start - MS, NEW_YORK) == ([(1, ALICE, 1)], 1)
    assert await page(store, Period.DAY, end, NEW_YORK) == ([(1, ALICE, 1_000)], 1)


async def test_the_spring_forward_day_holds_exactly_its_twenty_three_hours(store):
    start, end = utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)  # 00:00 EST to 00:00 EDT
    assert end - start == timedelta(hours=23)
    await _one_day(store, start, end)


async def test_the_fall_back_day_holds_exactly_its_twenty_five_hours(store):
    start, end = utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)  # 00:00 EDT to 00:00 EST
    assert end - start == timedelta(hours=25)
    await _one_day(store, start, end)


# -- ranks --------------------------------------------------------------------------------------


async def test_ties_go_to_whoever_reached_the_score_first(store):
    await setup(store)
    now = utc(2026, 1, 5, 12)
    await gift(store, ALICE, CAROL, 3, now, key="s1")  # alice 3
    await gift(store, BOB, DAVE, 5, now + timedelta(seconds=1), key="s2")  # bob reaches 5 first
    await gift(store, ALICE, CAROL, 2, now + timedelta(seconds=2), key="s3")  # alice reaches 5
    await gift(store, MOD, DAVE, 5, now + timedelta(seconds=3), key="s4")  # mod reaches 5 last

    assert await page(store, Period.DAY, now) == ([(1, BOB, 5), (2, ALICE, 5), (3, MOD, 5)], 3)
    assert [(r.rank, r.score) for r in [await standing(store, u, now) for u in (BOB, ALICE, MOD)]] == [
        (1, 5),
        (2, 5),
        (3, 5),
    ]
    # carol reaches 5 at s3; dave reaches 5 at s2 and 10 at s4
    assert await page(store, Period.DAY, now, board=Board.CREATORS) == ([(1, DAVE, 10), (2, CAROL, 5)], 2)
    assert await page(store, Period.DAY, now, board=Board.SUPPORTERS, creator_id=DAVE) == (
        [(1, BOB, 5), (2, MOD, 5)],
        2,
    )


async def test_standing_reaches_beyond_the_top_hundred(store):
    fans = list(range(500, 605))  # 105 gifters
    names = {**NAMES, **{fan: f"fan {fan}" for fan in fans}}
    await setup(store, *fans)
    now = utc(2026, 1, 5, 12)
    for index, fan in enumerate(fans):
        await gift(store, fan, CAROL, 1_000 - index, now, key=f"f{fan}", names=names)

    top, total = await page(store, Period.ALL, now, limit=100)
    last = await standing(store, fans[-1], now)

    assert total == 100  # counted only up to the 100 ranks a board shows: a page never counts them all
    assert len(top) == 100 and top[-1] == (100, fans[99], 901)
    assert fans[-1] not in {user for _, user, _ in top}
    assert last == LeaderboardRow(rank=105, user_id=fans[-1], name=f"fan {fans[-1]}", score=896)
    assert await page(store, Period.ALL, now, offset=100) == (
        [(101 + i, fan, 900 - i) for i, fan in enumerate(fans[100:])],
        100,
    )
    assert await standing(store, ALICE, now) is None  # no gifts: no rank
    supporter = await standing(store, fans[-1], now, board=Board.SUPPORTERS, creator_id=CAROL)
    assert supporter is not None and supporter.rank == 105


async def test_hidden_members_leave_public_pages_but_keep_their_standing(store):
    await setup(store)
    now = utc(2026, 1, 5, 12)
    for key, (sender, coins) in enumerate(((ALICE, 30), (BOB, 20), (MOD, 10))):
        await gift(store, sender, CAROL, coins, now, key=f"h{key}")

    assert await store.set_hidden(guild_id=GUILD, user_id=ALICE, name="alice", hidden=True, at=now)

    assert await page(store, Period.WEEK, now) == ([(1, BOB, 20), (2, MOD, 10)], 2)
    assert await page(store, Period.WEEK, now, board=Board.SUPPORTERS, creator_id=CAROL) == (
        [(1, BOB, 20), (2, MOD, 10)],
        2,
    )
    mine = await standing(store, ALICE, now, Period.WEEK)
    assert mine is not None and (mine.rank, mine.score) == (1, 30)  # where she would be
    bob = await standing(store, BOB, now, Period.WEEK)
    assert bob is not None and bob.rank == 1  # ranks count visible members only
    assert await page(store, Period.WEEK, now, board=Board.CREATORS) == ([(1, CAROL, 60)], 1)

    # Her next gift does not undo the choice.
    await gift(store, ALICE, CAROL, 1, now + timedelta(seconds=1), key="again")
    assert await store.is_hidden(guild_id=GUILD, user_id=ALICE)
    assert await page(store, Period.WEEK, now) == ([(1, BOB, 20), (2, MOD, 10)], 2)

    assert not await store.set_hidden(guild_id=GUILD, user_id=ALICE, name="alice", hidden=False, at=now)

    assert await page(store, Period.WEEK, now) == ([(1, ALICE, 31), (2, BOB, 20), (3, MOD, 10)], 3)


# -- speed at scale: an index walk or one scope, never a sum over gifts ---------------------------


async def test_the_gifters_board_reads_its_kept_top_in_order(store):
    await setup(store)
    now = utc(2026, 1, 5, 12)
    for key, (sender, coins) in enumerate(((ALICE, 30), (BOB, 20), (MOD, 10))):
        await gift(store, sender, CAROL, coins, now, key=f"p{key}")
    bucket = Storage.period_start(Period.WEEK, now, "UTC")

    def plan(conn: sqlite3.Connection) -> str:
        found = conn.execute(
            "EXPLAIN QUERY PLAN " + reads._TOP_PAGE, (GUILD, "gifters", 0, "week", bucket, 10, 0)
        ).fetchall()
        return "\n".join(str(row[-1]) for row in found)

    text = await store.db.read(plan)

    assert "board_top_rank" in text, text
    assert "TEMP B-TREE" not in text, text  # rows come out of the index already ranked


async def test_other_boards_read_one_scope_not_the_whole_table(store):
    """Creators and supporters boards sort one scope on read: the guild's creators, or one
    creator's supporters, found by the primary key's prefix."""
    await setup(store)
    now = utc(2026, 1, 5, 12)
    await gift(store, ALICE, CAROL, 5, now, key="one")
    bucket = Storage.period_start(Period.WEEK, now, "UTC")

    def plan(conn: sqlite3.Connection) -> str:
        found = conn.execute(
            "EXPLAIN QUERY PLAN " + reads._BOARD_PAGE, (GUILD, "supporters", CAROL, "week", bucket, 10, 0)
        ).fetchall()
        return "\n".join(str(row[-1]) for row in found)

    text = await store.db.read(plan)

    assert "SCAN board_current" not in text and "SCAN board_closed" not in text, text
    assert "SEARCH board_current USING PRIMARY KEY (guild_id=? AND board=? AND creator_id=?)" in text, text
    assert (
        "SEARCH board_closed USING PRIMARY KEY (guild_id=? AND board=? AND creator_id=? AND period=?" in text
    )


async def test_a_gift_racing_a_timezone_change_lands_in_the_new_buckets(tmp_path):
    """The gift reads the timezone inside its own transaction, so no stale bucket can slip in."""
    store = Storage(tmp_path / "race.sqlite3")
    await store.open()
    try:
        at = datetime(2026, 3, 9, 3, 30, tzinfo=UTC)  # Monday in UTC, still Sunday in New York
        await store.add_creator(guild_id=7, user_id=70, name="c", actor_id=1, at=at)
        await store.grant(guild_id=7, user_id=71, amount=100, actor_id=1, reason="r", key="g", at=at)
        rose = await store.gift_by_name(guild_id=7, name="Rose")
        assert rose is not None
        change = store.set_guild_setting(
            guild_id=7, key="timezone", value="America/New_York", actor_id=1, at=at
        )
        gifts = [
            store.send_gift(
                guild_id=7,
                sender_id=71,
                sender_name="s",
                creator_id=70,
                creator_name="c",
                gift_id=rose.id,
                count=1,
                share_percent=50,
                key=f"k{i}",
                at=at,
            )
            for i in range(5)
        ]
        await asyncio.gather(change, *gifts)  # one batch: the change first, then the gifts
        assert await store.rollup_mismatches() == []
        ny_week = store.period_start(Period.WEEK, at, "America/New_York")
        rows, _ = await store.board_page(
            guild_id=7, board=Board.GIFTERS, period=Period.WEEK, period_start=ny_week
        )
        assert [(row.user_id, row.score) for row in rows] == [(71, 5)]
    finally:
        await store.close()


def test_own_rank_queries_stay_in_their_scope(tmp_path):
    """A member in the gifters' kept top is ranked by an index walk of that top; anyone else by
    one pass over their bucket's scope (the primary key's prefix), never the whole table, and
    the opted-out members are looked up through their own index."""
    conn = sqlite3.connect(tmp_path / "plan.sqlite3")
    try:
        apply_migrations(conn)
        key = (1, "gifters", 0, "all", 0)
        top = conn.execute("EXPLAIN QUERY PLAN " + reads._TOP_AHEAD, (*key, 5, 5, 9)).fetchall()
        ahead = conn.execute("EXPLAIN QUERY PLAN " + reads._BOARD_AHEAD, (*key, 5, 5, 9)).fetchall()
        hidden = conn.execute("EXPLAIN QUERY PLAN " + reads._HIDDEN_AHEAD, (*key, 5, 5, 9)).fetchall()
    finally:
        conn.close()
    assert any("board_top" in row[3] and "SEARCH" in row[3] for row in top), top
    details = [row[3] for row in ahead + hidden]
    assert not any(detail.startswith("SCAN board_") for detail in details), details
    assert any("USING PRIMARY KEY (guild_id=? AND board=? AND creator_id=?)" in d for d in details), details
    assert any("member_names_hidden" in detail for detail in details), details  # opted-out members first


def plan_details(tmp_path, *statements: tuple[str, tuple[int, ...]]) -> list[str]:
    """What the planner does for each statement (with these parameters), on a new database."""
    conn = sqlite3.connect(tmp_path / "plan.sqlite3")
    try:
        apply_migrations(conn)
        return [
            row[3] for sql, params in statements for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)
        ]
    finally:
        conn.close()


@pytest.mark.parametrize("period", ["day", "week", "month", "year", "all"])
def test_a_ranked_creators_supporters_are_read_from_their_rank_index(tmp_path, period):
    """However many fans a ranked creator has, a page walks that period's index in rank order
    (merged with the bucket's closed rows), and the count stops at its cap: nothing sorts the
    scope."""
    details = plan_details(
        tmp_path,
        (reads._RANKED_SUPPORTERS_PAGE[period], (1, 2, 0, 10, 0)),
        (reads._RANKED_SUPPORTERS_COUNT[period], (1, 2, 0, 100)),
    )
    assert any(f"COVERING INDEX board_current_supporters_{period}" in detail for detail in details), details
    assert not any(detail.startswith("SCAN board_") for detail in details), details
    if period != "all":
        assert any("MERGE (UNION ALL)" in detail for detail in details), details


@pytest.mark.parametrize("period", ["day", "week", "month", "year", "all"])
def test_an_unranked_creators_supporters_are_read_from_their_own_rows(tmp_path, period):
    """Below RANK_FROM gifts, a page reads only that creator's rows (at most RANK_FROM of them)
    by primary key and sorts them: the rank indexes hold none of them."""
    details = plan_details(tmp_path, (reads._SUPPORTERS_PAGE[period], (1, 2, 0, 10, 0)))
    assert any(
        "board_current USING PRIMARY KEY (guild_id=? AND board=? AND creator_id=?)" in detail
        for detail in details
    ), details
    assert not any("board_current_supporters" in detail for detail in details), details

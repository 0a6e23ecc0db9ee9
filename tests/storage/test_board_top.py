"""The gifters board's kept top (board_top) and the buckets members leave behind (board_closed):
exact however the gifts are batched, exact when many members hide, and a late gift still lands
in its own bucket."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.economy.models import Board
from bot.economy.periods import Period
from storage import Storage, rollups
from tests.storage.books import CAROL, GUILD, gift_named, grant, rows, with_creators

WEEK = datetime(2026, 1, 7, 12, tzinfo=UTC)  # a Wednesday
MEMBERS = [10_000 + i for i in range(150)]  # more than the kept top holds


async def send_roses(store: Storage, sender: int, coins: int, when: datetime, key: str) -> None:
    rose = await gift_named(store, "Rose")
    await store.send_gift(
        guild_id=GUILD,
        sender_id=sender,
        sender_name=f"member {sender}",
        creator_id=CAROL,
        creator_name="carol",
        gift_id=rose.id,
        count=coins,
        share_percent=50,
        key=key,
        at=when,
    )


async def crowd(store: Storage) -> dict[int, int]:
    """150 members, member i sending i + 1 coins this week, all at once (a few big batches)."""
    await with_creators(store)
    for member in MEMBERS:
        await grant(store, member, 1_000)
    scores = {member: index + 1 for index, member in enumerate(MEMBERS)}
    await asyncio.gather(
        *(send_roses(store, member, coins, WEEK, f"c{member}") for member, coins in scores.items())
    )
    return scores


async def week_page(
    store: Storage, *, limit: int = 100, offset: int = 0
) -> tuple[list[tuple[int, int]], int]:
    found, total = await store.board_page(
        guild_id=GUILD,
        board=Board.GIFTERS,
        period=Period.WEEK,
        period_start=Storage.period_start(Period.WEEK, WEEK, "UTC"),
        limit=limit,
        offset=offset,
    )
    return [(row.user_id, row.score) for row in found], total


async def test_the_top_holds_exactly_its_size_and_ranks_like_a_full_sort(store):
    scores = await crowd(store)
    best_first = sorted(scores.items(), key=lambda item: -item[1])

    held = await rows(store, "SELECT period, COUNT(*) FROM board_top GROUP BY period ORDER BY period")
    assert held == [(period, rollups.TOP_SIZE) for period in ("all", "day", "month", "week", "year")]
    assert await week_page(store) == (best_first[:100], 100)
    assert await week_page(store, limit=10, offset=90) == (best_first[90:100], 100)
    assert await store.rollup_mismatches() == []


async def test_a_member_below_the_top_still_learns_their_exact_rank(store):
    scores = await crowd(store)
    low = MEMBERS[9]  # the tenth smallest score: rank 141 of 150
    mine = await store.board_standing(
        guild_id=GUILD,
        board=Board.GIFTERS,
        period=Period.WEEK,
        period_start=Storage.period_start(Period.WEEK, WEEK, "UTC"),
        user_id=low,
    )
    assert mine is not None and (mine.rank, mine.score) == (141, scores[low])
    top = await store.board_standing(
        guild_id=GUILD,
        board=Board.GIFTERS,
        period=Period.WEEK,
        period_start=Storage.period_start(Period.WEEK, WEEK, "UTC"),
        user_id=MEMBERS[-1],
    )
    assert top is not None and top.rank == 1


async def test_when_more_members_hide_than_the_top_has_room_for_the_board_sorts_them_all(store):
    scores = await crowd(store)
    hiders = MEMBERS[-25:]  # 25 of the top 120: only 95 visible ones left in it
    for member in hiders:
        await store.set_hidden(guild_id=GUILD, user_id=member, name=f"member {member}", hidden=True, at=WEEK)
    visible = sorted(((m, s) for m, s in scores.items() if m not in hiders), key=lambda item: -item[1])

    assert await week_page(store) == (visible[:100], 100)
    assert await week_page(store, limit=10, offset=90) == (visible[90:100], 100)


async def test_a_late_gift_lands_in_the_bucket_its_clock_says(store):
    """A gift stamped before the member's latest one (clocks are not perfectly ordered) goes
    to the closed bucket it belongs to, and can still climb that bucket's top."""
    await with_creators(store)
    sender = MEMBERS[0]
    await grant(store, sender, 1_000)
    monday, tuesday = datetime(2026, 1, 5, 12, tzinfo=UTC), datetime(2026, 1, 6, 12, tzinfo=UTC)
    await send_roses(store, sender, 3, monday, "mon")
    await send_roses(store, sender, 5, tuesday, "tue")
    await send_roses(store, sender, 7, monday + timedelta(hours=1), "late")

    def day(when: datetime) -> int:
        return Storage.period_start(Period.DAY, when, "UTC")

    closed = await rows(
        store,
        "SELECT period_start, score, gifts FROM board_closed WHERE board = 'gifters' AND period = 'day'",
    )
    assert closed == [(day(monday), 10, 2)]
    current = await rows(store, "SELECT day_start, day_score FROM board_current WHERE board = 'gifters'")
    assert current == [(day(tuesday), 5)]
    top = await rows(
        store,
        "SELECT period_start, score FROM board_top WHERE period = 'day' ORDER BY period_start",
    )
    assert top == [(day(monday), 10), (day(tuesday), 5)]
    assert await store.rollup_mismatches() == []

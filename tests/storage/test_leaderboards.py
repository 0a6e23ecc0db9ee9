"""Leaderboards rank by coins within a period; ties go to whoever got there first.

They read the rollups, so each board is a period bucket: a day holds exactly that day's gifts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.economy.models import Board
from bot.economy.periods import Period
from tests.storage.books import ALICE, BOB, CAROL, DAVE, GUILD, MOD, NOW, at, grant, send, with_creators

START = datetime(2026, 1, 5, tzinfo=UTC)  # the UTC day NOW falls in
END = START + timedelta(days=1)
MS = timedelta(milliseconds=1)


async def board(store, who, period=Period.ALL, day=NOW, limit=10, offset=0, guild_id=GUILD):
    rows, _ = await store.board_page(
        guild_id=guild_id,
        board=Board.GIFTERS if who == "gifters" else Board.CREATORS,
        period=period,
        period_start=store.period_start(period, day, "UTC"),
        limit=limit,
        offset=offset,
    )
    return [(r.rank, r.user_id, r.name, r.score) for r in rows]


async def setup(store):
    await with_creators(store, CAROL, DAVE)
    for user_id in (ALICE, BOB, MOD):
        await grant(store, user_id, 100_000, key=f"g{user_id}")


async def test_gifters_and_creators_are_ranked_by_coins(store):
    await setup(store)
    await send(store, ALICE, CAROL, "Corgi", key="a1")  # 299
    await send(store, BOB, DAVE, "Galaxy", key="b1")  # 1,000
    await send(store, ALICE, DAVE, "Money Gun", key="a2")  # 500
    await send(store, MOD, CAROL, "Rose", 3, key="m1")  # 3
    assert await board(store, "gifters") == [
        (1, BOB, "bob", 1_000),
        (2, ALICE, "alice", 799),
        (3, MOD, "mod", 3),
    ]
    assert await board(store, "creators") == [(1, DAVE, "dave", 1_500), (2, CAROL, "carol", 302)]


async def test_an_empty_guild_has_empty_boards(store):
    assert await board(store, "gifters") == []
    assert await board(store, "creators") == []


async def test_ties_go_to_whoever_reached_the_score_first(store):
    await setup(store)
    await send(store, ALICE, CAROL, "Rose", 3, key="s1", when=at(1))  # alice 3
    await send(store, BOB, DAVE, "Finger Heart", key="s2", when=at(2))  # bob 5 (reached 5 first)
    await send(store, ALICE, CAROL, "Rose", 2, key="s3", when=at(3))  # alice 5
    await send(store, MOD, DAVE, "Rose", 5, key="s4", when=at(4))  # mod 5
    assert [r[1] for r in await board(store, "gifters")] == [BOB, ALICE, MOD]
    # carol got 5 at s3, dave 5 at s2 and 10 at s4
    assert [(r[1], r[3]) for r in await board(store, "creators")] == [(DAVE, 10), (CAROL, 5)]


async def test_a_day_holds_exactly_its_own_gifts(store):
    await setup(store)
    await send(store, ALICE, CAROL, "Rose", 1, key="before", when=START - MS)
    await send(store, ALICE, CAROL, "Rose", 10, key="first", when=START)
    await send(store, BOB, DAVE, "Rose", 20, key="last", when=END - MS)
    await send(store, BOB, DAVE, "Rose", 300, key="after", when=END)
    today = (Period.DAY, START)
    assert await board(store, "gifters", *today) == [(1, BOB, "bob", 20), (2, ALICE, "alice", 10)]
    assert await board(store, "creators", *today) == [(1, DAVE, "dave", 20), (2, CAROL, "carol", 10)]
    assert await board(store, "gifters", Period.DAY, END) == [(1, BOB, "bob", 300)]
    assert await board(store, "gifters", Period.DAY, START - MS) == [(1, ALICE, "alice", 1)]
    assert await board(store, "gifters") == [(1, BOB, "bob", 320), (2, ALICE, "alice", 11)]


async def test_limit_and_offset_keep_ranks(store):
    await setup(store)
    for i, (sender, count) in enumerate([(ALICE, 3), (BOB, 2), (MOD, 1)]):
        await send(store, sender, CAROL, "Rose", count, key=f"s{i}")
    assert await board(store, "gifters", limit=2) == [(1, ALICE, "alice", 3), (2, BOB, "bob", 2)]
    assert await board(store, "gifters", limit=2, offset=2) == [(3, MOD, "mod", 1)]


async def test_the_latest_name_is_shown(store):
    await setup(store)
    await send(store, ALICE, CAROL, "Rose", key="s1")
    names = {ALICE: "Alice the Great", CAROL: "carol", BOB: "bob", DAVE: "dave", MOD: "mod"}
    await send(store, ALICE, CAROL, "Rose", key="s2", names=names)
    assert await board(store, "gifters") == [(1, ALICE, "Alice the Great", 2)]


async def test_boards_are_per_guild(store):
    await setup(store)
    await send(store, ALICE, CAROL, "Rose", key="s1")
    assert await board(store, "gifters", guild_id=2) == []


async def test_revokes_and_grants_do_not_count(store):
    await setup(store)
    assert await board(store, "gifters") == []

"""Leaderboards rank by coins in a half-open window; ties go to whoever got there first."""

from __future__ import annotations

from datetime import timedelta

from tests.storage.books import ALICE, BOB, CAROL, DAVE, GUILD, MOD, NOW, at, grant, send, with_creators

START = NOW
END = NOW + timedelta(days=1)
MS = timedelta(milliseconds=1)


async def board(store, who, start=None, end=None, limit=10, offset=0):
    method = store.top_gifters if who == "gifters" else store.top_creators
    rows = await method(guild_id=GUILD, start=start, end=end, limit=limit, offset=offset)
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


async def test_windows_are_half_open(store):
    await setup(store)
    await send(store, ALICE, CAROL, "Rose", 1, key="before", when=START - MS)
    await send(store, ALICE, CAROL, "Rose", 10, key="first", when=START)
    await send(store, BOB, DAVE, "Rose", 20, key="last", when=END - MS)
    await send(store, BOB, DAVE, "Rose", 300, key="after", when=END)
    assert await board(store, "gifters", START, END) == [(1, BOB, "bob", 20), (2, ALICE, "alice", 10)]
    assert await board(store, "creators", START, END) == [(1, DAVE, "dave", 20), (2, CAROL, "carol", 10)]
    assert await board(store, "gifters", END, END + timedelta(days=1)) == [(1, BOB, "bob", 300)]
    assert await board(store, "gifters", None, START) == [(1, ALICE, "alice", 1)]
    assert await board(store, "gifters", START, None) == [(1, BOB, "bob", 320), (2, ALICE, "alice", 10)]
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
    assert await store.top_gifters(guild_id=2, start=None, end=None) == []


async def test_revokes_and_grants_do_not_count(store):
    await setup(store)
    assert await board(store, "gifters") == []

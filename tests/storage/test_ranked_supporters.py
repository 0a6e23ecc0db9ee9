"""A creator's supporters join the rank indexes from the creator's RANK_FROM-th gift on
(migration 0007): every supporter row at once, later ones as they come, and the page reads the
same whichever way it is served. Run here with a threshold of 4 gifts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.economy.models import Board
from bot.economy.periods import Period
from storage import Storage, rollups
from tests.storage.books import ALICE, BOB, CAROL, DAVE, GUILD, MOD, NOW, rows
from tests.storage.test_rollups import gift, page, setup

THRESHOLD = 4
NEXT_DAY = NOW + timedelta(days=1)


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch):
    monkeypatch.setattr(rollups, "RANK_FROM", THRESHOLD)


async def flags(store: Storage) -> dict[tuple[str, int, int], int]:
    """(board, creator scope, member) -> ranked, for every creators and supporters row."""
    found = await rows(
        store,
        "SELECT board, creator_id, user_id, ranked FROM board_current "
        "WHERE guild_id = ? AND board IN ('creators', 'supporters')",
        (GUILD,),
    )
    return {(board, scope, user): ranked for board, scope, user, ranked in found}


async def supporters(store: Storage, period: Period, when=NOW) -> list[tuple[int, int, int]]:
    found, total = await page(store, period, when, board=Board.SUPPORTERS, creator_id=CAROL)
    assert total == len(found)
    return found


async def test_a_creator_is_ranked_with_every_supporter_from_the_threshold_on(store):
    await setup(store, ALICE, BOB, MOD, DAVE)
    await gift(store, ALICE, CAROL, 5, NOW, key="g1")
    await gift(store, BOB, CAROL, 3, NOW, key="g2")
    await gift(store, MOD, CAROL, 9, NOW, key="g3")
    await gift(store, ALICE, DAVE, 2, NOW, key="d1")
    assert set((await flags(store)).values()) == {0}  # 3 gifts: sorted when read
    assert await supporters(store, Period.DAY) == [(1, MOD, 9), (2, ALICE, 5), (3, BOB, 3)]

    await gift(store, ALICE, CAROL, 1, NOW, key="g4")  # carol's 4th gift
    assert await flags(store) == {
        ("creators", 0, CAROL): 1,
        ("supporters", CAROL, ALICE): 1,
        ("supporters", CAROL, BOB): 1,  # not in the batch: flagged all the same
        ("supporters", CAROL, MOD): 1,
        ("creators", 0, DAVE): 0,  # one gift
        ("supporters", DAVE, ALICE): 0,
    }
    # Now read from the rank indexes, which hold every supporter.
    assert await supporters(store, Period.DAY) == [(1, MOD, 9), (2, ALICE, 6), (3, BOB, 3)]
    assert await supporters(store, Period.ALL) == [(1, MOD, 9), (2, ALICE, 6), (3, BOB, 3)]

    await gift(store, DAVE, CAROL, 4, NOW, key="g5")  # a new fan of a ranked creator
    await gift(store, BOB, CAROL, 7, NEXT_DAY, key="g6")  # bob's row moves to the next day
    assert (await flags(store))[("supporters", CAROL, DAVE)] == 1
    assert (await flags(store))[("supporters", CAROL, BOB)] == 1
    assert await supporters(store, Period.DAY, NEXT_DAY) == [(1, BOB, 7)]
    assert await supporters(store, Period.ALL) == [(1, BOB, 10), (2, MOD, 9), (3, ALICE, 6), (4, DAVE, 4)]
    assert await store.rollup_mismatches() == []  # the recount flags the same rows


async def test_a_batch_that_takes_a_creator_past_the_threshold_flags_all_of_it(store):
    await setup(store, ALICE, BOB, MOD, DAVE)
    await gift(store, MOD, CAROL, 2, NOW, key="before")
    senders = (ALICE, BOB, DAVE, ALICE, BOB)
    await asyncio.gather(
        *(gift(store, sender, CAROL, 1 + i, NOW, key=f"batch{i}") for i, sender in enumerate(senders))
    )
    assert await flags(store) == {
        ("creators", 0, CAROL): 1,
        ("supporters", CAROL, MOD): 1,
        ("supporters", CAROL, ALICE): 1,
        ("supporters", CAROL, BOB): 1,
        ("supporters", CAROL, DAVE): 1,
    }
    assert await supporters(store, Period.WEEK) == [(1, BOB, 7), (2, ALICE, 5), (3, DAVE, 3), (4, MOD, 2)]
    assert await store.rollup_mismatches() == []


async def test_a_ranked_flag_the_recount_disagrees_with_is_reported(store):
    await setup(store, ALICE)
    await gift(store, ALICE, CAROL, 5, NOW, key="g1")
    await store.db.write(
        lambda conn: conn.execute("UPDATE board_current SET ranked = 1 WHERE board = 'supporters'")
    )
    mismatches = await store.rollup_mismatches()
    assert [(key, stored, fresh) for key, stored, fresh in mismatches] == [
        (("ranked", GUILD, "supporters", CAROL, ALICE), (1,), (0,))
    ]

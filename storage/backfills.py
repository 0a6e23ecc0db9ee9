"""Backfills that need more than SQL, run inside the transaction of their migration."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from . import budget_ops, rollups


def _leaderboard_totals(conn: sqlite3.Connection) -> None:
    """0002 created rollups from every gift so far. Nothing to do any more: 0006 replaces that
    table and rebuilds the boards from the gifts, so a database older than 2 gets them there."""


def _board_buckets(conn: sqlite3.Connection) -> None:
    """0006: the boards in their new shape, from every gift so far, in each guild's timezone.
    Unranked: schema 6 has no `ranked` column yet; 0007 adds it and flags the big creators."""
    rollups.rebuild_all(conn, rank=False)


def _spend_counters(conn: sqlite3.Connection) -> None:
    """0003: spend counters from every gift so far (members had no own timezone yet)."""
    budget_ops.rebuild_all_counters(conn)


BACKFILLS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _leaderboard_totals,
    3: _spend_counters,
    6: _board_buckets,
}

"""Backfills that need more than SQL, run inside the transaction of their migration."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from . import budget_ops, rollups


def _leaderboard_totals(conn: sqlite3.Connection) -> None:
    """0002: rollups from every gift so far, bucketed in each guild's timezone."""
    rollups.rebuild_all(conn)


def _spend_counters(conn: sqlite3.Connection) -> None:
    """0003: spend counters from every gift so far (members had no own timezone yet)."""
    budget_ops.rebuild_all_counters(conn)


BACKFILLS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _leaderboard_totals,
    3: _spend_counters,
}

"""Backfills that need more than SQL, run inside the transaction of their migration."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from . import rollups


def _leaderboard_totals(conn: sqlite3.Connection) -> None:
    """0002: rollups from every gift so far, bucketed in each guild's timezone."""
    rollups.rebuild_all(conn)


BACKFILLS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _leaderboard_totals,
}

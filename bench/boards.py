"""Leaderboard latency: the top 10 of every board and period, as /leaderboard asks for it."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bot.economy.models import Board
from bot.economy.periods import Period
from bot.economy.service import EconomyService
from storage import Storage

from .config import GUILD_ID, NOW
from .stats import TickingClock, percentile


@dataclass(frozen=True, slots=True)
class BoardTiming:
    board: str
    period: str
    p50_ms: float
    p95_ms: float
    rows: int


def _creator(db: Path, sql: str) -> int | None:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(sql, (GUILD_ID,)).fetchone()
        return int(row[0]) if row else None
    finally:
        conn.close()


def busiest_creator(db: Path) -> int:
    """The creator with the most supporters of all time: the longest 'supporters' board."""
    found = _creator(
        db,
        "SELECT creator_id FROM leaderboard_totals WHERE guild_id = ? AND board = 'supporters' "
        "AND period = 'all' GROUP BY creator_id ORDER BY COUNT(*) DESC LIMIT 1",
    )
    return found or 0


def largest_sorted_creator(db: Path) -> int | None:
    """The creator with the most supporters among those not ranked yet (fewer than
    rollups.RANK_FROM gifts received), whose supporters page sorts them all when read."""
    return _creator(
        db,
        "SELECT creator_id FROM board_current WHERE guild_id = ? AND board = 'supporters' "
        "AND ranked = 0 GROUP BY creator_id ORDER BY COUNT(*) DESC LIMIT 1",
    )


async def measure_boards(db: Path, repeats: int) -> list[BoardTiming]:
    """Each board and period `repeats` times, through EconomyService.board (what the cog calls):
    the supporters board twice, for the busiest creator (read from the rank indexes) and for the
    biggest creator still sorted on read."""
    busiest = busiest_creator(db)
    boards = [(board.value, board, busiest if board is Board.SUPPORTERS else 0) for board in Board]
    sorted_creator = largest_sorted_creator(db)
    if sorted_creator is not None:
        boards.append(("supporters, sorted", Board.SUPPORTERS, sorted_creator))
    storage = Storage(db)
    await storage.open()
    service = EconomyService(storage, now=TickingClock(NOW))
    timings = []
    try:
        for name, board, scope in boards:
            for period in Period:
                samples = []
                rows = 0
                for _ in range(repeats):
                    started = time.perf_counter()
                    page = await service.board(GUILD_ID, period, board, creator_id=scope)
                    samples.append((time.perf_counter() - started) * 1000)
                    rows = len(page.rows)
                timings.append(
                    BoardTiming(name, period.value, percentile(samples, 50), percentile(samples, 95), rows)
                )
    finally:
        await storage.close()
    return timings

"""Leaderboard rollups: per-period totals kept current with every gift.

Each gift adds to 15 rows (3 boards × 5 periods), so a top 10 is an index scan rather than a
sum over every gift. Buckets follow the guild's timezone; changing it rebuilds the guild's rows
from gift_events.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.economy.clock import to_millis
from bot.economy.periods import Period, window

BOARDS = ("gifters", "creators", "supporters")
ALL_START = 0

_UPSERT = (
    "INSERT INTO leaderboard_totals (guild_id, board, creator_id, period, period_start, user_id, score, "
    "diamonds, gifts, last_entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?) "
    "ON CONFLICT (guild_id, board, creator_id, period, period_start, user_id) DO UPDATE SET "
    "score = leaderboard_totals.score + excluded.score, "
    "diamonds = leaderboard_totals.diamonds + excluded.diamonds, "
    "gifts = leaderboard_totals.gifts + 1, last_entry_id = excluded.last_entry_id"
)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def period_start(period: Period, at_ms: int, timezone: str) -> int:
    """The bucket a moment falls in: the UTC ms its guild-local period began (0 for all time)."""
    if period is Period.ALL:
        return ALL_START
    span = window(period, datetime.fromtimestamp(at_ms / 1000, tz=UTC), _zone(timezone))
    assert span.start is not None
    return to_millis(span.start)


def add_gift(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    sender_id: int,
    creator_id: int,
    coins: int,
    diamonds: int,
    entry_id: int,
    at_ms: int,
    timezone: str,
) -> None:
    rows = []
    for period in Period:
        start = period_start(period, at_ms, timezone)
        rows.append((guild_id, "gifters", 0, period.value, start, sender_id, coins, 0, entry_id))
        rows.append((guild_id, "creators", 0, period.value, start, creator_id, coins, diamonds, entry_id))
        rows.append((guild_id, "supporters", creator_id, period.value, start, sender_id, coins, 0, entry_id))
    conn.executemany(_UPSERT, rows)


def rebuild_guild(conn: sqlite3.Connection, guild_id: int, timezone: str) -> int:
    """Recompute a guild's rollups from its gifts (after a timezone change). Returns gifts replayed."""
    conn.execute("DELETE FROM leaderboard_totals WHERE guild_id = ?", (guild_id,))
    replayed = 0
    for sender_id, creator_id, coins, diamonds, entry_id, at_ms in conn.execute(
        "SELECT sender_id, creator_id, coins, diamonds, entry_id, created_at FROM gift_events "
        "WHERE guild_id = ? ORDER BY entry_id",
        (guild_id,),
    ).fetchall():
        add_gift(
            conn,
            guild_id=guild_id,
            sender_id=sender_id,
            creator_id=creator_id,
            coins=coins,
            diamonds=diamonds,
            entry_id=entry_id,
            at_ms=at_ms,
            timezone=timezone,
        )
        replayed += 1
    return replayed


def guild_timezone(conn: sqlite3.Connection, guild_id: int) -> str:
    row = conn.execute(
        "SELECT value FROM guild_settings WHERE guild_id = ? AND key = 'timezone'", (guild_id,)
    ).fetchone()
    return str(row[0]) if row else "UTC"


def rebuild_all(conn: sqlite3.Connection) -> int:
    guilds = [row[0] for row in conn.execute("SELECT DISTINCT guild_id FROM gift_events").fetchall()]
    return sum(rebuild_guild(conn, guild_id, guild_timezone(conn, guild_id)) for guild_id in guilds)

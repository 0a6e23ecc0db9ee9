"""Leaderboard rollups: per-period totals kept current with every gift.

Each gift adds to 15 rows (3 boards × 5 periods), so a top 10 is an index scan rather than a
sum over every gift. Buckets follow the guild's timezone; changing it rebuilds the guild's rows
from gift_events. Gifts committed together add up in memory first (`Totals`), so a row that
several of them touch is written once.
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
DATED = (Period.DAY, Period.WEEK, Period.MONTH, Period.YEAR)

_UPSERT = (
    "INSERT INTO leaderboard_totals (guild_id, board, creator_id, period, period_start, user_id, score, "
    "diamonds, gifts, last_entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id, board, creator_id, period, period_start, user_id) DO UPDATE SET "
    "score = leaderboard_totals.score + excluded.score, "
    "diamonds = leaderboard_totals.diamonds + excluded.diamonds, "
    "gifts = leaderboard_totals.gifts + excluded.gifts, last_entry_id = excluded.last_entry_id"
)

# (guild, board, creator scope, period, period start, user)
Key = tuple[int, str, int, str, int, int]


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


# timezone -> (day start, next day start, the day's four period starts): every gift of a local
# day shares its buckets, so the calendar arithmetic runs once a day, not five times a gift.
_day_buckets: dict[str, tuple[int, int, dict[Period, int]]] = {}


def buckets(at_ms: int, timezone: str) -> dict[Period, int]:
    """The start of the day, week, month, year and all-time bucket that `at_ms` falls in."""
    cached = _day_buckets.get(timezone)
    if cached is not None and cached[0] <= at_ms < cached[1]:
        return cached[2]
    day = window(Period.DAY, datetime.fromtimestamp(at_ms / 1000, tz=UTC), _zone(timezone))
    assert day.start is not None and day.end is not None
    found = {period: period_start(period, at_ms, timezone) for period in DATED}
    found[Period.ALL] = ALL_START
    if len(_day_buckets) > 64:
        _day_buckets.clear()
    _day_buckets[timezone] = (to_millis(day.start), to_millis(day.end), found)
    return found


class Totals:
    """Rollup additions of many gifts, merged by row, written with one executemany."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        # key -> [score, diamonds, gifts, last entry id]
        self.rows: dict[Key, list[int]] = {}

    def add_gift(
        self,
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
        self.add(guild_id, sender_id, creator_id, coins, diamonds, entry_id, buckets(at_ms, timezone))

    def add(
        self,
        guild_id: int,
        sender_id: int,
        creator_id: int,
        coins: int,
        diamonds: int,
        entry_id: int,
        starts: dict[Period, int],
    ) -> None:
        """One gift, its buckets already worked out (see `buckets`)."""
        rows = self.rows
        for period, start in starts.items():
            name = period.value
            for key, gained in (
                ((guild_id, "gifters", 0, name, start, sender_id), 0),
                ((guild_id, "creators", 0, name, start, creator_id), diamonds),
                ((guild_id, "supporters", creator_id, name, start, sender_id), 0),
            ):
                row = rows.get(key)
                if row is None:
                    rows[key] = [coins, gained, 1, entry_id]
                else:
                    row[0] += coins
                    row[1] += gained
                    row[2] += 1
                    row[3] = entry_id  # gifts arrive in entry order: the latest reached the score last

    def write(self, conn: sqlite3.Connection) -> None:
        if self.rows:
            conn.executemany(_UPSERT, [(*key, *row) for key, row in self.rows.items()])
            self.rows = {}


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
    """One gift's 15 additions, written now."""
    totals = Totals()
    totals.add_gift(
        guild_id=guild_id,
        sender_id=sender_id,
        creator_id=creator_id,
        coins=coins,
        diamonds=diamonds,
        entry_id=entry_id,
        at_ms=at_ms,
        timezone=timezone,
    )
    totals.write(conn)


REBUILD_CHUNK = 50_000  # gifts summed in memory between writes: bounded memory on any history


def rebuild_guild(conn: sqlite3.Connection, guild_id: int, timezone: str) -> int:
    """Recompute a guild's rollups from its gifts (after a timezone change). Returns gifts replayed."""
    conn.execute("DELETE FROM leaderboard_totals WHERE guild_id = ?", (guild_id,))
    replayed = 0
    totals = Totals()
    cursor = conn.execute(
        "SELECT sender_id, creator_id, coins, diamonds, entry_id, created_at FROM gift_events "
        "WHERE guild_id = ? ORDER BY entry_id",
        (guild_id,),
    )
    while chunk := cursor.fetchmany(REBUILD_CHUNK):
        for sender_id, creator_id, coins, diamonds, entry_id, at_ms in chunk:
            totals.add_gift(
                guild_id=guild_id,
                sender_id=sender_id,
                creator_id=creator_id,
                coins=coins,
                diamonds=diamonds,
                entry_id=entry_id,
                at_ms=at_ms,
                timezone=timezone,
            )
        replayed += len(chunk)
        totals.write(conn)
    return replayed


def guild_timezone(conn: sqlite3.Connection, guild_id: int) -> str:
    row = conn.execute(
        "SELECT value FROM guild_settings WHERE guild_id = ? AND key = 'timezone'", (guild_id,)
    ).fetchone()
    return str(row[0]) if row else "UTC"


def rebuild_all(conn: sqlite3.Connection) -> int:
    guilds = [row[0] for row in conn.execute("SELECT DISTINCT guild_id FROM gift_events").fetchall()]
    return sum(rebuild_guild(conn, guild_id, guild_timezone(conn, guild_id)) for guild_id in guilds)

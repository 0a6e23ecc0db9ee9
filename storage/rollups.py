"""Leaderboard rollups: per-period totals kept current with every gift.

A gift adds to three rows of `board_current` (its gifter, its creator and the creator's
supporter), each holding the member's day, week, month, year and all-time buckets side by side.
When a member's next gift lands in a later bucket, the bucket they leave is written once to
`board_closed`; a late gift for an earlier bucket goes straight there. `board_top` keeps the top
`TOP_SIZE` of every gifters bucket, the one board too large to sort when read: scores only grow,
so the new top is the old top plus whoever passed its last place. The view `leaderboard_totals`
shows all of it as one row per bucket (migration 0006).

Buckets follow the guild's timezone; changing it rebuilds the guild's rows from gift_events.
Gifts committed together add up in memory first (`Totals`), so a row several of them touch is
read and written once.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.economy.clock import to_millis
from bot.economy.periods import Period, window

BOARDS = ("gifters", "creators", "supporters")
ALL_START = 0
DATED = (Period.DAY, Period.WEEK, Period.MONTH, Period.YEAR)

# board_top rows per gifters bucket: pages stop at rank 100; the rest leaves room for hidden members
TOP_SIZE = 120
TOPPED = frozenset({"gifters"})  # boards kept in board_top; the others are sorted when read
PERIOD_NAMES = ("day", "week", "month", "year", "all")

# The rows a batch touches, found by key in one statement (a JSON list of [guild, board,
# creator, user]); json_each drives the loop, each key one primary-key lookup.
_LOAD_CURRENT = (
    "SELECT c.guild_id, c.board, c.creator_id, c.user_id, "
    "c.day_start, c.day_score, c.day_diamonds, c.day_gifts, c.day_last, "
    "c.week_start, c.week_score, c.week_diamonds, c.week_gifts, c.week_last, "
    "c.month_start, c.month_score, c.month_diamonds, c.month_gifts, c.month_last, "
    "c.year_start, c.year_score, c.year_diamonds, c.year_gifts, c.year_last, "
    "c.all_score, c.all_diamonds, c.all_gifts, c.all_last "
    "FROM json_each(?) k CROSS JOIN board_current c "
    "ON c.guild_id = k.value ->> 0 AND c.board = k.value ->> 1 AND c.creator_id = k.value ->> 2 "
    "AND c.user_id = k.value ->> 3"
)
_SAVE_CURRENT = (
    "INSERT OR REPLACE INTO board_current (guild_id, board, creator_id, user_id, "
    "day_start, day_score, day_diamonds, day_gifts, day_last, "
    "week_start, week_score, week_diamonds, week_gifts, week_last, "
    "month_start, month_score, month_diamonds, month_gifts, month_last, "
    "year_start, year_score, year_diamonds, year_gifts, year_last, "
    "all_score, all_diamonds, all_gifts, all_last) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
)
_ADD_CLOSED = (
    "INSERT INTO board_closed (guild_id, board, creator_id, period, period_start, user_id, score, diamonds, "
    "gifts, last_entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id, board, creator_id, period, period_start, user_id) DO UPDATE SET "
    "score = board_closed.score + excluded.score, diamonds = board_closed.diamonds + excluded.diamonds, "
    "gifts = board_closed.gifts + excluded.gifts, "
    "last_entry_id = MAX(board_closed.last_entry_id, excluded.last_entry_id)"
)
_CLOSED_SCORE = (
    "SELECT score, last_entry_id FROM board_closed WHERE guild_id = ? AND board = ? AND creator_id = ? "
    "AND period = ? AND period_start = ? AND user_id = ?"
)
# The last place of a full top (nothing while it has room left).
_TOP_FLOOR = (
    "SELECT score, last_entry_id FROM board_top "
    "WHERE guild_id = ? AND board = ? AND creator_id = ? AND period = ? AND period_start = ? "
    "ORDER BY score DESC, last_entry_id ASC LIMIT 1 OFFSET ?"
)
_SAVE_TOP = (
    "INSERT INTO board_top (guild_id, board, creator_id, period, period_start, user_id, score, "
    "last_entry_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id, board, creator_id, period, period_start, user_id) DO UPDATE SET "
    "score = excluded.score, last_entry_id = excluded.last_entry_id"
)
_TRIM_TOP = (
    "DELETE FROM board_top WHERE guild_id = ? AND board = ? AND creator_id = ? AND period = ? "
    "AND period_start = ? AND (score < ? OR (score = ? AND last_entry_id > ?))"
)

# (guild, board, creator scope, user): one board_current row
RowKey = tuple[int, str, int, int]
# (guild, board, creator scope, period, period start): one bucket of one board
BucketKey = tuple[int, str, int, str, int]


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


_NO_BUCKET = -(2**63)  # a period with no gift yet: any bucket is later
_DATED_OFFSETS = ((0, 4), (1, 9), (2, 14), (3, 19))  # (period index, column of its start in a row)
_PERIOD_INDEX = {Period.DAY: 0, Period.WEEK: 1, Period.MONTH: 2, Period.YEAR: 3}


def _empty_row(key: RowKey) -> list[Any]:
    return [*key, *([_NO_BUCKET, 0, 0, 0, 0] * 4), 0, 0, 0, 0]


class Totals:
    """Rollup additions of many gifts, merged by row, read and written once per batch."""

    __slots__ = ("_last_starts", "_last_tuple", "rows")

    def __init__(self) -> None:
        # row key -> additions in entry order: [bucket starts (day, week, month, year), score,
        # diamonds, gifts, last entry id]; consecutive gifts in the same buckets share one
        self.rows: dict[RowKey, list[list[Any]]] = {}
        self._last_starts: dict[Period, int] | None = None
        self._last_tuple: tuple[int, int, int, int] = (0, 0, 0, 0)

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
        if starts is not self._last_starts:  # `buckets` hands out one dict per day and timezone
            self._last_starts = starts
            self._last_tuple = (
                starts[Period.DAY],
                starts[Period.WEEK],
                starts[Period.MONTH],
                starts[Period.YEAR],
            )
        at = self._last_tuple
        rows = self.rows
        for key, gained in (
            ((guild_id, "gifters", 0, sender_id), 0),
            ((guild_id, "creators", 0, creator_id), diamonds),
            ((guild_id, "supporters", creator_id, sender_id), 0),
        ):
            additions = rows.get(key)
            if additions is None:
                rows[key] = [[at, coins, gained, 1, entry_id]]
                continue
            last = additions[-1]
            if last[0] == at:
                last[1] += coins
                last[2] += gained
                last[3] += 1
                last[4] = entry_id  # gifts arrive in entry order: the latest reached the score last
            else:
                additions.append([at, coins, gained, 1, entry_id])

    def pending(self, guild_id: int, user_id: int, period: Period, start: int) -> int:
        """Coins held back here for one bucket of a gifter (budget checks add them to what is
        stored: a member's spend in their guild's timezone is their gifters score)."""
        additions = self.rows.get((guild_id, "gifters", 0, user_id))
        if not additions:
            return 0
        index = _PERIOD_INDEX[period]
        return sum(addition[1] for addition in additions if addition[0][index] == start)

    def write(self, conn: sqlite3.Connection) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, {}
        stored = _load_current(conn, list(rows))
        closed: dict[tuple[int, str, int, str, int, int], list[int]] = {}
        late: list[tuple[int, str, int, str, int, int]] = []  # closed buckets of topped boards
        tops: dict[BucketKey, list[tuple[int, int, int]]] = {}
        saves = []
        for key, additions in rows.items():
            row = stored.get(key) or _empty_row(key)
            for at, score, diamonds, gifts, last in additions:
                _apply(row, at, score, diamonds, gifts, last, closed, late)
            saves.append(row)
            if key[1] in TOPPED:
                guild_id, board, scope, user_id = key
                for index, offset in _DATED_OFFSETS:
                    tops.setdefault((guild_id, board, scope, PERIOD_NAMES[index], row[offset]), []).append(
                        (user_id, row[offset + 1], row[offset + 4])
                    )
                everyone = (guild_id, board, scope, "all", ALL_START)
                tops.setdefault(everyone, []).append((user_id, row[24], row[27]))
        conn.executemany(_SAVE_CURRENT, saves)
        if closed:
            conn.executemany(_ADD_CLOSED, [(*key, *values) for key, values in closed.items()])
            for guild_id, board, scope, period, start, user_id in late:
                # a closed bucket gained: it may climb that bucket's top
                found = conn.execute(_CLOSED_SCORE, (guild_id, board, scope, period, start, user_id))
                score, last = found.fetchone()
                tops.setdefault((guild_id, board, scope, period, start), []).append((user_id, score, last))
        for bucket, candidates in tops.items():
            _update_top(conn, bucket, candidates)


def _load_current(conn: sqlite3.Connection, keys: list[RowKey]) -> dict[RowKey, list[Any]]:
    stored: dict[RowKey, list[Any]] = {}
    for first in range(0, len(keys), 2_000):
        for row in conn.execute(_LOAD_CURRENT, (json.dumps(keys[first : first + 2_000]),)):
            stored[row[:4]] = list(row)
    return stored


def _apply(
    row: list[Any],
    at: tuple[int, int, int, int],
    score: int,
    diamonds: int,
    gifts: int,
    last: int,
    closed: dict[tuple[int, str, int, str, int, int], list[int]],
    late: list[tuple[int, str, int, str, int, int]],
) -> None:
    """Add one run of gifts to a board_current row; buckets it leaves or misses go to `closed`."""
    for index, offset in _DATED_OFFSETS:
        start = at[index]
        held = row[offset]
        if held == start:
            row[offset + 1] += score
            row[offset + 2] += diamonds
            row[offset + 3] += gifts
            row[offset + 4] = last
            continue
        if held < start:  # a later bucket: the one left behind is closed as it stands
            if row[offset + 3]:
                key = (row[0], row[1], row[2], PERIOD_NAMES[index], held, row[3])
                _close(closed, key, row[offset + 1], row[offset + 2], row[offset + 3], row[offset + 4])
                if row[1] in TOPPED:  # it may have been current only within this batch
                    late.append(key)
            row[offset : offset + 5] = [start, score, diamonds, gifts, last]
        else:  # a late gift (its clock behind the row's): it belongs to a closed bucket
            key = (row[0], row[1], row[2], PERIOD_NAMES[index], start, row[3])
            _close(closed, key, score, diamonds, gifts, last)
            if row[1] in TOPPED:
                late.append(key)
    row[24] += score
    row[25] += diamonds
    row[26] += gifts
    row[27] = last


def _close(
    closed: dict[tuple[int, str, int, str, int, int], list[int]],
    key: tuple[int, str, int, str, int, int],
    score: int,
    diamonds: int,
    gifts: int,
    last: int,
) -> None:
    held = closed.get(key)
    if held is None:
        closed[key] = [score, diamonds, gifts, last]
    else:
        held[0] += score
        held[1] += diamonds
        held[2] += gifts
        held[3] = max(held[3], last)


def _update_top(conn: sqlite3.Connection, bucket: BucketKey, candidates: list[tuple[int, int, int]]) -> None:
    """Keep `board_top` the exact top of `bucket` after these members' scores grew.

    Every member of the old top still scores at least its last place, so anyone still below
    that place has a full top ahead of them: only candidates who pass it can enter."""
    floor = conn.execute(_TOP_FLOOR, (*bucket, TOP_SIZE - 1)).fetchone()
    if floor is not None:
        low_score, low_last = floor
        candidates = [
            (user_id, score, last)
            for user_id, score, last in candidates
            if score > low_score or (score == low_score and last < low_last)
        ]
        if not candidates:
            return
    conn.executemany(_SAVE_TOP, [(*bucket, user_id, score, last) for user_id, score, last in candidates])
    floor = conn.execute(_TOP_FLOOR, (*bucket, TOP_SIZE - 1)).fetchone()
    if floor is not None:
        conn.execute(_TRIM_TOP, (*bucket, floor[0], floor[0], floor[1]))


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
    """One gift's additions, written now."""
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
_DELETE_GUILD = (
    "DELETE FROM board_current WHERE guild_id = ?",
    "DELETE FROM board_closed WHERE guild_id = ?",
    "DELETE FROM board_top WHERE guild_id = ?",
)


def rebuild_guild(conn: sqlite3.Connection, guild_id: int, timezone: str) -> int:
    """Recompute a guild's rollups from its gifts (after a timezone change). Returns gifts replayed."""
    for delete in _DELETE_GUILD:
        conn.execute(delete, (guild_id,))
    replayed = 0
    totals = Totals()
    cursor = conn.execute(
        "SELECT sender_id, creator_id, coins, diamonds, entry_id, created_at FROM gift_events "
        "WHERE guild_id = ? ORDER BY entry_id",
        (guild_id,),
    )
    while chunk := cursor.fetchmany(REBUILD_CHUNK):
        for sender_id, creator_id, coins, diamonds, entry_id, at_ms in chunk:
            totals.add(guild_id, sender_id, creator_id, coins, diamonds, entry_id, buckets(at_ms, timezone))
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

"""The boards recounted from the gifts in a few set-based statements (storage/rollups.py keeps
them gift by gift).

Used after a timezone change, by the 0006 backfill and by the checks, which compare the kept
boards with this recount: two independent ways to the same rows. What a recount must produce
follows from how gifts add up one by one:

* each bucket (board, scope, member, period, start) sums its gifts: coins, diamonds, how many,
  and the latest entry id;
* a member's current bucket of a period is the latest one any of their gifts fell in (a row's
  bucket never moves back: an earlier gift goes to the closed one), and every other bucket is
  closed;
* the kept top of a gifters bucket is its best TOP_SIZE by score, then by who got there first;
* a creator who received RANK_FROM gifts or more is ranked, and so are their supporter rows
  (`rank_guild`).

Buckets follow the guild's timezone: each local day the gifts span is listed once, with the
week, month and year it belongs to, and every gift finds its day by the start before it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

from bot.economy.clock import to_millis
from bot.economy.periods import Period, window, zone

from . import rollups
from .rollups import TOP_SIZE, buckets

_STEPS = (
    "DROP TABLE IF EXISTS temp.board_days",
    "DROP TABLE IF EXISTS temp.board_rows",
    "DROP TABLE IF EXISTS temp.board_sums",
    "CREATE TEMP TABLE board_days (day_start INTEGER PRIMARY KEY, week_start INTEGER NOT NULL, "
    "month_start INTEGER NOT NULL, year_start INTEGER NOT NULL)",
)
_DAY = "INSERT INTO temp.board_days (day_start, week_start, month_start, year_start) VALUES (?, ?, ?, ?)"
# Every gift, once per board it counts on, with its four buckets.
_ROWS = (
    "CREATE TEMP TABLE board_rows AS "
    "WITH gifts AS (SELECT g.entry_id, g.sender_id, g.creator_id, g.coins, g.diamonds, "
    "d.day_start AS d, d.week_start AS w, d.month_start AS m, d.year_start AS y "
    "FROM gift_events g JOIN temp.board_days d "
    "ON d.day_start = (SELECT MAX(day_start) FROM temp.board_days WHERE day_start <= g.created_at) "
    "WHERE g.guild_id = ?1) "
    "SELECT 'gifters' AS board, 0 AS scope, sender_id AS user_id, entry_id, coins, 0 AS diamonds, "
    "d, w, m, y FROM gifts "
    "UNION ALL SELECT 'creators', 0, creator_id, entry_id, coins, diamonds, d, w, m, y FROM gifts "
    "UNION ALL SELECT 'supporters', creator_id, sender_id, entry_id, coins, 0, d, w, m, y FROM gifts"
)
# Every dated bucket's sums, and whether it is the member's latest of its period (newest = 1).
_SUMS = (
    "CREATE TEMP TABLE board_sums AS SELECT *, ROW_NUMBER() OVER ("
    "PARTITION BY board, scope, user_id, period ORDER BY period_start DESC) AS newest FROM ("
    "SELECT board, scope, user_id, 'day' AS period, d AS period_start, SUM(coins) AS score, "
    "SUM(diamonds) AS diamonds, COUNT(*) AS gifts, MAX(entry_id) AS last_entry_id "
    "FROM temp.board_rows GROUP BY board, scope, user_id, d "
    "UNION ALL SELECT board, scope, user_id, 'week', w, SUM(coins), SUM(diamonds), COUNT(*), MAX(entry_id) "
    "FROM temp.board_rows GROUP BY board, scope, user_id, w "
    "UNION ALL SELECT board, scope, user_id, 'month', m, SUM(coins), SUM(diamonds), COUNT(*), MAX(entry_id) "
    "FROM temp.board_rows GROUP BY board, scope, user_id, m "
    "UNION ALL SELECT board, scope, user_id, 'year', y, SUM(coins), SUM(diamonds), COUNT(*), MAX(entry_id) "
    "FROM temp.board_rows GROUP BY board, scope, user_id, y)"
)
_LATEST = "CREATE INDEX temp.board_sums_latest ON board_sums (board, scope, user_id, period) WHERE newest = 1"
_CURRENT = (
    "INSERT INTO board_current (guild_id, board, creator_id, user_id, "
    "day_start, day_score, day_diamonds, day_gifts, day_last, "
    "week_start, week_score, week_diamonds, week_gifts, week_last, "
    "month_start, month_score, month_diamonds, month_gifts, month_last, "
    "year_start, year_score, year_diamonds, year_gifts, year_last, "
    "all_score, all_diamonds, all_gifts, all_last) "
    "SELECT ?1, a.board, a.scope, a.user_id, "
    "d.period_start, d.score, d.diamonds, d.gifts, d.last_entry_id, "
    "w.period_start, w.score, w.diamonds, w.gifts, w.last_entry_id, "
    "m.period_start, m.score, m.diamonds, m.gifts, m.last_entry_id, "
    "y.period_start, y.score, y.diamonds, y.gifts, y.last_entry_id, "
    "a.score, a.diamonds, a.gifts, a.last_entry_id FROM ("
    "SELECT board, scope, user_id, SUM(coins) AS score, SUM(diamonds) AS diamonds, COUNT(*) AS gifts, "
    "MAX(entry_id) AS last_entry_id FROM temp.board_rows GROUP BY board, scope, user_id) a "
    "JOIN temp.board_sums d ON d.newest = 1 AND d.board = a.board AND d.scope = a.scope "
    "AND d.user_id = a.user_id AND d.period = 'day' "
    "JOIN temp.board_sums w ON w.newest = 1 AND w.board = a.board AND w.scope = a.scope "
    "AND w.user_id = a.user_id AND w.period = 'week' "
    "JOIN temp.board_sums m ON m.newest = 1 AND m.board = a.board AND m.scope = a.scope "
    "AND m.user_id = a.user_id AND m.period = 'month' "
    "JOIN temp.board_sums y ON y.newest = 1 AND y.board = a.board AND y.scope = a.scope "
    "AND y.user_id = a.user_id AND y.period = 'year'"
)
_CLOSED = (
    "INSERT INTO board_closed (guild_id, board, creator_id, period, period_start, user_id, score, diamonds, "
    "gifts, last_entry_id) SELECT ?1, board, scope, period, period_start, user_id, score, diamonds, gifts, "
    "last_entry_id FROM temp.board_sums WHERE newest > 1"
)
# The best TOP_SIZE of every gifters bucket, dated ones and all time.
_TOP = (
    "INSERT INTO board_top (guild_id, board, creator_id, period, period_start, user_id, score, "
    "last_entry_id) SELECT ?1, 'gifters', 0, period, period_start, user_id, score, last_entry_id FROM ("
    "SELECT period, period_start, user_id, score, last_entry_id, ROW_NUMBER() OVER ("
    "PARTITION BY period, period_start ORDER BY score DESC, last_entry_id ASC) AS place FROM ("
    "SELECT period, period_start, user_id, score, last_entry_id FROM temp.board_sums "
    "WHERE board = 'gifters' "
    "UNION ALL SELECT 'all', 0, user_id, SUM(coins), MAX(entry_id) FROM temp.board_rows "
    "WHERE board = 'gifters' GROUP BY user_id)) WHERE place <= ?2"
)
_RANK_CREATORS = (
    "UPDATE board_current SET ranked = 1 "
    "WHERE guild_id = ?1 AND board = 'creators' AND creator_id = 0 AND all_gifts >= ?2"
)
_RANK_THEIR_SUPPORTERS = (
    "UPDATE board_current SET ranked = 1 WHERE guild_id = ?1 AND board = 'supporters' AND creator_id IN ("
    "SELECT user_id FROM board_current WHERE guild_id = ?1 AND board = 'creators' AND creator_id = 0 "
    "AND ranked = 1)"
)
_DONE = (
    "DROP TABLE temp.board_sums",
    "DROP TABLE temp.board_rows",
    "DROP TABLE temp.board_days",
)


def recount_guild(conn: sqlite3.Connection, guild_id: int, timezone: str) -> int:
    """Write a guild's boards from its gifts (the guild's rows must be gone). Returns the gifts."""
    first, last, gifts = conn.execute(
        "SELECT MIN(created_at), MAX(created_at), COUNT(*) FROM gift_events WHERE guild_id = ?", (guild_id,)
    ).fetchone()
    if not gifts:
        return 0
    for step in _STEPS:
        conn.execute(step)
    conn.executemany(_DAY, _local_days(int(first), int(last), timezone))
    conn.execute(_ROWS, (guild_id,))
    conn.execute(_SUMS)
    conn.execute(_LATEST)
    conn.execute(_CURRENT, (guild_id,))
    conn.execute(_CLOSED, (guild_id,))
    conn.execute(_TOP, (guild_id, TOP_SIZE))
    for step in _DONE:
        conn.execute(step)
    return int(gifts)


def rank_guild(conn: sqlite3.Connection, guild_id: int) -> None:
    """Flag the guild's creators with RANK_FROM gifts or more, and their supporter rows, as the
    gifts would have one by one (storage/rollups.py)."""
    conn.execute(_RANK_CREATORS, (guild_id, rollups.RANK_FROM))
    conn.execute(_RANK_THEIR_SUPPORTERS, (guild_id,))


def _local_days(first_ms: int, last_ms: int, timezone: str) -> Iterator[tuple[int, int, int, int]]:
    """(day, week, month, year start) of every local day from the one holding `first_ms` to the
    one holding `last_ms`, each a UTC instant in ms, as `rollups.buckets` has them."""
    tz = zone(timezone)
    day = window(Period.DAY, datetime.fromtimestamp(first_ms / 1000, tz=UTC), tz)
    while True:
        assert day.start is not None and day.end is not None
        start = to_millis(day.start)
        if start > last_ms:
            return
        found = buckets(start, timezone)
        yield found[Period.DAY], found[Period.WEEK], found[Period.MONTH], found[Period.YEAR]
        day = window(Period.DAY, day.end, tz)

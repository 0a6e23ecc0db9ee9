"""Leaderboard rollups: per-period totals kept current with every gift.

A gift adds to three rows of `board_current` (its gifter, its creator and the creator's
supporter), each holding the member's day, week, month, year and all-time buckets side by side.
When a member's next gift lands in a later bucket, the bucket they leave is written once to
`board_closed`; a late gift for an earlier bucket goes straight there. `board_top` keeps the top
`TOP_SIZE` of every gifters bucket (as many rows as members): scores only grow, so the new top is
the old top plus whoever passed its last place. A creator's supporters are ranked by partial
indexes instead, once the creator has `RANK_FROM` gifts (migration 0007: before that a page
sorts them, and a gift moves no index entry), and the creators board is sorted when read. The
view `leaderboard_totals` shows all of it as one row per bucket (migration 0006).

Buckets follow the guild's timezone; changing it recounts the guild's rows from gift_events
(storage/board_rebuild.py, which the checks also compare these rows with).
Gifts committed together add up in memory first (`Totals`), so a row several of them touch is
written once. Rows are read only where needed: a row still in the batch's buckets (nearly every
one) gets its additions in SQL; a gifters row's scores are read, for the tops; a row changing
buckets is read whole.
"""

from __future__ import annotations

import heapq
import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.economy.clock import to_millis
from bot.economy.periods import Period, window

ALL_START = 0
DATED = (Period.DAY, Period.WEEK, Period.MONTH, Period.YEAR)

# board_top rows per gifters bucket: pages stop at rank 100; the rest leaves room for hidden members
TOP_SIZE = 120
TOPPED = frozenset({"gifters"})  # boards kept in board_top; the others are sorted when read
# A creator's supporters are in the rank indexes (board_current.ranked) from this many gifts
# received on; until then a page sorts them, and they are at most this many. Migration 0007
# flagged the creators of the day by this value, and the checks compare the flags with a recount,
# so changing it takes a migration that flags again.
RANK_FROM = 1_000
PERIOD_NAMES = ("day", "week", "month", "year", "all")

# What a batch reads of board_current, one guild and board at a time: by member (a JSON list of
# user ids) in one creator scope, or by (creator scope, member) pairs. json_each drives the
# loop, each one primary-key lookup; k.key (the place in the list) names the row, so no key
# columns come back. Whole rows (the 24 columns after the key) of all those members or, given
# bucket starts, only of those in other buckets; or a topped board's scores and buckets.
_LOAD_MEMBERS = (
    "SELECT k.key, "
    "c.day_start, c.day_score, c.day_diamonds, c.day_gifts, c.day_last, "
    "c.week_start, c.week_score, c.week_diamonds, c.week_gifts, c.week_last, "
    "c.month_start, c.month_score, c.month_diamonds, c.month_gifts, c.month_last, "
    "c.year_start, c.year_score, c.year_diamonds, c.year_gifts, c.year_last, "
    "c.all_score, c.all_diamonds, c.all_gifts, c.all_last "
    "FROM json_each(?1) k CROSS JOIN board_current c "
    "ON c.guild_id = ?2 AND c.board = ?3 AND c.creator_id = ?4 AND c.user_id = k.value "
    "WHERE ?5 IS NULL OR c.day_start <> ?5 OR c.week_start <> ?6 OR c.month_start <> ?7 OR c.year_start <> ?8"
)
_LOAD_PAIRS = (
    "SELECT k.key, "
    "c.day_start, c.day_score, c.day_diamonds, c.day_gifts, c.day_last, "
    "c.week_start, c.week_score, c.week_diamonds, c.week_gifts, c.week_last, "
    "c.month_start, c.month_score, c.month_diamonds, c.month_gifts, c.month_last, "
    "c.year_start, c.year_score, c.year_diamonds, c.year_gifts, c.year_last, "
    "c.all_score, c.all_diamonds, c.all_gifts, c.all_last "
    "FROM json_each(?1) k CROSS JOIN board_current c "
    "ON c.guild_id = ?2 AND c.board = ?3 AND c.creator_id = k.value ->> 0 AND c.user_id = k.value ->> 1 "
    "WHERE ?4 IS NULL OR c.day_start <> ?4 OR c.week_start <> ?5 OR c.month_start <> ?6 OR c.year_start <> ?7"
)
_LOAD_SCORES = (
    "SELECT k.key, c.day_start, c.day_score, c.week_start, c.week_score, c.month_start, c.month_score, "
    "c.year_start, c.year_score, c.all_score "
    "FROM json_each(?1) k CROSS JOIN board_current c "
    "ON c.guild_id = ?2 AND c.board = ?3 AND c.creator_id = ?4 AND c.user_id = k.value"
)
# A run added to a row still in the run's buckets, or a new row holding just the run: its score,
# diamonds, gifts and last entry id (?9..?12) count in all five periods; ?13 is its `ranked`. A
# row in other buckets is left alone (the WHERE), which shows in the number of rows changed.
_ADD_CURRENT = (
    "INSERT INTO board_current (guild_id, board, creator_id, user_id, "
    "day_start, day_score, day_diamonds, day_gifts, day_last, "
    "week_start, week_score, week_diamonds, week_gifts, week_last, "
    "month_start, month_score, month_diamonds, month_gifts, month_last, "
    "year_start, year_score, year_diamonds, year_gifts, year_last, "
    "all_score, all_diamonds, all_gifts, all_last, ranked) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?9, ?10, ?11, ?12, ?6, ?9, ?10, ?11, ?12, ?7, ?9, ?10, ?11, ?12, "
    "?8, ?9, ?10, ?11, ?12, ?9, ?10, ?11, ?12, ?13) "
    "ON CONFLICT (guild_id, board, creator_id, user_id) DO UPDATE SET "
    "day_score = day_score + ?9, day_diamonds = day_diamonds + ?10, day_gifts = day_gifts + ?11, "
    "day_last = ?12, week_score = week_score + ?9, week_diamonds = week_diamonds + ?10, "
    "week_gifts = week_gifts + ?11, week_last = ?12, month_score = month_score + ?9, "
    "month_diamonds = month_diamonds + ?10, month_gifts = month_gifts + ?11, month_last = ?12, "
    "year_score = year_score + ?9, year_diamonds = year_diamonds + ?10, year_gifts = year_gifts + ?11, "
    "year_last = ?12, all_score = all_score + ?9, all_diamonds = all_diamonds + ?10, "
    "all_gifts = all_gifts + ?11, all_last = ?12, ranked = ?13 "
    "WHERE day_start = ?5 AND week_start = ?6 AND month_start = ?7 AND year_start = ?8"
)
# Whole rows, worked out here: those changing buckets.
_SAVE_CURRENT = (
    "INSERT OR REPLACE INTO board_current (guild_id, board, creator_id, user_id, "
    "day_start, day_score, day_diamonds, day_gifts, day_last, "
    "week_start, week_score, week_diamonds, week_gifts, week_last, "
    "month_start, month_score, month_diamonds, month_gifts, month_last, "
    "year_start, year_score, year_diamonds, year_gifts, year_last, "
    "all_score, all_diamonds, all_gifts, all_last, ranked) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
)
# Whether creators are ranked, and the gifts they received (json_each of creator ids, a guild).
_CREATOR_RANKS = (
    "SELECT k.key, c.ranked, c.all_gifts FROM json_each(?1) k CROSS JOIN board_current c "
    "ON c.guild_id = ?2 AND c.board = 'creators' AND c.creator_id = 0 AND c.user_id = k.value"
)
# A creator reaching RANK_FROM: their supporter rows not written in this batch join the indexes.
_RANK_SUPPORTERS = (
    "UPDATE board_current SET ranked = 1 WHERE guild_id = ? AND board = 'supporters' AND creator_id = ? "
    "AND ranked = 0"
)
_ADD_CLOSED = (
    "INSERT INTO board_closed (guild_id, board, creator_id, period, period_start, user_id, score, diamonds, "
    "gifts, last_entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id, board, creator_id, period, period_start, user_id) DO UPDATE SET "
    "score = board_closed.score + excluded.score, diamonds = board_closed.diamonds + excluded.diamonds, "
    "gifts = board_closed.gifts + excluded.gifts, "
    "last_entry_id = MAX(board_closed.last_entry_id, excluded.last_entry_id)"
)
# Closed buckets' scores, by key (a JSON list of [guild, board, creator, period, start, user]).
_CLOSED_SCORES = (
    "SELECT k.key, c.score, c.last_entry_id FROM json_each(?) k CROSS JOIN board_closed c "
    "ON c.guild_id = k.value ->> 0 AND c.board = k.value ->> 1 AND c.creator_id = k.value ->> 2 "
    "AND c.period = k.value ->> 3 AND c.period_start = k.value ->> 4 AND c.user_id = k.value ->> 5"
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
_LOAD_CHUNK = 2_000  # keys per load statement
_ANY_BUCKETS = (None, None, None, None)

# The additions of consecutive gifts of one row that fall in the same buckets: [bucket starts
# (day, week, month, year), score, diamonds, gifts, last entry id].
Run = list[Any]
# A row of a board, its key first: as written to board_current (key, then start, score,
# diamonds, gifts and last entry id of the day, week, month and year buckets, then score,
# diamonds, gifts and last entry id of all time), or a topped board's new scores alone.
Row = tuple[Any, ...] | list[Any]
# Some rows' candidacies for one bucket's top: (rows, column of the score, column of the last
# entry id); the member is column 3.
Candidates = tuple[list[Row], int, int]


def _empty_row(key: RowKey) -> list[Any]:
    return [*key, *([_NO_BUCKET, 0, 0, 0, 0] * 4), 0, 0, 0, 0]


class Totals:
    """Rollup additions of many gifts, merged by row, read and written once per batch."""

    __slots__ = ("_earlier", "_last_starts", "_last_tuple", "rank_from", "rows")

    def __init__(self) -> None:
        # Read now, in the process that adds the gifts: the writer process (which writes them,
        # storage/writer_process.py) then ranks by the same threshold, whatever its own says.
        self.rank_from = RANK_FROM
        # row key -> its latest run of additions (consecutive gifts in the same buckets share one)
        self.rows: dict[RowKey, Run] = {}
        # row key -> its runs before the latest, in entry order: only rows whose gifts changed
        # buckets within the batch (a day boundary, or a late gift)
        self._earlier: dict[RowKey, list[Run]] = {}
        self._last_starts: dict[Period, int] | None = None
        self._last_tuple: tuple[int, int, int, int] = (0, 0, 0, 0)

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
        """One gift, its buckets already worked out (see `buckets`). Runs once per gift, so the
        three boards are spelled out; gifts arrive in entry order, so the latest reached the
        score last."""
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
        key = (guild_id, "gifters", 0, sender_id)
        run = rows.get(key)
        if run is None:
            rows[key] = [at, coins, 0, 1, entry_id]
        elif run[0] is at:
            run[1] += coins
            run[3] += 1
            run[4] = entry_id
        else:
            self._another_run(key, run, at, coins, 0, entry_id)
        key = (guild_id, "creators", 0, creator_id)
        run = rows.get(key)
        if run is None:
            rows[key] = [at, coins, diamonds, 1, entry_id]
        elif run[0] is at:
            run[1] += coins
            run[2] += diamonds
            run[3] += 1
            run[4] = entry_id
        else:
            self._another_run(key, run, at, coins, diamonds, entry_id)
        key = (guild_id, "supporters", creator_id, sender_id)
        run = rows.get(key)
        if run is None:
            rows[key] = [at, coins, 0, 1, entry_id]
        elif run[0] is at:
            run[1] += coins
            run[3] += 1
            run[4] = entry_id
        else:
            self._another_run(key, run, at, coins, 0, entry_id)

    def _another_run(
        self, key: RowKey, run: Run, at: tuple[int, int, int, int], coins: int, gained: int, entry_id: int
    ) -> None:
        """A gift whose row's latest run holds other buckets, or the same ones as another tuple."""
        if run[0] == at:
            run[0] = at  # the same buckets: the next gift can tell by identity
            run[1] += coins
            run[2] += gained
            run[3] += 1
            run[4] = entry_id
            return
        self._earlier.setdefault(key, []).append(run)
        self.rows[key] = [at, coins, gained, 1, entry_id]

    def pending(self, guild_id: int, user_id: int, period: Period, start: int) -> int:
        """Coins held back here for one bucket of a gifter (budget checks add them to what is
        stored: a member's spend in their guild's timezone is their gifters score)."""
        key = (guild_id, "gifters", 0, user_id)
        run = self.rows.get(key)
        if run is None:
            return 0
        index = _PERIOD_INDEX[period]
        held = run[1] if run[0][index] == start else 0
        return held + sum(earlier[1] for earlier in self._earlier.get(key, ()) if earlier[0][index] == start)

    def write(self, conn: sqlite3.Connection) -> None:
        """Add the batch's runs to the rollups. A row still in its run's buckets (nearly every
        one) gets the run added by SQL, unread, except on a topped board: there its scores are
        read first, since its new ones decide its buckets' tops. A row changing buckets is read
        whole, worked out here and written whole."""
        if not self.rows:
            return
        rows, self.rows = self.rows, {}
        earlier, self._earlier = self._earlier, {}
        ranks, promoted = _creator_ranks(conn, rows, earlier, self.rank_from)
        moving: dict[RowKey, list[Run]] = {key: [*runs, rows[key]] for key, runs in earlier.items()}
        scores = _load_scores(conn, [key for key in rows if key[1] in TOPPED and key not in moving])
        ranked: dict[tuple[int, str, int, int, int, int, int], list[Row]] = {}  # by (.., buckets)
        adds: list[tuple[Any, ...]] = []
        for key, run in rows.items():
            if key in moving:
                continue
            at, score, diamonds, gifts, last = run
            guild_id, board, scope, user_id = key
            day, week, month, year = at
            if board in TOPPED:
                found = scores.get(key)
                now: Row
                if found is None:
                    now = (guild_id, board, scope, user_id, score, score, score, score, score, last)
                elif found[1] == day and found[3] == week and found[5] == month and found[7] == year:
                    now = (
                        guild_id, board, scope, user_id,
                        found[2] + score, found[4] + score, found[6] + score, found[8] + score,
                        found[9] + score, last,
                    )  # fmt: skip
                else:
                    moving[key] = [run]
                    continue
                members = ranked.get((guild_id, board, scope, day, week, month, year))
                if members is None:
                    ranked[(guild_id, board, scope, day, week, month, year)] = [now]
                else:
                    members.append(now)
            adds.append(
                (
                    guild_id, board, scope, user_id, day, week, month, year, score, diamonds, gifts, last,
                    _ranked(key, ranks),
                )
            )  # fmt: skip
        stored: dict[RowKey, tuple[Any, ...]] = {}
        if moving:  # some rows change buckets (a new day): others likely do too, found first
            stored = _in_other_buckets(conn, adds, rows)
            adds = [add for add in adds if add[:4] not in stored]
        if adds:
            added = conn.executemany(_ADD_CURRENT, adds).rowcount  # summed over the rows
            if added != len(adds):  # rows in other buckets were left alone: find them
                left = _in_other_buckets(conn, adds, rows)
                if len(left) != len(adds) - added:
                    raise RuntimeError("board_current rows changed buckets under a batch")
                stored.update(left)
        moving.update((key, [rows[key]]) for key in stored)
        tops: dict[BucketKey, list[Candidates]] = {}
        _candidacies(tops, ranked, _SCORES_COLUMNS)
        if moving:
            _move(conn, moving, stored, tops, ranks)
        for bucket, candidates in tops.items():
            _update_top(conn, bucket, candidates)
        if promoted:
            conn.executemany(_RANK_SUPPORTERS, promoted)


def _creator_ranks(
    conn: sqlite3.Connection, rows: dict[RowKey, Run], earlier: dict[RowKey, list[Run]], rank_from: int
) -> tuple[dict[tuple[int, int], int], list[tuple[int, int]]]:
    """Whether each (guild, creator) of the batch is ranked once it is written, and those this
    batch takes to RANK_FROM gifts (every gift of a batch adds to its creator's row)."""
    received: dict[tuple[int, int], int] = {}
    for key, run in rows.items():
        if key[1] == "creators":
            received[(key[0], key[3])] = run[3] + sum(before[3] for before in earlier.get(key, ()))
    by_guild: dict[int, list[int]] = {}
    for guild_id, creator_id in received:
        by_guild.setdefault(guild_id, []).append(creator_id)
    stored: dict[tuple[int, int], tuple[int, int]] = {}
    for guild_id, creators in by_guild.items():
        for chunk in _chunks(creators):
            for index, ranked, gifts in conn.execute(_CREATOR_RANKS, (json.dumps(chunk), guild_id)):
                stored[(guild_id, chunk[index])] = (ranked, gifts)
    ranks: dict[tuple[int, int], int] = {}
    promoted: list[tuple[int, int]] = []
    for creator, gained in received.items():
        ranked, gifts = stored.get(creator, (0, 0))
        if not ranked and gifts + gained >= rank_from:
            promoted.append(creator)
            ranked = 1
        ranks[creator] = ranked
    return ranks, promoted


def _ranked(key: RowKey, ranks: dict[tuple[int, int], int]) -> int:
    """A row's `ranked`: its creator's, for a creators or supporters row (the creator has a row
    in the same batch); a gifters row never is."""
    guild_id, board, scope, user_id = key
    if board == "supporters":
        return ranks[(guild_id, scope)]
    return ranks[(guild_id, user_id)] if board == "creators" else 0


# Where a row's (score, last entry id) of the day, week, month, year and all time are: a topped
# board's new scores (guild, board, scope, user, the five scores, last entry id), a whole row.
_SCORES_COLUMNS = ((4, 9), (5, 9), (6, 9), (7, 9), (8, 9))
_ROW_COLUMNS = ((5, 8), (10, 13), (15, 18), (20, 23), (24, 27))


def _candidacies(
    tops: dict[BucketKey, list[Candidates]],
    ranked: dict[tuple[int, str, int, int, int, int, int], list[Row]],
    columns: tuple[tuple[int, int], ...],
) -> None:
    """File topped boards' rows, by their buckets, as candidates for those buckets' tops."""
    for (guild_id, board, scope, *starts), members in ranked.items():
        for period, start, (score, last) in zip(PERIOD_NAMES, (*starts, ALL_START), columns, strict=True):
            tops.setdefault((guild_id, board, scope, period, start), []).append((members, score, last))


def _move(
    conn: sqlite3.Connection,
    moving: dict[RowKey, list[Run]],
    stored: dict[RowKey, tuple[Any, ...]],
    tops: dict[BucketKey, list[Candidates]],
    ranks: dict[tuple[int, int], int],
) -> None:
    """Rows changing buckets, with their runs: the buckets they leave or miss go to board_closed
    (a topped board's may climb their tops), the rows are written whole."""
    stored.update(_load_current(conn, [key for key in moving if key not in stored]))
    closed: dict[tuple[int, str, int, str, int, int], list[int]] = {}
    late: list[tuple[int, str, int, str, int, int]] = []  # closed buckets of topped boards
    saves = [
        [*_applied(key, stored.get(key), runs, closed, late), _ranked(key, ranks)]
        for key, runs in moving.items()
    ]
    conn.executemany(_SAVE_CURRENT, saves)
    ranked: dict[tuple[int, str, int, int, int, int, int], list[Row]] = {}
    for row in saves:
        if row[1] in TOPPED:
            ranked.setdefault((row[0], row[1], row[2], row[4], row[9], row[14], row[19]), []).append(row)
    _candidacies(tops, ranked, _ROW_COLUMNS)
    if closed:
        conn.executemany(_ADD_CLOSED, [(*key, *values) for key, values in closed.items()])
        # A closed bucket gained: it may climb that bucket's top.
        keys = list(dict.fromkeys(late))
        for chunk in _chunks(keys):
            for index, score, last in conn.execute(_CLOSED_SCORES, (json.dumps(chunk),)):
                guild_id, board, scope, period, start, user_id = chunk[index]
                tops.setdefault((guild_id, board, scope, period, start), []).append(
                    ([(guild_id, board, scope, user_id, score, last)], 4, 5)
                )


def _in_other_buckets(
    conn: sqlite3.Connection, adds: list[tuple[Any, ...]], rows: dict[RowKey, Run]
) -> dict[RowKey, tuple[Any, ...]]:
    """The stored rows, among those of these additions' keys on boards not topped, in other
    buckets than the runs' (a topped board's were read already)."""
    runs = {add[:4]: rows[add[:4]] for add in adds if add[1] not in TOPPED}
    return _load_current(conn, runs, runs)


_Key = TypeVar("_Key")


def _chunks(keys: list[_Key]) -> Iterator[list[_Key]]:
    """The keys, `_LOAD_CHUNK` at a time: one load statement each."""
    for first in range(0, len(keys), _LOAD_CHUNK):
        yield keys[first : first + _LOAD_CHUNK]


def _load_scores(conn: sqlite3.Connection, keys: list[RowKey]) -> dict[RowKey, tuple[Any, ...]]:
    """Stored rows' bucket starts and scores: the place in the load's list, then day start, day
    score, week start, week score, month start and score, year start and score, all-time score."""
    groups: dict[tuple[int, str, int], list[RowKey]] = {}  # (guild, board, scope) -> keys
    for key in keys:
        groups.setdefault(key[:3], []).append(key)
    stored: dict[RowKey, tuple[Any, ...]] = {}
    for (guild_id, board, scope), group in groups.items():
        for chunk in _chunks(group):
            members = json.dumps([key[3] for key in chunk])
            for row in conn.execute(_LOAD_SCORES, (members, guild_id, board, scope)):
                stored[chunk[row[0]]] = row
    return stored


def _load_current(
    conn: sqlite3.Connection, keys: Iterable[RowKey], runs: dict[RowKey, Run] | None = None
) -> dict[RowKey, tuple[Any, ...]]:
    """Stored rows (given their runs: only those in other buckets than their run's), each as the
    place in its load's list, then the 24 columns after the key."""
    # (guild, board, scope or None for (scope, member) pairs, buckets or None for any) -> keys
    groups: dict[tuple[int, str, int | None, tuple[int, int, int, int] | None], list[RowKey]] = {}
    for key in keys:
        by = (key[0], key[1], None if key[2] else 0, None if runs is None else runs[key][0])
        groups.setdefault(by, []).append(key)
    stored: dict[RowKey, tuple[Any, ...]] = {}
    for (guild_id, board, scope, at), group in groups.items():
        other = _ANY_BUCKETS if at is None else at
        for chunk in _chunks(group):
            if scope is None:
                pairs = json.dumps([key[2:] for key in chunk])
                found = conn.execute(_LOAD_PAIRS, (pairs, guild_id, board, *other))
            else:
                members = json.dumps([key[3] for key in chunk])
                found = conn.execute(_LOAD_MEMBERS, (members, guild_id, board, scope, *other))
            for row in found:
                stored[chunk[row[0]]] = row
    return stored


def _applied(
    key: RowKey,
    found: tuple[Any, ...] | None,
    runs: list[Run],
    closed: dict[tuple[int, str, int, str, int, int], list[int]],
    late: list[tuple[int, str, int, str, int, int]],
) -> list[Any]:
    """A row after runs that change buckets: what they leave or miss goes to `closed`."""
    row = [*key, *found[1:]] if found is not None else _empty_row(key)
    for at, score, diamonds, gifts, last in runs:
        _apply(row, at, score, diamonds, gifts, last, closed, late)
    return row


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


def _rank_order(save: tuple[Any, ...]) -> tuple[int, int]:
    """A board_top row's place: higher score first, then whoever got there first."""
    return (-save[6], save[7])


def _update_top(conn: sqlite3.Connection, bucket: BucketKey, candidates: list[Candidates]) -> None:
    """Keep `board_top` the exact top of `bucket` after these members' scores grew.

    Every member of the old top still scores at least its last place, so anyone still below
    that place has a full top ahead of them: only candidates who pass it can enter."""
    guild_id, board, scope, period, start = bucket
    floor = conn.execute(_TOP_FLOOR, (*bucket, TOP_SIZE - 1)).fetchone()
    if floor is None:
        saves = [
            (guild_id, board, scope, period, start, row[3], row[score], row[last])
            for rows, score, last in candidates
            for row in rows
        ]
    else:
        low_score, low_last = floor
        saves = [
            (guild_id, board, scope, period, start, row[3], row[score], row[last])
            for rows, score, last in candidates
            for row in rows
            if row[score] > low_score or (row[score] == low_score and row[last] < low_last)
        ]
        if not saves:
            return
    if len(saves) > TOP_SIZE:  # only the best TOP_SIZE of them can be in the new top
        saves = heapq.nsmallest(TOP_SIZE, saves, key=_rank_order)
    conn.executemany(_SAVE_TOP, saves)
    floor = conn.execute(_TOP_FLOOR, (*bucket, TOP_SIZE - 1)).fetchone()
    if floor is not None:
        conn.execute(_TRIM_TOP, (*bucket, floor[0], floor[0], floor[1]))


_DELETE_GUILD = (
    "DELETE FROM board_current WHERE guild_id = ?",
    "DELETE FROM board_closed WHERE guild_id = ?",
    "DELETE FROM board_top WHERE guild_id = ?",
)


def rebuild_guild(conn: sqlite3.Connection, guild_id: int, timezone: str, *, rank: bool = True) -> int:
    """Recompute a guild's rollups from its gifts (after a timezone change): a set-based recount
    (storage/board_rebuild.py), not the gift-by-gift path. Returns the gifts counted. `rank`
    False leaves every row unranked, for the 0006 backfill (schema 6 has no `ranked` yet)."""
    from .board_rebuild import rank_guild, recount_guild  # they build on this module's buckets

    for delete in _DELETE_GUILD:
        conn.execute(delete, (guild_id,))
    gifts = recount_guild(conn, guild_id, timezone)
    if rank:
        rank_guild(conn, guild_id)
    return gifts


def guild_timezone(conn: sqlite3.Connection, guild_id: int) -> str:
    row = conn.execute(
        "SELECT value FROM guild_settings WHERE guild_id = ? AND key = 'timezone'", (guild_id,)
    ).fetchone()
    return str(row[0]) if row else "UTC"


def rebuild_all(conn: sqlite3.Connection, *, rank: bool = True) -> int:
    guilds = [row[0] for row in conn.execute("SELECT DISTINCT guild_id FROM gift_events").fetchall()]
    return sum(
        rebuild_guild(conn, guild_id, guild_timezone(conn, guild_id), rank=rank) for guild_id in guilds
    )

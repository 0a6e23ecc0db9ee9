"""Budgets, spend counters and budget reminders, inside the gift's own transaction."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from bot.economy.budget import DEFAULT_THRESHOLDS, Budget, BudgetState, Mode, parse_thresholds
from bot.economy.clock import from_millis, to_millis
from bot.economy.periods import Period

from . import rollups

COUNTED = (Period.DAY, Period.WEEK, Period.MONTH)
_COUNTED = tuple((period, period.value) for period in COUNTED)  # (an Enum's .value is slow per gift)


@dataclass(frozen=True, slots=True)
class MemberPrefs:
    timezone: str | None = None
    weekly_digest: bool = False
    low_balance_below: int | None = None
    age_confirmed_at: int | None = None


def prefs(conn: sqlite3.Connection, guild_id: int, user_id: int) -> MemberPrefs:
    row = conn.execute(
        "SELECT timezone, weekly_digest, low_balance_below, age_confirmed_at FROM member_prefs "
        "WHERE guild_id = ? AND user_id = ?",
        (guild_id, user_id),
    ).fetchone()
    if row is None:
        return MemberPrefs()
    return MemberPrefs(row[0], bool(row[1]), row[2], row[3])


def update_prefs(
    conn: sqlite3.Connection, *, guild_id: int, user_id: int, at_ms: int, **changes: object
) -> MemberPrefs:
    """Change some of a member's preferences (keys of MemberPrefs); returns them all."""
    allowed = {"timezone", "weekly_digest", "low_balance_below", "age_confirmed_at"}
    if not changes.keys() <= allowed:
        raise ValueError(f"unknown preferences: {sorted(changes.keys() - allowed)}")
    current = prefs(conn, guild_id, user_id)
    values = {name: getattr(current, name) for name in allowed}
    values.update(changes)
    conn.execute(
        "INSERT INTO member_prefs (guild_id, user_id, timezone, weekly_digest, low_balance_below, "
        "age_confirmed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET timezone = excluded.timezone, "
        "weekly_digest = excluded.weekly_digest, low_balance_below = excluded.low_balance_below, "
        "age_confirmed_at = excluded.age_confirmed_at, updated_at = excluded.updated_at",
        (
            guild_id,
            user_id,
            values["timezone"],
            int(bool(values["weekly_digest"])),
            values["low_balance_below"],
            values["age_confirmed_at"],
            at_ms,
        ),
    )
    return prefs(conn, guild_id, user_id)


def member_timezone(conn: sqlite3.Connection, guild_id: int, user_id: int) -> str:
    """The member's own timezone, else the guild's."""
    own = prefs(conn, guild_id, user_id).timezone
    return own or rollups.guild_timezone(conn, guild_id)


# -- budgets --------------------------------------------------------------------------------


def _budget(limit: int | None, period: str | None, mode: str | None) -> Budget | None:
    if limit is None or period is None or mode is None:
        return None
    return Budget(int(limit), Period(period), Mode(mode))


@dataclass(frozen=True, slots=True)
class StoredBudget:
    state: BudgetState
    thresholds: tuple[int, ...]
    own: bool
    """False when the member set nothing and the guild default applies."""


def load_budget(
    conn: sqlite3.Connection, guild_id: int, user_id: int, default: Budget | None
) -> StoredBudget:
    row = conn.execute(
        "SELECT limit_coins, period, mode, pending_limit, pending_period, pending_mode, pending_clear, "
        "pending_from, thresholds FROM budgets WHERE guild_id = ? AND user_id = ?",
        (guild_id, user_id),
    ).fetchone()
    return _stored_budget(row, default)


def spending_rules(
    conn: sqlite3.Connection, guild_id: int, user_id: int, default: Budget | None
) -> tuple[MemberPrefs, StoredBudget]:
    """A member's preferences and budget in one lookup: every gift reads both."""
    row = conn.execute(
        "SELECT p.user_id, p.timezone, p.weekly_digest, p.low_balance_below, p.age_confirmed_at, "
        "b.user_id, b.limit_coins, b.period, b.mode, b.pending_limit, b.pending_period, b.pending_mode, "
        "b.pending_clear, b.pending_from, b.thresholds "
        "FROM (SELECT ? AS guild_id, ? AS user_id) m "
        "LEFT JOIN member_prefs p ON p.guild_id = m.guild_id AND p.user_id = m.user_id "
        "LEFT JOIN budgets b ON b.guild_id = m.guild_id AND b.user_id = m.user_id",
        (guild_id, user_id),
    ).fetchone()
    return rules_from_row(row, default)


def rules_from_row(row: tuple[Any, ...], default: Budget | None) -> tuple[MemberPrefs, StoredBudget]:
    """`spending_rules` from its row (prefs columns, then budget columns; see its query), so a
    batch can read many members' rules at once (storage/gift_prefetch.py)."""
    prefs = MemberPrefs() if row[0] is None else MemberPrefs(row[1], bool(row[2]), row[3], row[4])
    return prefs, _stored_budget(None if row[5] is None else row[6:], default)


def _stored_budget(row: tuple[Any, ...] | None, default: Budget | None) -> StoredBudget:
    if row is None:
        return StoredBudget(BudgetState(current=default), DEFAULT_THRESHOLDS, own=False)
    state = BudgetState(
        current=_budget(row[0], row[1], row[2]),
        pending=_budget(row[3], row[4], row[5]),
        pending_clear=bool(row[6]),
        pending_from=from_millis(row[7]) if row[7] is not None else None,
    )
    return StoredBudget(state, parse_thresholds(row[8]), own=True)


def save_budget(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    user_id: int,
    state: BudgetState,
    thresholds: tuple[int, ...],
    at_ms: int,
) -> None:
    current, pending = state.current, state.pending
    conn.execute(
        "INSERT INTO budgets (guild_id, user_id, limit_coins, period, mode, pending_limit, pending_period, "
        "pending_mode, pending_clear, pending_from, thresholds, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET limit_coins = excluded.limit_coins, "
        "period = excluded.period, mode = excluded.mode, pending_limit = excluded.pending_limit, "
        "pending_period = excluded.pending_period, pending_mode = excluded.pending_mode, "
        "pending_clear = excluded.pending_clear, pending_from = excluded.pending_from, "
        "thresholds = excluded.thresholds, updated_at = excluded.updated_at",
        (
            guild_id,
            user_id,
            current.limit if current else None,
            current.period.value if current else None,
            current.mode.value if current else None,
            pending.limit if pending else None,
            pending.period.value if pending else None,
            pending.mode.value if pending else None,
            int(state.pending_clear),
            to_millis(state.pending_from) if state.pending_from else None,
            ",".join(str(t) for t in thresholds),
            at_ms,
        ),
    )


# -- counters -------------------------------------------------------------------------------
# What a member spent in a bucket is their gifters score for it (storage/rollups.py: coins sent,
# bucketed in the guild's timezone). Only a member who keeps their own timezone needs buckets of
# their own: spend_counters holds those members' spending, and nobody else's.

_SPENT_OWN = (
    "SELECT spent FROM spend_counters WHERE guild_id = ? AND user_id = ? AND period = ? AND period_start = ?"
)
_SPENT_SCORE = (
    "SELECT score FROM leaderboard_totals WHERE guild_id = ? AND board = 'gifters' AND creator_id = 0 "
    "AND period = ? AND period_start = ? AND user_id = ?"
)
_DAYS_OWN = (
    "SELECT period_start, spent FROM spend_counters WHERE guild_id = ? AND user_id = ? "
    "AND period = 'day' AND period_start >= ? AND period_start < ? ORDER BY period_start"
)
# The member's days of the view leaderboard_totals, read from its tables. The closed ones are
# listed by board_closed_by_member and fetched by primary key: through the view, the planner
# took the primary key's date range instead, reading every member's days (1.8 ms for a month
# on the 1,000,000-gift server, 68 ms for a year, growing with the server; now 0.015 and 0.15).
_DAYS_SCORE = (
    "SELECT day_start, day_score FROM board_current WHERE guild_id = ?1 AND board = 'gifters' "
    "AND creator_id = 0 AND user_id = ?2 AND day_start >= ?3 AND day_start < ?4 "
    "UNION ALL SELECT c.period_start, c.score FROM board_closed c WHERE c.guild_id = ?1 "
    "AND c.board = 'gifters' AND c.creator_id = 0 AND c.period = 'day' AND c.user_id = ?2 "
    "AND c.period_start IN (SELECT m.period_start FROM board_closed m WHERE m.guild_id = ?1 "
    "AND m.user_id = ?2 AND m.board = 'gifters' AND m.creator_id = 0 AND m.period = 'day' "
    "AND m.period_start >= ?3 AND m.period_start < ?4) "
    "ORDER BY 1"
)


# A member's sent gifts, in order: the gift events of the entries whose legs leave the member's
# coin accounts (schema 8 keeps no index of gifts by sender: every gift debits its sender's
# wallets, and transfers_by_debit lists those legs). Other debits have no gift event.
_SENT_GIFTS = (
    "SELECT coins, created_at FROM gift_events WHERE entry_id IN ("
    "SELECT t.entry_id FROM accounts a JOIN transfers t ON t.debit_account_id = a.id "
    "WHERE a.guild_id = ? AND a.owner_id = ? AND a.currency = 'coin') ORDER BY entry_id"
)


def spent(
    conn: sqlite3.Connection, guild_id: int, user_id: int, period: Period, bucket: int, *, own_timezone: bool
) -> int:
    """Coins the member spent in one bucket (of their own timezone when they keep one)."""
    if own_timezone:
        row = conn.execute(_SPENT_OWN, (guild_id, user_id, period.value, bucket)).fetchone()
    else:
        row = conn.execute(_SPENT_SCORE, (guild_id, period.value, bucket, user_id)).fetchone()
    return int(row[0]) if row else 0


def daily_spent(
    conn: sqlite3.Connection, guild_id: int, user_id: int, start_ms: int, end_ms: int
) -> list[tuple[int, int]]:
    """(day start, coins) of each day in [start, end) with spending, in the member's timezone."""
    own = prefs(conn, guild_id, user_id).timezone is not None
    query = _DAYS_OWN if own else _DAYS_SCORE
    return [(int(r[0]), int(r[1])) for r in conn.execute(query, (guild_id, user_id, start_ms, end_ms))]


_COUNT = (
    "INSERT INTO spend_counters (guild_id, user_id, period, period_start, spent) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id, user_id, period, period_start) DO UPDATE SET "
    "spent = spend_counters.spent + excluded.spent"
)

# (guild, member, period, period start)
CounterKey = tuple[int, int, str, int]


class Spending:
    """Spend-counter additions of many gifts, merged by counter, written with one executemany."""

    __slots__ = ("counters",)

    def __init__(self) -> None:
        self.counters: dict[CounterKey, int] = {}

    def add(self, *, guild_id: int, user_id: int, coins: int, at_ms: int, timezone: str) -> None:
        self.add_at(guild_id, user_id, coins, rollups.buckets(at_ms, timezone))

    def add_at(self, guild_id: int, user_id: int, coins: int, starts: dict[Period, int]) -> None:
        """One gift, its buckets already worked out (see rollups.buckets)."""
        counters = self.counters
        for period, name in _COUNTED:
            key = (guild_id, user_id, name, starts[period])
            counters[key] = counters.get(key, 0) + coins

    def pending(self, key: CounterKey) -> int:
        return self.counters.get(key, 0)

    def write(self, conn: sqlite3.Connection) -> None:
        if self.counters:
            conn.executemany(_COUNT, [(*key, spent) for key, spent in self.counters.items()])
            self.counters = {}


def count_spend(
    conn: sqlite3.Connection, *, guild_id: int, user_id: int, coins: int, at_ms: int, timezone: str
) -> None:
    spending = Spending()
    spending.add(guild_id=guild_id, user_id=user_id, coins=coins, at_ms=at_ms, timezone=timezone)
    spending.write(conn)


def rebuild_counters(conn: sqlite3.Connection, guild_id: int, user_id: int | None = None) -> None:
    """Recompute the spend counters of members who keep their own timezone from the ledger's
    gifts (one member, or a whole guild); anyone else's spending is their gifters score."""
    if user_id is None:
        conn.execute("DELETE FROM spend_counters WHERE guild_id = ?", (guild_id,))
        # Everyone who keeps their own timezone; one who never gifted gets no counter below.
        senders = [
            r[0]
            for r in conn.execute(
                "SELECT user_id FROM member_prefs WHERE guild_id = ? AND timezone IS NOT NULL "
                "ORDER BY user_id",
                (guild_id,),
            )
        ]
    else:
        conn.execute("DELETE FROM spend_counters WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
        senders = [user_id] if prefs(conn, guild_id, user_id).timezone is not None else []
    spending = Spending()
    for sender in senders:
        timezone = member_timezone(conn, guild_id, sender)
        for coins, at_ms in conn.execute(
            _SENT_GIFTS,
            (guild_id, sender),
        ).fetchall():
            spending.add(guild_id=guild_id, user_id=sender, coins=coins, at_ms=at_ms, timezone=timezone)
        if len(spending.counters) > 100_000:
            spending.write(conn)
    spending.write(conn)


def rebuild_all_counters(conn: sqlite3.Connection) -> None:
    for (guild_id,) in conn.execute("SELECT DISTINCT guild_id FROM gift_events").fetchall():
        rebuild_counters(conn, guild_id)


def counter_mismatches(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    """Counters that disagree with a recomputation from the ledger (empty when all agree)."""
    query = "SELECT guild_id, user_id, period, period_start, spent FROM spend_counters"
    stored = {row[:4]: row[4] for row in conn.execute(query).fetchall()}
    conn.execute("SAVEPOINT recount")
    try:
        rebuild_all_counters(conn)
        fresh = {row[:4]: row[4] for row in conn.execute(query).fetchall()}
    finally:
        conn.execute("ROLLBACK TO recount")
        conn.execute("RELEASE recount")
    return [
        (k, stored.get(k), fresh.get(k))
        for k in sorted(stored.keys() | fresh.keys())
        if stored.get(k) != fresh.get(k)
    ]


# -- reminders ------------------------------------------------------------------------------


def owe_reminder(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    user_id: int,
    kind: str,
    dedupe_key: str,
    payload: dict[str, object],
    at_ms: int,
) -> bool:
    """Record a DM owed to a member, once per dedupe key. True if this call recorded it."""
    return bool(
        conn.execute(
            "INSERT INTO outbox (guild_id, kind, dedupe_key, user_id, payload, created_at, due_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
            (guild_id, kind, dedupe_key, user_id, json.dumps(payload, sort_keys=True), at_ms, at_ms),
        ).rowcount
    )


# -- digests --------------------------------------------------------------------------------


def digest_members(conn: sqlite3.Connection) -> list[tuple[int, int, str]]:
    """(guild, member, timezone) of every member who asked for the weekly digest."""
    rows = conn.execute(
        "SELECT guild_id, user_id FROM member_prefs WHERE weekly_digest = 1 ORDER BY guild_id, user_id"
    ).fetchall()
    return [(guild_id, user_id, member_timezone(conn, guild_id, user_id)) for guild_id, user_id in rows]


# The member's sent gifts as in _SENT_GIFTS, summed by creator.
_GIFTED_BY_CREATOR = (
    "SELECT g.creator_id, n.name, SUM(g.coins) AS total FROM gift_events g "
    "LEFT JOIN member_names n ON n.guild_id = g.guild_id AND n.user_id = g.creator_id "
    "WHERE g.entry_id IN (SELECT t.entry_id FROM accounts a JOIN transfers t ON t.debit_account_id = a.id "
    "WHERE a.guild_id = ? AND a.owner_id = ? AND a.currency = 'coin') "
    "AND g.created_at >= ? AND g.created_at < ? "
    "GROUP BY g.creator_id ORDER BY total DESC, g.creator_id"
)


def gifted_by_creator(
    conn: sqlite3.Connection, guild_id: int, user_id: int, start_ms: int, end_ms: int
) -> list[tuple[int, str | None, int]]:
    """(creator, name, coins) the member gifted in [start, end), most coins first."""
    rows = conn.execute(_GIFTED_BY_CREATOR, (guild_id, user_id, start_ms, end_ms)).fetchall()
    return [(int(creator), name, int(total)) for creator, name, total in rows]

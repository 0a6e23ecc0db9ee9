"""`giftbot check`: audit a database without changing it, even while the bot is running.

The audit opens its own read-only connection and reads everything inside one read transaction,
so every check sees the same committed moment while the bot keeps writing (WAL). Derived tables
(rollups, spend counters) are recomputed into TEMP tables that shadow the real ones, so the
same rebuild code the migrations use runs without a single write to the database file.

The ledger checks are written over `accounts`, `entries` and `transfers` only, whatever the
account codes or entry kinds, so new kinds of money movement are covered without a change here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import budget_ops, rollups
from .migrate import current_version, latest_version

SHOWN_PER_CHECK = 10  # problems listed per check; the rest are counted


class AuditRefused(Exception):
    """The file cannot be audited at all (missing, not a giftbot database, newer schema)."""


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    description: str
    problems: tuple[str, ...] = ()
    total: int = 0
    """How many problems there were; `problems` lists the first SHOWN_PER_CHECK."""
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.total == 0


@dataclass(frozen=True, slots=True)
class AuditReport:
    path: str
    schema: int
    latest: int
    counts: dict[str, int] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


def open_read_only(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot write to the database file (TEMP tables still work)."""
    location = Path(path)
    if not location.is_file():
        raise AuditRefused(f"there is no database at {location}")
    conn = sqlite3.connect(f"{location.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def audit_file(path: str | Path) -> AuditReport:
    conn = open_read_only(path)
    try:
        return audit(conn, path=str(path))
    finally:
        conn.close()


def audit(conn: sqlite3.Connection, *, path: str = "") -> AuditReport:
    """Every check, in one read transaction of `conn` (which it leaves as it found it)."""
    try:
        schema = current_version(conn)
    except sqlite3.DatabaseError as exc:
        raise AuditRefused(f"{path or 'the file'} is not an SQLite database ({exc})") from exc
    if schema == 0 or not _has_table(conn, "entries"):
        raise AuditRefused(f"{path or 'the file'} is not a giftbot database (schema version {schema})")
    if schema > latest_version():
        raise AuditRefused(
            f"{path or 'the database'} is at schema {schema}, newer than this giftbot ({latest_version()}); "
            "check it with the giftbot that wrote it"
        )
    conn.execute("BEGIN")
    try:
        counts = {
            "accounts": _count(conn, "SELECT COUNT(*) FROM accounts"),
            "entries": _count(conn, "SELECT COUNT(*) FROM entries"),
            "transfers": _count(conn, "SELECT COUNT(*) FROM transfers"),
            "gifts": _count(conn, "SELECT COUNT(*) FROM gift_events"),
        }
        checks = tuple(_run(conn, name, description, probe) for name, description, probe in CHECKS)
    finally:
        if conn.in_transaction:  # some errors (a full disk, a damaged page) end it early
            conn.execute("ROLLBACK")
        _drop_shadows(conn)
    return AuditReport(path=path, schema=schema, latest=latest_version(), counts=counts, checks=checks)


def _run(conn: sqlite3.Connection, name: str, description: str, probe: Probe) -> Check:
    try:
        found = probe(conn)
    except _Skip as skip:
        return Check(name, description, skipped=str(skip))
    except Exception as exc:  # a damaged file or value: report it, and keep auditing the rest
        return Check(name, description, (f"could not run: {type(exc).__name__}: {exc}",), 1)
    return Check(name, description, tuple(found[:SHOWN_PER_CHECK]), len(found))


class _Skip(Exception):
    pass


Probe = Callable[[sqlite3.Connection], list[str]]


def _count(conn: sqlite3.Connection, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return bool(
        conn.execute("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    )


def _account(guild_id: int, owner_id: int, code: str, account_id: int) -> str:
    owner = "system" if owner_id == 0 else f"member {owner_id}"
    return f"account {account_id} (guild {guild_id}, {owner}, {code})"


# -- the checks ------------------------------------------------------------------------------


def integrity(conn: sqlite3.Connection) -> list[str]:
    rows = [str(row[0]) for row in conn.execute("PRAGMA integrity_check").fetchall()]
    return [] if rows == ["ok"] else rows


def foreign_keys(conn: sqlite3.Connection) -> list[str]:
    return [
        f"{table} row {rowid} points at a missing {parent} row"
        for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchall()
    ]


def currencies_sum_to_zero(conn: sqlite3.Connection) -> list[str]:
    """Double entry: within each guild, each currency's balances add up to zero."""
    return [
        f"guild {guild_id}: {currency} balances add up to {total:,}, not 0"
        for guild_id, currency, total in conn.execute(
            "SELECT guild_id, currency, SUM(balance) FROM accounts GROUP BY guild_id, currency "
            "HAVING SUM(balance) <> 0 ORDER BY guild_id, currency"
        ).fetchall()
    ]


def balances_match_transfers(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT id, guild_id, owner_id, code, balance, derived FROM ("
        "SELECT a.id, a.guild_id, a.owner_id, a.code, a.balance, "
        "COALESCE((SELECT SUM(amount) FROM transfers WHERE credit_account_id = a.id), 0) - "
        "COALESCE((SELECT SUM(amount) FROM transfers WHERE debit_account_id = a.id), 0) AS derived "
        "FROM accounts a) WHERE balance IS NOT derived ORDER BY id"
    ).fetchall()
    return [
        f"{_account(guild, owner, code, account_id)}: balance {balance:,}, transfers say {derived:,}"
        for account_id, guild, owner, code, balance, derived in rows
    ]


def no_negative_members(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT id, guild_id, owner_id, code, balance FROM accounts "
        "WHERE balance < 0 AND (non_negative = 1 OR owner_id <> 0) ORDER BY id"
    ).fetchall()
    return [
        f"{_account(guild, owner, code, account_id)} is negative: {balance:,}"
        for account_id, guild, owner, code, balance in rows
    ]


def whole_numbers(conn: sqlite3.Connection) -> list[str]:
    """Coins and diamonds are integers, in balances and in transfers."""
    found = [
        f"account {account_id} holds a non-integer balance ({balance!r})"
        for account_id, balance in conn.execute(
            "SELECT id, balance FROM accounts WHERE typeof(balance) <> 'integer' ORDER BY id"
        ).fetchall()
    ]
    found += [
        f"transfer {transfer_id} moves a non-integer amount ({amount!r})"
        for transfer_id, amount in conn.execute(
            "SELECT id, amount FROM transfers WHERE typeof(amount) <> 'integer' ORDER BY id"
        ).fetchall()
    ]
    return found


def entries_have_transfers(conn: sqlite3.Connection) -> list[str]:
    return [
        f"entry {entry_id} ({kind}, key {key}) has no transfers"
        for entry_id, kind, key in conn.execute(
            "SELECT e.id, e.kind, e.idempotency_key FROM entries e "
            "WHERE NOT EXISTS (SELECT 1 FROM transfers t WHERE t.entry_id = e.id) ORDER BY e.id"
        ).fetchall()
    ]


def transfers_are_consistent(conn: sqlite3.Connection) -> list[str]:
    """Each leg moves a positive amount between two accounts of its currency, in its entry's guild."""
    rows = conn.execute(
        "SELECT t.id, t.entry_id FROM transfers t "
        "JOIN entries e ON e.id = t.entry_id "
        "JOIN accounts d ON d.id = t.debit_account_id "
        "JOIN accounts c ON c.id = t.credit_account_id "
        "WHERE t.amount <= 0 OR t.debit_account_id = t.credit_account_id "
        "OR d.currency <> t.currency OR c.currency <> t.currency "
        "OR t.guild_id <> e.guild_id OR d.guild_id <> e.guild_id OR c.guild_id <> e.guild_id "
        "ORDER BY t.id"
    ).fetchall()
    return [
        f"transfer {transfer_id} of entry {entry_id} mixes currencies or guilds, or moves nothing"
        for transfer_id, entry_id in rows
    ]


def idempotency_keys(conn: sqlite3.Connection) -> list[str]:
    """One entry per key, one transfer per key, and each transfer's key names its entry."""
    found = [
        f"entry key {key} is used {times} times"
        for key, times in conn.execute(
            "SELECT idempotency_key, COUNT(*) FROM entries GROUP BY idempotency_key HAVING COUNT(*) > 1"
        ).fetchall()
    ]
    found += [
        f"transfer key {key} is used {times} times"
        for key, times in conn.execute(
            "SELECT idempotency_key, COUNT(*) FROM transfers GROUP BY idempotency_key HAVING COUNT(*) > 1"
        ).fetchall()
    ]
    found += [
        f"transfer {transfer_id} has key {key}, not one under its entry's key {entry_key}"
        for transfer_id, key, entry_key in conn.execute(
            "SELECT t.id, t.idempotency_key, e.idempotency_key FROM transfers t "
            "JOIN entries e ON e.id = t.entry_id "
            "WHERE substr(t.idempotency_key, 1, length(e.idempotency_key) + 1) <> e.idempotency_key || '#' "
            "ORDER BY t.id"
        ).fetchall()
    ]
    return found


def gifts_match_their_entries(conn: sqlite3.Connection) -> list[str]:
    """Each gift entry has its gift row; the sender paid its coins and the creator got its diamonds."""
    found = [
        f"gift entry {entry_id} (key {key}) has no gift details"
        for entry_id, key in conn.execute(
            "SELECT e.id, e.idempotency_key FROM entries e WHERE e.kind = 'gift' AND NOT EXISTS "
            "(SELECT 1 FROM gift_events g WHERE g.entry_id = e.id AND g.guild_id = e.guild_id) "
            "ORDER BY e.id"
        ).fetchall()
    ]
    found += [
        f"gift details {entry_id} belong to no gift entry"
        for (entry_id,) in conn.execute(
            "SELECT g.entry_id FROM gift_events g WHERE NOT EXISTS "
            "(SELECT 1 FROM entries e WHERE e.id = g.entry_id AND e.kind = 'gift') ORDER BY g.entry_id"
        ).fetchall()
    ]
    found += [
        f"gift {entry_id}: {coins:,} coins, but the sender paid {paid:,} and the creator got "
        f"{earned:,} diamonds (expected {diamonds:,})"
        for entry_id, coins, diamonds, paid, earned in conn.execute(
            "SELECT entry_id, coins, diamonds, paid, earned FROM ("
            "SELECT g.entry_id, g.coins, g.diamonds, "
            "(SELECT COALESCE(SUM(t.amount), 0) FROM transfers t "
            "JOIN accounts a ON a.id = t.debit_account_id WHERE t.entry_id = g.entry_id "
            "AND t.currency = 'coin' AND a.owner_id = g.sender_id) AS paid, "
            "(SELECT COALESCE(SUM(t.amount), 0) FROM transfers t "
            "JOIN accounts a ON a.id = t.credit_account_id WHERE t.entry_id = g.entry_id "
            "AND t.currency = 'diamond' AND a.owner_id = g.creator_id) AS earned "
            "FROM gift_events g) WHERE paid <> coins OR earned <> diamonds ORDER BY entry_id"
        ).fetchall()
    ]
    return found


def paid_tags_match_their_legs(conn: sqlite3.Connection) -> list[str]:
    """What a gift records as paid for is what its legs moved from and to the paid accounts, so
    cash-outs (paid diamonds only) rest on the ledger, not on a tag."""
    if not _has_table(conn, "diamond_holds"):
        raise _Skip("coins are tagged paid or promo from schema 4 on; run `giftbot migrate`")
    return [
        f"gift {entry_id}: tagged {paid_coins:,} paid coins and {paid_diamonds:,} paid diamonds, "
        f"but its legs moved {moved_coins:,} and {moved_diamonds:,}"
        for entry_id, paid_coins, paid_diamonds, moved_coins, moved_diamonds in conn.execute(
            "SELECT entry_id, paid_coins, paid_diamonds, moved_coins, moved_diamonds FROM ("
            "SELECT g.entry_id, g.paid_coins, g.paid_diamonds, "
            "(SELECT COALESCE(SUM(t.amount), 0) FROM transfers t "
            "JOIN accounts a ON a.id = t.debit_account_id WHERE t.entry_id = g.entry_id "
            "AND a.code = 'coins_paid') AS moved_coins, "
            "(SELECT COALESCE(SUM(t.amount), 0) FROM transfers t "
            "JOIN accounts a ON a.id = t.credit_account_id WHERE t.entry_id = g.entry_id "
            "AND a.code = 'diamonds_paid') AS moved_diamonds "
            "FROM gift_events g) WHERE moved_coins <> paid_coins OR moved_diamonds <> paid_diamonds "
            "ORDER BY entry_id"
        ).fetchall()
    ]


# Shadows of the derived tables: unqualified names resolve to TEMP first, so the rebuild code
# writes here. The columns must match the real tables; `_shadow` checks that they do.
_SHADOWS = {
    "board_current": (
        "CREATE TEMP TABLE board_current (guild_id INTEGER NOT NULL, board TEXT NOT NULL, "
        "creator_id INTEGER NOT NULL DEFAULT 0, user_id INTEGER NOT NULL, "
        "day_start INTEGER NOT NULL, day_score INTEGER NOT NULL, day_diamonds INTEGER NOT NULL, "
        "day_gifts INTEGER NOT NULL, day_last INTEGER NOT NULL, "
        "week_start INTEGER NOT NULL, week_score INTEGER NOT NULL, week_diamonds INTEGER NOT NULL, "
        "week_gifts INTEGER NOT NULL, week_last INTEGER NOT NULL, "
        "month_start INTEGER NOT NULL, month_score INTEGER NOT NULL, month_diamonds INTEGER NOT NULL, "
        "month_gifts INTEGER NOT NULL, month_last INTEGER NOT NULL, "
        "year_start INTEGER NOT NULL, year_score INTEGER NOT NULL, year_diamonds INTEGER NOT NULL, "
        "year_gifts INTEGER NOT NULL, year_last INTEGER NOT NULL, "
        "all_score INTEGER NOT NULL, all_diamonds INTEGER NOT NULL, all_gifts INTEGER NOT NULL, "
        "all_last INTEGER NOT NULL, ranked INTEGER NOT NULL DEFAULT 0, "
        "PRIMARY KEY (guild_id, board, creator_id, user_id)) WITHOUT ROWID"
    ),
    "board_closed": (
        "CREATE TEMP TABLE board_closed (guild_id INTEGER NOT NULL, board TEXT NOT NULL, "
        "creator_id INTEGER NOT NULL DEFAULT 0, period TEXT NOT NULL, period_start INTEGER NOT NULL, "
        "user_id INTEGER NOT NULL, score INTEGER NOT NULL, diamonds INTEGER NOT NULL, "
        "gifts INTEGER NOT NULL, last_entry_id INTEGER NOT NULL, "
        "PRIMARY KEY (guild_id, board, creator_id, period, period_start, user_id)) WITHOUT ROWID"
    ),
    "board_top": (
        "CREATE TEMP TABLE board_top (guild_id INTEGER NOT NULL, board TEXT NOT NULL, "
        "creator_id INTEGER NOT NULL DEFAULT 0, period TEXT NOT NULL, period_start INTEGER NOT NULL, "
        "user_id INTEGER NOT NULL, score INTEGER NOT NULL, last_entry_id INTEGER NOT NULL, "
        "PRIMARY KEY (guild_id, board, creator_id, period, period_start, user_id)) WITHOUT ROWID"
    ),
    "spend_counters": (
        "CREATE TEMP TABLE spend_counters (guild_id INTEGER NOT NULL, user_id INTEGER NOT NULL, "
        "period TEXT NOT NULL, period_start INTEGER NOT NULL, spent INTEGER NOT NULL, "
        "PRIMARY KEY (guild_id, user_id, period, period_start))"
    ),
}
_DROP_SHADOW = {
    "board_current": "DROP TABLE IF EXISTS temp.board_current",
    "board_closed": "DROP TABLE IF EXISTS temp.board_closed",
    "board_top": "DROP TABLE IF EXISTS temp.board_top",
    "spend_counters": "DROP TABLE IF EXISTS temp.spend_counters",
}
# (table, key columns): the board tables compared row by row, keys first
_BOARD_ROWS = {
    ("board_current", 4): {
        "main": "SELECT * FROM main.board_current",
        "temp": "SELECT * FROM temp.board_current",
    },
    ("board_closed", 6): {
        "main": "SELECT * FROM main.board_closed",
        "temp": "SELECT * FROM temp.board_closed",
    },
    ("board_top", 6): {
        "main": "SELECT * FROM main.board_top",
        "temp": "SELECT * FROM temp.board_top",
    },
}
_COUNTER_ROWS = {
    "main": "SELECT guild_id, user_id, period, period_start, spent FROM main.spend_counters",
    "temp": "SELECT guild_id, user_id, period, period_start, spent FROM temp.spend_counters",
}


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM pragma_table_info(?, ?) ORDER BY cid", (table, schema)
        ).fetchall()
    ]


def _shadow(conn: sqlite3.Connection, table: str) -> None:
    if not _has_table(conn, table):
        raise _Skip(f"no {table} table before schema migration; run `giftbot migrate`")
    conn.execute(_DROP_SHADOW[table])
    conn.execute(_SHADOWS[table])
    if _columns(conn, "main", table) != _columns(conn, "temp", table):
        raise sqlite3.DatabaseError(f"the audit's copy of {table} no longer matches the schema")


def _drop_shadows(conn: sqlite3.Connection) -> None:
    for drop in _DROP_SHADOW.values():
        conn.execute(drop)


def _differences(
    stored: dict[tuple[object, ...], tuple[object, ...]], fresh: dict[tuple[object, ...], tuple[object, ...]]
) -> list[tuple[tuple[object, ...], tuple[object, ...] | None, tuple[object, ...] | None]]:
    keys = sorted(stored.keys() | fresh.keys(), key=repr)
    return [(key, stored.get(key), fresh.get(key)) for key in keys if stored.get(key) != fresh.get(key)]


def rollups_match_gifts(conn: sqlite3.Connection) -> list[str]:
    """Leaderboard rollups equal a recomputation from every gift."""
    for table, _ in _BOARD_ROWS:
        _shadow(conn, table)
    rollups.rebuild_all(conn)
    problems = []
    for (table, keys), query in _BOARD_ROWS.items():
        stored = {row[:keys]: row[keys:] for row in conn.execute(query["main"]).fetchall()}
        fresh = {row[:keys]: row[keys:] for row in conn.execute(query["temp"]).fetchall()}
        problems += [
            f"leaderboard {table} {key}: stored {have}, recomputed {want}"
            for key, have, want in _differences(stored, fresh)
        ]
    return problems


def _spent(row: tuple[object, ...] | None) -> str:
    return "nothing" if row is None else f"{row[0]:,}"


def counters_match_gifts(conn: sqlite3.Connection) -> list[str]:
    """Spend counters (budgets) equal a recomputation from every gift."""
    _shadow(conn, "spend_counters")
    budget_ops.rebuild_all_counters(conn)
    stored = {row[:4]: row[4:] for row in conn.execute(_COUNTER_ROWS["main"]).fetchall()}
    fresh = {row[:4]: row[4:] for row in conn.execute(_COUNTER_ROWS["temp"]).fetchall()}
    return [
        f"spend counter {key}: stored {_spent(have)}, recomputed {_spent(want)}"
        for key, have, want in _differences(stored, fresh)
    ]


CHECKS: tuple[tuple[str, str, Probe], ...] = (
    ("integrity", "SQLite's integrity check of every page and index", integrity),
    ("foreign keys", "every reference points at an existing row", foreign_keys),
    ("ledger balance", "each currency sums to zero in every server", currencies_sum_to_zero),
    ("account sums", "each balance equals its transfers, credits minus debits", balances_match_transfers),
    ("no negative wallets", "no member account is below zero", no_negative_members),
    ("whole numbers", "balances and amounts are integers", whole_numbers),
    ("entries have legs", "every ledger entry has at least one transfer", entries_have_transfers),
    ("legs consistent", "each transfer stays in one currency and one server", transfers_are_consistent),
    (
        "idempotency",
        "entry and transfer keys are unique; transfer keys extend their entry's",
        idempotency_keys,
    ),
    (
        "gifts",
        "each gift entry has its details, and moved exactly its coins and diamonds",
        gifts_match_their_entries,
    ),
    (
        "paid tags",
        "each gift's paid coins and diamonds are what its legs moved from and to paid accounts",
        paid_tags_match_their_legs,
    ),
    ("rollups", "leaderboard totals equal a recomputation from the gifts", rollups_match_gifts),
    ("spend counters", "budget counters equal a recomputation from the gifts", counters_match_gifts),
)

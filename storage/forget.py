"""Forgetting a member on request: one transaction that leaves no trace of their id in one guild.

The ledger cannot lose rows (every sum must still hold), so the member's id is replaced by a
tombstone, a negative id recorded in `forgotten_members` with no link to the old one. Accounts,
ledger actors, gifts, rollups, spend counters, holds, purchases and cash-outs move to the
tombstone; what only described the member (names, preferences, budgets, being a creator,
purchase intents, announcement schedules, messages owed to them) is dropped. Rollups and
counters keep agreeing with a recomputation from the ledger, and the boards show the tombstone
as FORGOTTEN_NAME.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.economy.clock import to_millis

from . import budget_ops

if TYPE_CHECKING:
    from .store import Storage

FORGOTTEN_NAME = "Forgotten member"

# (table, column): rows of the guild whose column holds the member's id get the tombstone.
# Static strings only: no SQL is built from names at run time.
# The member's sent gifts are found through their accounts (below), so they go first.
_REWRITES: tuple[tuple[str, str], ...] = (
    ("gift_events", "sender_id"),
    ("accounts", "owner_id"),
    ("entries", "actor_id"),
    ("gift_events", "creator_id"),
    ("leaderboard_totals", "user_id"),
    ("leaderboard_totals", "creator_id"),
    ("diamond_holds", "creator_id"),
    ("purchases", "user_id"),
    ("cashouts", "creator_id"),
    ("cashouts", "decided_by"),
    ("promotions", "created_by"),
    ("promotions", "cancelled_by"),
    ("creators", "added_by"),
    ("guild_setting_changes", "actor_id"),
)
_COUNT = {
    ("accounts", "owner_id"): "SELECT COUNT(*) FROM accounts WHERE guild_id = ? AND owner_id = ?",
    ("entries", "actor_id"): "SELECT COUNT(*) FROM entries WHERE guild_id = ? AND actor_id = ?",
    # Schema 8 keeps no index of gifts by sender: a member's sent gifts are the gift events of
    # the entries whose legs leave their coin accounts (storage/budget_ops.py: _SENT_GIFTS).
    ("gift_events", "sender_id"): (
        "SELECT COUNT(*) FROM gift_events WHERE entry_id IN ("
        "SELECT t.entry_id FROM accounts a JOIN transfers t ON t.debit_account_id = a.id "
        "WHERE a.guild_id = ? AND a.owner_id = ? AND a.currency = 'coin')"
    ),
    ("gift_events", "creator_id"): "SELECT COUNT(*) FROM gift_events WHERE guild_id = ? AND creator_id = ?",
    ("leaderboard_totals", "user_id"): (
        "SELECT COUNT(*) FROM leaderboard_totals WHERE guild_id = ? AND user_id = ?"
    ),
    ("leaderboard_totals", "creator_id"): (
        "SELECT COUNT(*) FROM leaderboard_totals WHERE guild_id = ? AND creator_id = ?"
    ),
    ("diamond_holds", "creator_id"): (
        "SELECT COUNT(*) FROM diamond_holds WHERE guild_id = ? AND creator_id = ?"
    ),
    ("purchases", "user_id"): "SELECT COUNT(*) FROM purchases WHERE guild_id = ? AND user_id = ?",
    ("cashouts", "creator_id"): "SELECT COUNT(*) FROM cashouts WHERE guild_id = ? AND creator_id = ?",
    ("cashouts", "decided_by"): "SELECT COUNT(*) FROM cashouts WHERE guild_id = ? AND decided_by = ?",
    ("promotions", "created_by"): "SELECT COUNT(*) FROM promotions WHERE guild_id = ? AND created_by = ?",
    ("promotions", "cancelled_by"): (
        "SELECT COUNT(*) FROM promotions WHERE guild_id = ? AND cancelled_by = ?"
    ),
    ("creators", "added_by"): (  # their own creators row is dropped, not rewritten
        "SELECT COUNT(*) FROM creators WHERE guild_id = ? AND added_by = ? AND user_id <> added_by"
    ),
    ("guild_setting_changes", "actor_id"): (
        "SELECT COUNT(*) FROM guild_setting_changes WHERE guild_id = ? AND actor_id = ?"
    ),
}
_REWRITE = {
    ("accounts", "owner_id"): "UPDATE accounts SET owner_id = ? WHERE guild_id = ? AND owner_id = ?",
    ("entries", "actor_id"): "UPDATE entries SET actor_id = ? WHERE guild_id = ? AND actor_id = ?",
    ("gift_events", "sender_id"): (
        "UPDATE gift_events SET sender_id = ? WHERE entry_id IN ("
        "SELECT t.entry_id FROM accounts a JOIN transfers t ON t.debit_account_id = a.id "
        "WHERE a.guild_id = ? AND a.owner_id = ? AND a.currency = 'coin')"
    ),
    ("gift_events", "creator_id"): (
        "UPDATE gift_events SET creator_id = ? WHERE guild_id = ? AND creator_id = ?"
    ),
    ("diamond_holds", "creator_id"): (
        "UPDATE diamond_holds SET creator_id = ? WHERE guild_id = ? AND creator_id = ?"
    ),
    ("purchases", "user_id"): "UPDATE purchases SET user_id = ? WHERE guild_id = ? AND user_id = ?",
    ("cashouts", "creator_id"): "UPDATE cashouts SET creator_id = ? WHERE guild_id = ? AND creator_id = ?",
    ("cashouts", "decided_by"): "UPDATE cashouts SET decided_by = ? WHERE guild_id = ? AND decided_by = ?",
    ("promotions", "created_by"): (
        "UPDATE promotions SET created_by = ? WHERE guild_id = ? AND created_by = ?"
    ),
    ("promotions", "cancelled_by"): (
        "UPDATE promotions SET cancelled_by = ? WHERE guild_id = ? AND cancelled_by = ?"
    ),
    ("creators", "added_by"): "UPDATE creators SET added_by = ? WHERE guild_id = ? AND added_by = ?",
    ("guild_setting_changes", "actor_id"): (
        "UPDATE guild_setting_changes SET actor_id = ? WHERE guild_id = ? AND actor_id = ?"
    ),
}
# The boards are three tables behind the view `leaderboard_totals` (migration 0006): the
# member's rows are counted in the view, one per bucket, and rewritten in every table.
_BOARD_REWRITES: dict[tuple[str, str], tuple[str, ...]] = {
    ("leaderboard_totals", "user_id"): (
        "UPDATE board_current SET user_id = ? WHERE guild_id = ? AND user_id = ?",
        "UPDATE board_closed SET user_id = ? WHERE guild_id = ? AND user_id = ?",
        "UPDATE board_top SET user_id = ? WHERE guild_id = ? AND user_id = ?",
    ),
    ("leaderboard_totals", "creator_id"): (
        "UPDATE board_current SET creator_id = ? WHERE guild_id = ? AND creator_id = ?",
        "UPDATE board_closed SET creator_id = ? WHERE guild_id = ? AND creator_id = ?",
        "UPDATE board_top SET creator_id = ? WHERE guild_id = ? AND creator_id = ?",
    ),
}
# Rows that only describe the member: dropped.
_DROPS: dict[str, tuple[str, str]] = {
    "member_names": (
        "SELECT COUNT(*) FROM member_names WHERE guild_id = ? AND user_id = ?",
        "DELETE FROM member_names WHERE guild_id = ? AND user_id = ?",
    ),
    "member_prefs": (
        "SELECT COUNT(*) FROM member_prefs WHERE guild_id = ? AND user_id = ?",
        "DELETE FROM member_prefs WHERE guild_id = ? AND user_id = ?",
    ),
    "budgets": (
        "SELECT COUNT(*) FROM budgets WHERE guild_id = ? AND user_id = ?",
        "DELETE FROM budgets WHERE guild_id = ? AND user_id = ?",
    ),
    "creators": (
        "SELECT COUNT(*) FROM creators WHERE guild_id = ? AND user_id = ?",
        "DELETE FROM creators WHERE guild_id = ? AND user_id = ?",
    ),
    "purchase_intents": (
        "SELECT COUNT(*) FROM purchase_intents WHERE guild_id = ? AND user_id = ?",
        "DELETE FROM purchase_intents WHERE guild_id = ? AND user_id = ?",
    ),
    "announcement_schedules": (
        "SELECT COUNT(*) FROM announcement_schedules WHERE guild_id = ? AND creator_id = ?",
        "DELETE FROM announcement_schedules WHERE guild_id = ? AND creator_id = ?",
    ),
    # Messages to the member (reminders, digests) and their own announcements: nobody to send to.
    "outbox": (
        "SELECT COUNT(*) FROM outbox WHERE guild_id = ? AND user_id = ?",
        "DELETE FROM outbox WHERE guild_id = ? AND user_id = ?",
    ),
}
_SPEND_COUNTERS = "SELECT COUNT(*) FROM spend_counters WHERE guild_id = ? AND user_id = ?"


class CannotForget(ValueError):
    """The id can't name a member (the system owner 0, or a tombstone already)."""


@dataclass(frozen=True, slots=True)
class Forgotten:
    guild_id: int
    tombstone: int | None
    """None when nothing was stored about the member in that guild (then nothing changed)."""
    changed: dict[str, int] = field(default_factory=dict)
    """"table.column" rewritten to the tombstone, or "table" dropped -> rows, non-zero only."""

    @property
    def rows(self) -> int:
        return sum(self.changed.values())


def _check_ids(guild_id: int, user_id: int) -> None:
    if user_id <= 0:
        raise CannotForget(f"{user_id} is not a member's id (members have positive ids)")
    if guild_id <= 0:
        raise CannotForget(f"{guild_id} is not a server's id")


def preview(conn: sqlite3.Connection, *, guild_id: int, user_id: int) -> dict[str, int]:
    """What `forget_member` would change, without changing anything (same keys as `changed`)."""
    _check_ids(guild_id, user_id)
    found: dict[str, int] = {}
    params = (guild_id, user_id)
    for table, column in _REWRITES:
        found[f"{table}.{column}"] = int(conn.execute(_COUNT[(table, column)], params).fetchone()[0])
    found["spend_counters.user_id"] = int(conn.execute(_SPEND_COUNTERS, params).fetchone()[0])
    for table, (count, _) in _DROPS.items():
        found[table] = int(conn.execute(count, params).fetchone()[0])
    found["outbox.payload"] = len(_payloads_naming(conn, guild_id, user_id))
    return {name: rows for name, rows in found.items() if rows}


def forget_member(conn: sqlite3.Connection, *, guild_id: int, user_id: int, at_ms: int) -> Forgotten:
    """Replace the member's id with a new tombstone in everything the guild stored. Runs inside
    the caller's transaction (Storage: one group-commit savepoint), so it happens whole or not
    at all; a reader sees the member either everywhere or nowhere."""
    planned = preview(conn, guild_id=guild_id, user_id=user_id)
    if not planned:
        return Forgotten(guild_id, None)
    tombstone = _next_tombstone(conn)
    conn.execute(
        "INSERT INTO forgotten_members (tombstone, guild_id, forgotten_at) VALUES (?, ?, ?)",
        (tombstone, guild_id, at_ms),
    )
    changed: dict[str, int] = {}
    params = (tombstone, guild_id, user_id)
    # Names first: the creators row (dropped) must go before `added_by` is rewritten, or a
    # member who added themselves as a creator would keep a row under the tombstone.
    for table, (_, drop) in _DROPS.items():
        changed[table] = conn.execute(drop, (guild_id, user_id)).rowcount
    for table, column in _REWRITES:
        changed[f"{table}.{column}"] = _rewrite(conn, table, column, params)
    changed["outbox.payload"] = _rewrite_payloads(conn, guild_id, user_id, tombstone)
    # Counters were bucketed in the member's own timezone, which is gone with their preferences:
    # rebuild the tombstone's from its gifts, in the guild's timezone, as a recomputation would.
    changed["spend_counters.user_id"] = conn.execute(
        "DELETE FROM spend_counters WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    ).rowcount
    budget_ops.rebuild_counters(conn, guild_id, tombstone)
    conn.execute(
        "INSERT INTO member_names (guild_id, user_id, name, updated_at) VALUES (?, ?, ?, ?)",
        (guild_id, tombstone, FORGOTTEN_NAME, at_ms),
    )
    return Forgotten(guild_id, tombstone, {name: rows for name, rows in changed.items() if rows})


def _rewrite(conn: sqlite3.Connection, table: str, column: str, params: tuple[int, int, int]) -> int:
    """Give the tombstone the member's rows of one column; returns how many rows that was."""
    boards = _BOARD_REWRITES.get((table, column))
    if boards is None:
        return int(conn.execute(_REWRITE[(table, column)], params).rowcount)
    _, guild_id, user_id = params
    (rows,) = conn.execute(_COUNT[(table, column)], (guild_id, user_id)).fetchone()
    for statement in boards:
        conn.execute(statement, params)
    return int(rows)


def is_tombstone(user_id: int) -> bool:
    return user_id < 0


def _next_tombstone(conn: sqlite3.Connection) -> int:
    """-1, -2, -3 …: unique across guilds, and saying nothing about whom it replaced."""
    (lowest,) = conn.execute("SELECT COALESCE(MIN(tombstone), 0) FROM forgotten_members").fetchone()
    return int(lowest) - 1


def _payloads_naming(conn: sqlite3.Connection, guild_id: int, user_id: int) -> list[tuple[int, Any]]:
    """Outbox rows (audit posts, for instance) whose payload names the member under an id key."""
    found = []
    for row_id, payload in conn.execute(
        "SELECT id, payload FROM outbox WHERE guild_id = ? AND (user_id IS NULL OR user_id <> ?)",
        (guild_id, user_id),
    ).fetchall():
        data = json.loads(payload)
        if _replace_ids(data, user_id, 0, naming=False)[1]:
            found.append((int(row_id), data))
    return found


def _rewrite_payloads(conn: sqlite3.Connection, guild_id: int, user_id: int, tombstone: int) -> int:
    rows = 0
    for row_id, data in _payloads_naming(conn, guild_id, user_id):
        replaced, _ = _replace_ids(data, user_id, tombstone, naming=False)
        conn.execute(
            "UPDATE outbox SET payload = ? WHERE id = ?", (json.dumps(replaced, sort_keys=True), row_id)
        )
        rows += 1
    return rows


# Payload keys that hold people's ids (entry, channel and message ids never name a person).
_PERSON_KEYS = frozenset(
    {
        *("actor", "actor_id", "subject", "subject_id", "user", "user_id", "user_ids", "member"),
        *("member_id", "creator", "creator_id", "sender", "sender_id", "buyer_id", "moderator_id"),
        *("gifters", "gifter_ids", "mentions"),
    }
)


def _names_people(key: str) -> bool:
    return key in _PERSON_KEYS or key.endswith("_by")


def _replace_ids(value: Any, user_id: int, tombstone: int, *, naming: bool) -> tuple[Any, int]:
    """`value` with the member's id replaced wherever a key says it holds people's ids
    (`_PERSON_KEYS`, or "…_by"), and how many were replaced. Amounts and counts,
    under other keys, are never touched even when they happen to equal the id."""
    if isinstance(value, dict):
        pairs = {
            key: _replace_ids(item, user_id, tombstone, naming=_names_people(key))
            for key, item in value.items()
        }
        # A member's id may also be a key ({"<creator id>": diamonds} in a refund's details).
        renamed = {str(tombstone) if key == str(user_id) else key: item for key, (item, _) in pairs.items()}
        hits = sum(hits for _, hits in pairs.values()) + (str(user_id) in value)
        return renamed, hits
    if isinstance(value, list):
        items = [_replace_ids(item, user_id, tombstone, naming=naming) for item in value]
        return [item for item, _ in items], sum(hits for _, hits in items)
    if not naming or isinstance(value, bool):
        return value, 0
    if isinstance(value, int) and value == user_id:
        return tombstone, 1
    if isinstance(value, str) and value == str(user_id):
        return str(tombstone), 1
    return value, 0


async def forget(store: Storage, *, guild_id: int, user_id: int, at: datetime) -> Forgotten:
    """`forget_member` through the store's writer (one transaction, like every other write)."""
    return await store.db.write(
        partial(forget_member, guild_id=guild_id, user_id=user_id, at_ms=to_millis(at))
    )


async def planned(store: Storage, *, guild_id: int, user_id: int) -> dict[str, int]:
    return await store.db.read(partial(preview, guild_id=guild_id, user_id=user_id))

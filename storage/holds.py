"""Diamond holds: paid diamonds inside the refund window, which a refund takes back first.

One row per creator and maturity day keeps the gift path to one upsert; maturity rounds up to
the next UTC midnight, so a hold never ends early.
"""

from __future__ import annotations

import sqlite3

DAY_MS = 86_400_000


def maturity(at_ms: int, hold_days: int) -> int:
    """When diamonds earned at `at_ms` become cashable: `hold_days` later, at the next UTC midnight."""
    end = at_ms + hold_days * DAY_MS
    return -(-end // DAY_MS) * DAY_MS


def hold(
    conn: sqlite3.Connection, *, guild_id: int, creator_id: int, amount: int, matures_at_ms: int
) -> None:
    conn.execute(
        "INSERT INTO diamond_holds (guild_id, creator_id, matures_at, amount) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (guild_id, creator_id, matures_at) "
        "DO UPDATE SET amount = diamond_holds.amount + excluded.amount",
        (guild_id, creator_id, matures_at_ms, amount),
    )


def held(conn: sqlite3.Connection, *, guild_id: int, creator_id: int, at_ms: int) -> int:
    """Paid diamonds still inside the refund window at `at_ms`."""
    row = conn.execute(
        "SELECT COALESCE(SUM(amount), 0) FROM diamond_holds "
        "WHERE guild_id = ? AND creator_id = ? AND matures_at > ?",
        (guild_id, creator_id, at_ms),
    ).fetchone()
    return int(row[0])


def release(conn: sqlite3.Connection, *, guild_id: int, creator_id: int, amount: int, at_ms: int) -> int:
    """Take up to `amount` off the creator's unmatured holds, newest first. Returns how much."""
    left = amount
    rows = conn.execute(
        "SELECT matures_at, amount FROM diamond_holds "
        "WHERE guild_id = ? AND creator_id = ? AND matures_at > ? AND amount > 0 ORDER BY matures_at DESC",
        (guild_id, creator_id, at_ms),
    ).fetchall()
    for matures_at, held_amount in rows:
        if left <= 0:
            break
        take = min(left, int(held_amount))
        conn.execute(
            "UPDATE diamond_holds SET amount = amount - ? "
            "WHERE guild_id = ? AND creator_id = ? AND matures_at = ?",
            (take, guild_id, creator_id, matures_at),
        )
        left -= take
    return amount - left


def prune(conn: sqlite3.Connection, *, at_ms: int) -> int:
    """Forget matured holds: they no longer restrict anything."""
    return conn.execute("DELETE FROM diamond_holds WHERE matures_at <= ?", (at_ms,)).rowcount

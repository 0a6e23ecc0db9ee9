"""The ledger as the audit trail reads it: pages of entries with their transfers, and the rows
of the CSV exports, streamed from the cursor (newest first).

Every query is a static string; "touching a member" means a transfer debits or credits one of
the member's accounts in the guild.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from bot.economy.clock import from_millis
from bot.economy.exports import CsvBuilder
from bot.economy.ledger_entries import LedgerEntry, LedgerLeg
from bot.economy.models import Currency, Page

# A server's entries are counted only so far past the page: counting them all took 28 ms on a
# server with a million gifts, on the thread every write waits for (docs/benchmarks.md).
COUNT_AHEAD = 1_000
_COUNT_GUILD = "SELECT COUNT(*) FROM (SELECT 1 FROM entries WHERE guild_id = ? LIMIT ?) counted"
_PAGE_GUILD = "SELECT id FROM entries WHERE guild_id = ? ORDER BY id DESC LIMIT ? OFFSET ?"
_COUNT_MEMBER = (
    "SELECT COUNT(*) FROM ("
    "SELECT t.entry_id FROM transfers t JOIN accounts a ON a.id = t.debit_account_id "
    "WHERE a.guild_id = ? AND a.owner_id = ? "
    "UNION SELECT t.entry_id FROM transfers t JOIN accounts a ON a.id = t.credit_account_id "
    "WHERE a.guild_id = ? AND a.owner_id = ?) touching"
)
_PAGE_MEMBER = (
    "SELECT entry_id FROM ("
    "SELECT t.entry_id FROM transfers t JOIN accounts a ON a.id = t.debit_account_id "
    "WHERE a.guild_id = ? AND a.owner_id = ? "
    "UNION SELECT t.entry_id FROM transfers t JOIN accounts a ON a.id = t.credit_account_id "
    "WHERE a.guild_id = ? AND a.owner_id = ?) touching ORDER BY entry_id DESC LIMIT ? OFFSET ?"
)
_LEGS = (
    "SELECT t.id, t.currency, t.amount, d.owner_id, d.code, c.owner_id, c.code FROM transfers t "
    "JOIN accounts d ON d.id = t.debit_account_id JOIN accounts c ON c.id = t.credit_account_id "
    "WHERE t.entry_id = ? ORDER BY t.id"
)

# One row per entry touching the member: the net change to their coins, diamonds and pending
# diamonds (the export's sums are the member's balances).
_MEMBER_ROWS = (
    "WITH legs (entry_id, code, delta) AS ("
    "SELECT t.entry_id, a.code, -t.amount FROM transfers t JOIN accounts a ON a.id = t.debit_account_id "
    "WHERE a.guild_id = ? AND a.owner_id = ? "
    "UNION ALL SELECT t.entry_id, a.code, t.amount FROM transfers t "
    "JOIN accounts a ON a.id = t.credit_account_id WHERE a.guild_id = ? AND a.owner_id = ?) "
    "SELECT e.id, e.created_at, e.kind, e.actor_id, e.reason, "
    "SUM(CASE WHEN l.code IN ('coins_promo', 'coins_paid') THEN l.delta ELSE 0 END), "
    "SUM(CASE WHEN l.code IN ('diamonds_promo', 'diamonds_paid') THEN l.delta ELSE 0 END), "
    "SUM(CASE WHEN l.code = 'diamonds_pending' THEN l.delta ELSE 0 END) "
    "FROM legs l JOIN entries e ON e.id = l.entry_id GROUP BY e.id ORDER BY e.id DESC LIMIT ?"
)
# One row per transfer: a whole guild's ledger, read EXPORT_CHUNK entries a hop (export_chunk),
# newest first, so the writer's batches go on between hops (in one hop it held every write back
# for 0.7-0.8 s on the million-gift server); or the entries touching one member, in one hop.
# The ledger is append-only: no entry below the first hop's newest appears or moves later, and
# what commits meanwhile is newer and left out.
EXPORT_CHUNK = 1_000
_EXPORT_TOP = "SELECT COALESCE(MAX(id), 0) + 1 FROM entries WHERE guild_id = ?"
_CHUNK_FLOOR = "SELECT id FROM entries WHERE guild_id = ? AND id < ? ORDER BY id DESC LIMIT 1 OFFSET ?"
_GUILD_ROWS_BETWEEN = (
    "SELECT e.id, e.created_at, e.kind, e.actor_id, e.reason, t.id, t.currency, t.amount, "
    "d.owner_id, d.code, c.owner_id, c.code FROM entries e JOIN transfers t ON t.entry_id = e.id "
    "JOIN accounts d ON d.id = t.debit_account_id JOIN accounts c ON c.id = t.credit_account_id "
    "WHERE e.guild_id = ? AND e.id < ? AND e.id >= ? ORDER BY e.id DESC, t.id"
)
_GUILD_ROWS_FOR_MEMBER = (
    "SELECT e.id, e.created_at, e.kind, e.actor_id, e.reason, t.id, t.currency, t.amount, "
    "d.owner_id, d.code, c.owner_id, c.code FROM entries e JOIN transfers t ON t.entry_id = e.id "
    "JOIN accounts d ON d.id = t.debit_account_id JOIN accounts c ON c.id = t.credit_account_id "
    "WHERE e.guild_id = ? AND e.id IN ("
    "SELECT t.entry_id FROM transfers t JOIN accounts a ON a.id = t.debit_account_id "
    "WHERE a.guild_id = ? AND a.owner_id = ? "
    "UNION SELECT t.entry_id FROM transfers t JOIN accounts a ON a.id = t.credit_account_id "
    "WHERE a.guild_id = ? AND a.owner_id = ?) ORDER BY e.id DESC, t.id LIMIT ?"
)


def entry(conn: sqlite3.Connection, entry_id: int) -> LedgerEntry | None:
    row = conn.execute(
        "SELECT id, kind, actor_id, reason, created_at FROM entries WHERE id = ?", (entry_id,)
    ).fetchone()
    if row is None:
        return None
    legs = tuple(
        LedgerLeg(leg[0], Currency(leg[1]), leg[2], leg[3], leg[4], leg[5], leg[6])
        for leg in conn.execute(_LEGS, (entry_id,)).fetchall()
    )
    return LedgerEntry(row[0], row[1], row[2], row[3], from_millis(row[4]), legs)


def entries_page(
    conn: sqlite3.Connection, guild_id: int, member_id: int | None, offset: int, limit: int
) -> Page[LedgerEntry]:
    """The guild's entries (or those touching one member), newest first."""
    more = False
    if member_id is None:
        reach = offset + COUNT_AHEAD
        total = conn.execute(_COUNT_GUILD, (guild_id, reach + 1)).fetchone()[0]
        total, more = min(total, reach), total > reach
        ids = [r[0] for r in conn.execute(_PAGE_GUILD, (guild_id, limit, offset)).fetchall()]
    else:
        params = (guild_id, member_id, guild_id, member_id)
        total = conn.execute(_COUNT_MEMBER, params).fetchone()[0]
        ids = [r[0] for r in conn.execute(_PAGE_MEMBER, (*params, limit, offset)).fetchall()]
    items = [found for entry_id in ids if (found := entry(conn, entry_id)) is not None]
    return Page(items, int(total), offset, limit, more)


def member_rows(
    conn: sqlite3.Connection, guild_id: int, member_id: int, limit: int
) -> Iterator[tuple[Any, ...]]:
    """(entry id, created ms, kind, actor, reason, coins, diamonds, pending) per entry, newest first."""
    return conn.execute(_MEMBER_ROWS, (guild_id, member_id, guild_id, member_id, limit))


def export_chunk(
    conn: sqlite3.Connection, guild_id: int, below: int | None, builder: CsvBuilder
) -> int | None:
    """Add the transfers of the next EXPORT_CHUNK entries below `below` (None: from the newest
    entry there is now) to the export; returns where the next chunk starts, or None when the
    ledger or the export's room ran out."""
    if below is None:
        below = int(conn.execute(_EXPORT_TOP, (guild_id,)).fetchone()[0])
    found = conn.execute(_CHUNK_FLOOR, (guild_id, below, EXPORT_CHUNK - 1)).fetchone()
    floor = int(found[0]) if found is not None else 0
    room = builder.add(conn.execute(_GUILD_ROWS_BETWEEN, (guild_id, below, floor)))
    return floor if room and found is not None else None


def member_transfer_rows(
    conn: sqlite3.Connection, guild_id: int, member_id: int, limit: int
) -> Iterator[tuple[Any, ...]]:
    """(entry id, created ms, kind, actor, reason, transfer id, currency, amount, debit owner,
    debit code, credit owner, credit code) per transfer of the entries touching the member,
    newest entry first. (A whole guild's are read in chunks: export_chunk.)"""
    return conn.execute(_GUILD_ROWS_FOR_MEMBER, (guild_id, guild_id, member_id, guild_id, member_id, limit))

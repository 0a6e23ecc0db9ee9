"""Working out a batch of gifts while the batch before it is still being written.

Under load, group commit hands the writing of a batch of gifts to the writer process
(storage/writer_process.py) and meanwhile works out the next batch here, on the bot's own
connection. Python elsewhere in a process is on its database thread's path (the GIL), so this is
what lets the two cores work at once: the rules run here while SQLite writes there.

A plan reads a snapshot (a read transaction) that shows every batch committed so far but not
the one still being written, and takes that one's state from its `Carry`: its keys, its senders'
wallets after its gifts, its next entry id and its gifters scores and spend counters. Nothing is
written here: the connection is `query_only` for the plan, and a gift that would write at once
(an outbox reminder, a creator's first diamond account) makes the whole batch go the ordinary
way (None), as does a key the batch before is still writing (a replay must find its entry).

A plan is only a proposal. The writer process writes it in its own transaction, where the
accounts' CHECK (balance >= 0) and the unique keys still hold, and refuses a carried plan if any
other connection wrote since the batch before (`PRAGMA data_version`). A refused or failed
batch invalidates the plan made from it: group commit then runs both the ordinary way.
"""

from __future__ import annotations

import pickle
import sqlite3
from dataclasses import dataclass
from typing import Any

from .batch import Batch, Batching, Carry, joins, prefetch_run


@dataclass(slots=True)
class Plan:
    """A batch worked out: each operation's outcome, the rows to write, and its carry."""

    outcomes: list[tuple[bool, Any]]
    payload: bytes  # (rows to write, carried) pickled for the writer process: see writer_process
    carry: Carry
    carried: bool  # worked out from the batch before's carry (not from committed state alone)


class _CannotPlan(Exception):
    """This batch must run the ordinary way."""


def plans_ahead(operation: Any) -> bool:
    """Whether group commit may work this operation out ahead (a joining gift)."""
    return joins(operation) and isinstance(getattr(operation, "keywords", None), dict)


def plan_batch(conn: sqlite3.Connection, operations: list[Any], carry: Carry | None) -> Plan | None:
    """Work out `operations` (all `plans_ahead`) on a snapshot plus `carry`; None if they cannot
    be (they then run the ordinary way, once the batch before has committed)."""
    if carry is not None and any(op.keywords.get("key") in carry.keys for op in operations):
        return None  # a replay of a gift still being written: it must find that gift's entry
    conn.execute("PRAGMA query_only = 1")
    try:
        conn.execute("BEGIN")
        try:
            if carry is not None and _committed(conn, carry):
                carry = None  # the batch before committed already: this snapshot shows it
            batch = Batch(conn, carry)
            with Batching(batch):
                prefetch_run(conn, batch, operations, 0)
                outcomes = [_run(conn, batch, operation) for operation in operations]
            next_entry = batch.read_entry_ids()
            # Only this batch's senders: the next snapshot shows everyone else's wallet.
            senders = {(op.keywords["guild_id"], op.keywords["sender_id"]) for op in operations}
            wallets = {member: batch.wallets[member] for member in senders if member in batch.wallets}
            keys = frozenset(batch.keys)
            first_entry = batch.entries[0][0] if batch.entries else None
        finally:
            conn.execute("ROLLBACK")
    except _CannotPlan:
        return None
    finally:
        conn.execute("PRAGMA query_only = 0")
    totals, spending = batch.totals, batch.spending
    # Pickled here, on the database thread, not on the event loop between two batches.
    payload = pickle.dumps((batch.take_held(), carry is not None), pickle.HIGHEST_PROTOCOL)
    return Plan(
        outcomes, payload, Carry(keys, first_entry, wallets, next_entry, totals, spending), carry is not None
    )


def _committed(conn: sqlite3.Connection, carry: Carry) -> bool:
    """Whether the snapshot already shows the carry's batch (its transaction is all or nothing,
    so its first entry tells). The carry would then count its scores and counters twice."""
    if carry.first_entry is None:
        return False  # it writes no entry, and so nothing a carry adds to
    return conn.execute("SELECT 1 FROM entries WHERE id = ?", (carry.first_entry,)).fetchone() is not None


def _run(conn: sqlite3.Connection, batch: Batch, operation: Any) -> tuple[bool, Any]:
    batch.begin()
    try:
        result = operation(conn)
    except sqlite3.Error as exc:  # it tried to write (query_only), or the snapshot failed it
        batch.end(kept=False)
        raise _CannotPlan() from exc
    except Exception as exc:  # refused: it held nothing back, so it just drops its additions
        batch.end(kept=False)
        return (False, exc)
    batch.end(kept=True)
    return (True, result)

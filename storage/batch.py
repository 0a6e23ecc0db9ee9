"""What the operations of one group-commit transaction share.

Gifts committed together share the lookups no gift can change (a guild's timezone, its system
accounts, catalogue rows, creators, account ids, members' budgets, wallets, which idempotency
keys exist), read for the whole batch at once (storage/gift_prefetch.py), and hold back every
write: their entries (ids assigned here, as SQLite would), wallet debits, system and creator
balances, leaderboard rollups, spend counters, diamond holds and display names, transfers and
gift events. Those are written with one executemany each just before COMMIT, so a gift runs no
SQL of its own in the common case, and the batch commits exactly what the gifts one by one
would have. A wallet is checked against its balance as read in this transaction (the write lock
is held from BEGIN IMMEDIATE) less what earlier gifts of the batch took; the accounts table's
CHECK (balance >= 0) stays as the backstop.

Anything that is not a gift may read or change those rows, so group commit writes out what the
batch holds and forgets its lookups before such an operation runs, and forgets them again
after: it sees, and leaves, exactly the state one-by-one execution would. What a refused
operation added to the batch is dropped with it, like its savepoint.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from . import budget_ops, rollups

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_current: ContextVar[Batch | None] = ContextVar("giftbot_batch", default=None)

# A member's coins as the batch sees them: (promo account, promo coins, paid account, paid coins),
# an account None when the member has none; balances include what the batch holds back.
Wallet = tuple[int | None, int, int | None, int]
# Reads a run of joining operations' lookups at once, from their keyword arguments.
Prefetch = Callable[[sqlite3.Connection, "Batch", list[dict[str, Any]]], None]

_ENTRY = (
    "INSERT INTO entries (id, guild_id, idempotency_key, kind, actor_id, reason, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_TRANSFER = (
    "INSERT INTO transfers (entry_id, idempotency_key, guild_id, currency, debit_account_id, "
    "credit_account_id, amount, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_GIFT_EVENT = (
    "INSERT INTO gift_events (entry_id, guild_id, sender_id, creator_id, gift_id, gift_name, "
    "gift_emoji, unit_price, count, coins, diamonds, channel_id, created_at, paid_coins, paid_diamonds) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_MOVE = "UPDATE accounts SET balance = balance + ? WHERE id = ?"
_HOLD = (
    "INSERT INTO diamond_holds (guild_id, creator_id, matures_at, amount) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (guild_id, creator_id, matures_at) "
    "DO UPDATE SET amount = diamond_holds.amount + excluded.amount"
)
# A name is written when it changes (updated_at: when it last did), so an unchanged one costs a
# lookup, not a page written at every gift.
_NAME = (
    "INSERT INTO member_names (guild_id, user_id, name, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (guild_id, user_id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at "
    "WHERE member_names.name IS NOT excluded.name"
)


def current() -> Batch | None:
    """The batch of the group commit running on this thread, if any."""
    return _current.get()


def joins_batches(operation: F) -> F:
    """Mark an operation that reads and writes only through the batch's lookups and deferred
    writes (see module docstring): group commit runs it without writing the batch out first,
    and without a savepoint of its own (see storage/group_commit.py)."""
    operation.__giftbot_joins_batches__ = True  # type: ignore[attr-defined]
    return operation


def prefetched_by(prefetch: Prefetch) -> Callable[[F], F]:
    """Mark a joining operation whose lookups `prefetch` can read for many calls at once: group
    commit hands it the keyword arguments (functools.partial) of a run of such calls first."""

    def mark(operation: F) -> F:
        operation.__giftbot_prefetch__ = prefetch  # type: ignore[attr-defined]
        return operation

    return mark


def joins(operation: Callable[..., Any]) -> bool:
    target = getattr(operation, "func", operation)  # functools.partial keeps the function in .func
    return bool(getattr(target, "__giftbot_joins_batches__", False))


def prefetcher(operation: Callable[..., Any]) -> Prefetch | None:
    target = getattr(operation, "func", operation)
    found: Prefetch | None = getattr(target, "__giftbot_prefetch__", None)
    return found


class Held(NamedTuple):
    """Everything a batch holds back, as plain rows: what `write_held` writes, in this process or
    in the writer process (storage/writer_process.py), which receives it pickled."""

    entries: list[tuple[Any, ...]]
    transfers: list[tuple[Any, ...]]
    gift_events: list[tuple[Any, ...]]
    moves: list[tuple[int, int]]  # (amount, account)
    holds: list[tuple[int, int, int, int]]
    name_rows: list[tuple[int, int, str, int]]
    totals: rollups.Totals
    spending: budget_ops.Spending


def write_held(conn: sqlite3.Connection, held: Held) -> None:
    """Write out what a batch held back, entries first (transfers and gift events refer to them)."""
    for sql, rows in (
        (_ENTRY, held.entries),
        (_TRANSFER, held.transfers),
        (_GIFT_EVENT, held.gift_events),
        (_MOVE, held.moves),
        (_HOLD, held.holds),
        (_NAME, held.name_rows),
    ):
        if rows:
            conn.executemany(sql, rows)
    held.totals.write(conn)
    held.spending.write(conn)


@dataclass(frozen=True, slots=True)
class Carry:
    """What a batch planned ahead of its commit hands to the next one (storage/plan_ahead.py):
    the state its gifts left, which the next batch's snapshot does not show yet."""

    keys: frozenset[str]  # idempotency keys it writes
    first_entry: int | None  # the id of its first entry (None: it writes none)
    wallets: dict[tuple[int, int], Wallet]  # its senders' wallets after its gifts
    next_entry: int  # the id after its last entry
    totals: rollups.Totals  # its gifters scores (a budget's spending) …
    spending: budget_ops.Spending  # … and spend counters, not yet written


class Batch:
    def __init__(self, conn: sqlite3.Connection, carry: Carry | None = None) -> None:
        self.conn = conn
        # Planned ahead (storage/plan_ahead.py): the batch before this one, still being written.
        self.carry = carry
        # Lookups read once per batch: key -> value. The prefetch fills it; a gift reads it
        # directly and falls back on `lookup` for anything the prefetch did not cover.
        self.known: dict[Hashable, Any] = {}
        self.wallets: dict[tuple[int, int], Wallet] = {}
        self._op_lookups: dict[Hashable, Any] = {}
        self._op: list[tuple[Any, ...]] | None = None  # the running operation's gifts (add_gift)
        self._next_entry: int | None = None  # the next entry id, once read
        self._op_next_entry: int | None = None
        self.gifts = 0
        if carry is not None:  # the batch before's wallets and entry ids, ahead of the snapshot
            self.wallets.update(carry.wallets)
            self._next_entry = carry.next_entry
        self.entries: list[tuple[Any, ...]] = []
        self.keys: dict[str, int] = {}  # idempotency key -> id of the entries held back
        self.balances: dict[int, int] = {}
        self.transfers: list[tuple[Any, ...]] = []
        self.gift_events: dict[int, tuple[Any, ...]] = {}
        self.totals = rollups.Totals()
        self.spending = budget_ops.Spending()
        self.holds: dict[tuple[int, int, int], int] = {}
        # (guild, member) -> the name last seen in this batch; the upserts of every change, in order
        self.names: dict[tuple[int, int], str] = {}
        self.name_rows: list[tuple[int, int, str, int]] = []

    # -- the running operation -----------------------------------------------------------------

    def begin(self) -> None:
        self._op = []
        if self._op_lookups:
            self._op_lookups = {}
        self._op_next_entry = self._next_entry

    def end(self, *, kept: bool) -> None:
        """The running operation committed to its savepoint (kept) or rolled back to it."""
        gifts, self._op = self._op, None
        if kept and gifts is not None:
            self.known.update(self._op_lookups)
            for gift in gifts:
                self._apply_gift(gift)
        elif not kept:
            self._next_entry = self._op_next_entry  # its entry ids are free again, as in SQLite
        if self._op_lookups:
            self._op_lookups = {}

    def __enter__(self) -> Batch:
        """Used alone (not inside group commit): one operation, written out at its end."""
        self.begin()
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.end(kept=exc_type is None)
        if exc_type is None:
            self.write()

    # -- lookups -------------------------------------------------------------------------------

    def lookup(self, key: Hashable, load: Callable[..., T], *args: Any) -> T:
        """`load(*args)`'s value, read once per batch. A value the running operation loaded is
        kept only if the operation is (it may have created the row it names)."""
        if key in self.known:
            return self.known[key]
        if key in self._op_lookups:
            return self._op_lookups[key]
        value = load(*args)
        if self._op is None:
            self.known[key] = value
        else:
            self._op_lookups[key] = value
        return value

    def forget(self) -> None:
        """Drop every lookup (what they read may have changed): wallets, entry ids and all."""
        self.known.clear()
        self._op_lookups.clear()
        self.wallets.clear()
        self._next_entry = None

    def take_entry_id(self) -> int:
        """The id SQLite would give the next entry (one more than the largest), counting the
        entries held back. A refused operation gives its ids back (see `end`)."""
        entry_id = self._next_entry
        if entry_id is None:
            entry_id = self.read_entry_ids()
        self._next_entry = entry_id + 1
        return entry_id

    def read_entry_ids(self) -> int:
        """Read where entry ids continue: once per batch, and again after each `forget`."""
        if self._next_entry is None:
            (largest,) = self.conn.execute("SELECT MAX(id) FROM entries").fetchone()
            self._next_entry = max(largest or 0, self.entries[-1][0] if self.entries else 0) + 1
        return self._next_entry

    # -- deferred writes -----------------------------------------------------------------------

    def add_gift(
        self,
        entry: tuple[Any, ...],
        transfers: list[tuple[Any, ...]],
        moves: list[tuple[int, int]],
        event: tuple[Any, ...],
        starts: dict[Any, int],
        spend_starts: dict[Any, int] | None,
        hold: tuple[tuple[int, int, int], int] | None,
        wallet: Wallet,
        names: tuple[str, str],
    ) -> None:
        """One gift, everything it writes: its entry row (id, guild, key, …), transfer rows,
        balance moves (account, amount), event (the gift_events columns: entry, guild, sender,
        creator, …, coins, diamonds, channel, at, …), rollup and spend-counter buckets (see
        rollups.buckets), diamond hold, the sender's wallet after it, and both display names."""
        gift = (entry, transfers, moves, event, starts, spend_starts, hold, wallet, names)
        if self._op is None:
            self._apply_gift(gift)
        else:
            self._op.append(gift)

    def _apply_gift(self, gift: tuple[Any, ...]) -> None:
        """Take in one kept gift (the arguments of `add_gift`, as a tuple)."""
        entry, transfers, moves, event, starts, spend_starts, hold, wallet, names = gift
        entry_id, guild_id, sender_id, creator_id = event[:4]
        coins, diamonds, at_ms = event[9], event[10], event[12]
        self.entries.append(entry)
        self.keys[entry[2]] = entry_id
        self.transfers.extend(transfers)
        balances = self.balances
        for account_id, amount in moves:
            balances[account_id] = balances.get(account_id, 0) + amount
        self.gift_events[entry_id] = event
        self.gifts += 1
        self.totals.add(guild_id, sender_id, creator_id, coins, diamonds, entry_id, starts)
        if spend_starts is not None:  # a member with their own timezone: their own counters
            self.spending.add_at(guild_id, sender_id, coins, spend_starts)
        if hold is not None:
            key, amount = hold
            self.holds[key] = self.holds.get(key, 0) + amount
        self.wallets[(guild_id, sender_id)] = wallet
        seen = self.names
        for user_id, name in ((sender_id, names[0]), (creator_id, names[1])):
            if seen.get((guild_id, user_id)) != name:  # a repeat changes nothing (see _NAME)
                seen[(guild_id, user_id)] = name
                self.name_rows.append((guild_id, user_id, name, at_ms))

    def stored_name(self, guild_id: int, user_id: int, name: str) -> None:
        """A member's name as stored (read by the prefetch): a gift bearing the same name then
        writes nothing for it. A name this batch already holds is newer and stays."""
        self.names.setdefault((guild_id, user_id), name)

    def discard(self) -> None:
        """Drop everything held back (its operation was rolled back)."""
        self.entries, self.keys = [], {}
        self.balances, self.transfers, self.gift_events = {}, [], {}
        self.totals, self.spending = rollups.Totals(), budget_ops.Spending()
        self.holds, self.names, self.name_rows, self.gifts = {}, {}, [], 0
        self.forget()  # wallets counted what was dropped

    def pending_spend(self, key: budget_ops.CounterKey) -> int:
        """Coins that gifts earlier in this batch (or the batch before, if it is still being
        written) added to a spend counter, not yet written."""
        held = self.spending.pending(key)
        return held if self.carry is None else held + self.carry.spending.pending(key)

    def pending_score(self, guild_id: int, user_id: int, period: Any, start: int) -> int:
        """Coins held back for a gifter's bucket here (and in the batch before, if it is still
        being written): a budget in the guild's timezone adds them to the stored score."""
        held = self.totals.pending(guild_id, user_id, period, start)
        if self.carry is not None:
            held += self.carry.totals.pending(guild_id, user_id, period, start)
        return held

    def pending_gift_event(self, entry_id: int) -> tuple[Any, ...] | None:
        return self.gift_events.get(entry_id)

    def write(self) -> None:
        """Write out everything held back (outside any savepoint) and start empty again. What
        the lookups read (counters, which keys exist) has changed: they are forgotten."""
        write_held(self.conn, self.take_held())
        self.forget()

    def take_held(self) -> Held:
        """Everything held back, as rows; the batch starts empty again (its lookups stay)."""
        held = Held(
            self.entries,
            self.transfers,
            list(self.gift_events.values()),
            [(amount, account) for account, amount in self.balances.items() if amount],
            [(*key, amount) for key, amount in self.holds.items()],
            self.name_rows,
            self.totals,
            self.spending,
        )
        self.entries, self.keys, self.transfers, self.gift_events = [], {}, [], {}
        self.balances, self.holds = {}, {}
        if self.name_rows:  # written now: forget the names it saw (with none written, they hold)
            self.names, self.name_rows = {}, []
        self.totals, self.spending = rollups.Totals(), budget_ops.Spending()
        self.gifts = 0
        return held


def prefetch_run(conn: sqlite3.Connection, batch: Batch, operations: list[Any], start: int) -> int:
    """Hand the run of joining operations from `start` to their prefetch; returns where it ends."""
    end = start
    calls: dict[Prefetch, list[dict[str, Any]]] = {}
    while end < len(operations) and joins(operations[end]):
        operation = operations[end]
        prefetch, keywords = prefetcher(operation), getattr(operation, "keywords", None)
        if prefetch is not None and isinstance(keywords, dict):
            calls.setdefault(prefetch, []).append(keywords)
        end += 1
    for prefetch, run in calls.items():
        prefetch(conn, batch, run)
    return end


class Batching:
    """Sets the current batch for the duration of one group-commit transaction."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch

    def __enter__(self) -> Batch:
        self._token = _current.set(self.batch)
        return self.batch

    def __exit__(self, *_: object) -> None:
        _current.reset(self._token)

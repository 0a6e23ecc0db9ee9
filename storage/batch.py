"""What the operations of one group-commit transaction share.

Gifts committed together share the lookups no gift can change (a guild's timezone, its system
accounts, catalogue rows, creators, account ids, members' budgets) and hold back the writes
that merge: system and creator balances, leaderboard rollups, spend counters, diamond holds and
display names, and the append-only rows nothing in the batch reads back (transfers, gift
events). Those are written with one executemany each just before COMMIT, outside every
savepoint, so the batch commits exactly what the gifts one by one would have.

Anything that is not a gift may read or change those rows, so group commit writes out what the
batch holds and forgets its lookups before such an operation runs, and forgets them again
after: it sees, and leaves, exactly the state one-by-one execution would. What a refused
operation added to the batch is dropped with it, like its savepoint.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Any, TypeVar

from . import budget_ops, rollups

T = TypeVar("T")

_current: ContextVar[Batch | None] = ContextVar("giftbot_batch", default=None)

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
_NAME = (
    "INSERT INTO member_names (guild_id, user_id, name, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (guild_id, user_id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at"
)


def current() -> Batch | None:
    """The batch of the group commit running on this thread, if any."""
    return _current.get()


def joins_batches(operation: Callable[..., T]) -> Callable[..., T]:
    """Mark an operation that reads and writes only through the batch's lookups and deferred
    writes (see module docstring): group commit runs it without writing the batch out first."""
    operation.__giftbot_joins_batches__ = True  # type: ignore[attr-defined]
    return operation


def joins(operation: Callable[..., Any]) -> bool:
    target = getattr(operation, "func", operation)  # functools.partial keeps the function in .func
    return bool(getattr(target, "__giftbot_joins_batches__", False))


class Batch:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._lookups: dict[Hashable, Any] = {}
        self._op_lookups: dict[Hashable, Any] = {}
        self._op: list[tuple[Any, ...]] | None = None  # the running operation's additions
        self.gifts = 0
        self.balances: dict[int, int] = {}
        self.transfers: list[tuple[Any, ...]] = []
        self.gift_events: dict[int, tuple[Any, ...]] = {}
        self.totals = rollups.Totals()
        self.spending = budget_ops.Spending()
        self.holds: dict[tuple[int, int, int], int] = {}
        self.names: dict[tuple[int, int], tuple[str, int]] = {}

    # -- the running operation -----------------------------------------------------------------

    def begin(self) -> None:
        self._op = []
        self._op_lookups = {}

    def end(self, *, kept: bool) -> None:
        """The running operation committed to its savepoint (kept) or rolled back to it."""
        additions, self._op = self._op, None
        if kept and additions is not None:
            self._lookups.update(self._op_lookups)
            for addition in additions:
                self._apply(addition)
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

    def lookup(self, key: Hashable, load: Callable[[], T]) -> T:
        """`load()`'s value, read once per batch. A value the running operation loaded is kept
        only if the operation is (it may have created the row it names)."""
        if key in self._lookups:
            return self._lookups[key]
        if key in self._op_lookups:
            return self._op_lookups[key]
        value = load()
        if self._op is None:
            self._lookups[key] = value
        else:
            self._op_lookups[key] = value
        return value

    def forget(self) -> None:
        self._lookups.clear()
        self._op_lookups.clear()

    # -- deferred writes -----------------------------------------------------------------------

    def add(self, *addition: Any) -> None:
        if self._op is None:
            self._apply(addition)
        else:
            self._op.append(addition)

    def add_gift(self, event: tuple[Any, ...], *, timezone: str, spend_timezone: str) -> None:
        """A gift event, and its rollup and spend-counter additions: the event's fields follow
        the gift_events columns (entry, guild, sender, creator, …, coins, diamonds, channel, at)."""
        at_ms = event[12]
        # Buckets are worked out here, inside the operation, so a bad timezone fails it alone.
        self.add("gift", event, rollups.buckets(at_ms, timezone), rollups.buckets(at_ms, spend_timezone))

    def _apply(self, addition: tuple[Any, ...]) -> None:
        kind = addition[0]
        if kind == "balance":
            _, account_id, amount = addition
            self.balances[account_id] = self.balances.get(account_id, 0) + amount
        elif kind == "transfer":
            self.transfers.append(addition[1])
        elif kind == "gift":
            _, event, starts, spend_starts = addition
            entry_id, guild_id, sender_id, creator_id = event[:4]
            coins, diamonds = event[9], event[10]
            self.gift_events[entry_id] = event
            self.gifts += 1
            self.totals.add(guild_id, sender_id, creator_id, coins, diamonds, entry_id, starts)
            self.spending.add_at(guild_id, sender_id, coins, spend_starts)
        elif kind == "hold":
            _, key, amount = addition
            self.holds[key] = self.holds.get(key, 0) + amount
        elif kind == "name":
            _, guild_id, user_id, name, at_ms = addition
            self.names[(guild_id, user_id)] = (name, at_ms)
        else:
            raise ValueError(f"unknown batch addition {kind!r}")

    def discard(self) -> None:
        """Drop everything held back (its operation was rolled back)."""
        self.balances, self.transfers, self.gift_events = {}, [], {}
        self.totals, self.spending = rollups.Totals(), budget_ops.Spending()
        self.holds, self.names, self.gifts = {}, {}, 0

    def pending_spend(self, key: budget_ops.CounterKey) -> int:
        """Coins that gifts earlier in this batch added to a spend counter, not yet written."""
        return self.spending.pending(key)

    def pending_gift_event(self, entry_id: int) -> tuple[Any, ...] | None:
        return self.gift_events.get(entry_id)

    def write(self) -> None:
        """Write out everything held back (outside any savepoint) and start empty again."""
        conn = self.conn
        if self.transfers:
            conn.executemany(_TRANSFER, self.transfers)
            self.transfers = []
        if self.gift_events:
            conn.executemany(_GIFT_EVENT, list(self.gift_events.values()))
            self.gift_events = {}
        if self.balances:
            conn.executemany(
                _MOVE, [(amount, account) for account, amount in self.balances.items() if amount]
            )
            self.balances = {}
        if self.holds:
            conn.executemany(_HOLD, [(*key, amount) for key, amount in self.holds.items()])
            self.holds = {}
        if self.names:
            conn.executemany(_NAME, [(g, u, name, at) for (g, u), (name, at) in self.names.items()])
            self.names = {}
        self.totals.write(conn)
        self.spending.write(conn)
        self.gifts = 0


class Batching:
    """Sets the current batch for the duration of one group-commit transaction."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch

    def __enter__(self) -> Batch:
        self._token = _current.set(self.batch)
        return self.batch

    def __exit__(self, *_: object) -> None:
        _current.reset(self._token)

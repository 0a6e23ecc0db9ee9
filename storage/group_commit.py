"""Group commit: concurrent writes queue to one writer that commits them in batches.

Each operation is a plain function of a sqlite3 connection. The writer runs a whole batch in a
single hop to the database thread: one BEGIN, one SAVEPOINT per operation, one COMMIT. A
refused operation rolls back to its own savepoint, so it never fails its neighbours, and every
caller gets its own result only after the batch has committed.

Gifts go further (storage/batch.py): a run of them has its lookups read at once first
(storage/gift_prefetch.py), and each holds back all its writes until just before COMMIT, so it
needs no savepoint: a refused gift just drops what it added to the batch. Should a gift fail
after writing something at once (an outbox reminder, a creator's new account), or writing the
held-back rows out ever fail, the whole batch is rolled back and run again with a savepoint per
operation, each writing its own at once, so even then only the operation at fault fails.

The writer task starts on demand and exits as soon as the queue is empty, so nothing waits
forever (which would stall SimCord's settle()).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from .batch import Batch, Batching, Prefetch, joins, prefetcher

T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], Any]
Runner = Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]


def apply_batch(conn: sqlite3.Connection, operations: list[Operation]) -> list[tuple[bool, Any]]:
    """Run operations in one transaction; each gets (True, result) or (False, exception)."""
    try:
        return _run_batch(conn, operations, merged=True)
    except _Rerun:
        # A held-back write failed (a bug, not a refusal), or a gift failed after writing at
        # once: once more, each operation in its own savepoint, writing its own.
        return _run_batch(conn, operations, merged=False)


class _Rerun(Exception):
    """The batch cannot commit merged; the transaction was rolled back."""


def _run_batch(
    conn: sqlite3.Connection, operations: list[Operation], *, merged: bool
) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    batch = Batch(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        with Batching(batch):
            prefetched = 0  # operations before this index had their run prefetched
            for index, operation in enumerate(operations):
                if merged and joins(operation):
                    if index >= prefetched:
                        prefetched = _prefetch(conn, batch, operations, index)
                    outcomes.append(_run_joined(conn, batch, operation))
                    continue
                # It may read or change what the batch holds: write it out first.
                _write_out(batch)
                batch.forget()
                outcomes.append(_run_one(conn, batch, operation, write_now=not merged))
                batch.forget()
            _write_out(batch)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return outcomes


def _prefetch(conn: sqlite3.Connection, batch: Batch, operations: list[Operation], start: int) -> int:
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


def _run_joined(conn: sqlite3.Connection, batch: Batch, operation: Operation) -> tuple[bool, Any]:
    """A joining operation, without a savepoint: it holds back its writes, so a refusal only
    drops what it added to the batch. One that wrote something at once and then failed needs
    its savepoint after all: the whole batch runs again with one each."""
    changes = conn.total_changes
    batch.begin()
    try:
        result = operation(conn)
    except Exception as exc:
        batch.end(kept=False)
        if conn.total_changes != changes or not conn.in_transaction:  # (SQLite may roll back itself)
            raise _Rerun() from exc
        return (False, exc)
    try:
        batch.end(kept=True)
    except Exception as exc:
        raise _Rerun() from exc
    return (True, result)


def _run_one(
    conn: sqlite3.Connection, batch: Batch, operation: Operation, *, write_now: bool
) -> tuple[bool, Any]:
    conn.execute("SAVEPOINT op")
    batch.begin()
    try:
        result = operation(conn)
    except Exception as exc:  # refused or failed: undo this operation only
        batch.end(kept=False)
        return _undo(conn, exc)
    if write_now:
        try:
            batch.end(kept=True)
            batch.write()  # inside the savepoint: a failure here is this operation's alone
        except Exception as exc:
            batch.discard()
            return _undo(conn, exc)
    else:
        try:
            batch.end(kept=True)
        except Exception as exc:
            raise _Rerun() from exc
    conn.execute("RELEASE op")
    return (True, result)


def _undo(conn: sqlite3.Connection, exc: Exception) -> tuple[bool, Any]:
    conn.execute("ROLLBACK TO op")
    conn.execute("RELEASE op")
    return (False, exc)


def _write_out(batch: Batch) -> None:
    try:
        batch.write()
    except Exception as exc:
        raise _Rerun() from exc


class GroupCommitWriter:
    def __init__(
        self,
        run_in_db_thread: Runner,
        *,
        max_batch: int = 256,
        after_commit: Callable[[int], None] | None = None,
    ) -> None:
        self._run = run_in_db_thread
        self._max_batch = max_batch
        self._after_commit = after_commit
        self._queue: list[tuple[Operation, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.operations = 0

    async def submit(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Queue one operation and wait for its committed result (or its exception)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((operation, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="giftbot-group-commit")
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                operations = [operation for operation, _ in batch]
                try:
                    outcomes = await self._run(partial(apply_batch, operations=operations))
                except Exception as exc:  # the batch itself failed: nothing of it committed
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self.batches += 1
                self.operations += len(batch)
                if self._after_commit is not None:
                    self._after_commit(len(batch))
                for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if future.done():  # the caller gave up waiting; the work is committed anyway
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self._task = None

    async def wait_idle(self) -> None:
        """Wait until every queued operation has been committed or refused."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

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
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from .batch import Batch, Batching, Carry, joins, prefetch_run
from .plan_ahead import Plan, plan_batch, plans_ahead

if TYPE_CHECKING:
    from .writer_process import Reply, WriterProcess

log = logging.getLogger(__name__)
# Queued gifts from which a batch is worked out ahead and written by the writer process; below
# it the round trip gains nothing. Once batches are in flight, any run of gifts is.
PLAN_FROM = 32

T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], Any]
Runner = Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]
Queued = list[tuple[Operation, asyncio.Future[Any]]]  # operations and their callers' futures


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
                        prefetched = prefetch_run(conn, batch, operations, index)
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


class _Flight(NamedTuple):
    """A planned batch the writer process is writing."""

    batch: Queued
    plan: Plan
    reply: asyncio.Future[Reply]


class GroupCommitWriter:
    def __init__(
        self,
        run_in_db_thread: Runner,
        *,
        max_batch: int = 256,
        after_commit: Callable[[int], None] | None = None,
        writer_process: WriterProcess | None = None,
        plan_from: int = PLAN_FROM,
    ) -> None:
        self._run = run_in_db_thread
        self._max_batch = max_batch
        self._after_commit = after_commit
        self._process = writer_process
        self.plan_from = plan_from  # (tests set it to 1)
        self._queue: Queued = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.operations = 0
        self.planned = 0  # batches written by the writer process
        self.replanned = 0  # planned batches that ran in-process after all

    async def submit(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Queue one operation and wait for its committed result (or its exception)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((operation, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="giftbot-group-commit")
        return await future

    async def _drain(self) -> None:
        flight: _Flight | None = None
        carry: Carry | None = None
        try:
            while self._queue or flight is not None:
                if not self._queue:  # let the callers just answered queue their next writes
                    await asyncio.sleep(0)
                    if not self._queue:
                        assert flight is not None
                        await self._land_and_answer(flight)
                        flight, carry = None, None
                        continue
                planned = self._plannable(ahead=flight is not None)
                if not planned:
                    if flight is not None:
                        await self._land_and_answer(flight)
                        flight = None
                    carry = None
                    await self._run_here(self._take(self._max_batch))
                    continue
                if flight is None:  # leave half to be worked out while this half is written
                    planned, carry = min(planned, max(1, (len(self._queue) + 1) // 2)), None
                batch = self._take(planned)
                plan = await self._plan(batch, carry)
                # The batch in flight, once committed as planned (then still to be answered).
                landed = flight if flight is not None and await self._land(flight) else None
                if plan is None or (plan.carried and landed is None):
                    if landed is not None:
                        self._answer(landed.batch, landed.plan.outcomes)
                    flight, carry = None, None  # (a plan carried from a batch that did not commit as planned)
                    await self._run_here(batch)
                    continue
                assert self._process is not None
                # Send the next batch before answering the last: the writer process starts at once.
                reply = asyncio.ensure_future(self._process.write(plan.payload))
                if landed is not None:
                    self._answer(landed.batch, landed.plan.outcomes)
                flight, carry = _Flight(batch, plan, reply), plan.carry
        finally:
            self._task = None

    def _plannable(self, *, ahead: bool) -> int:
        """How many operations at the head of the queue to work out ahead (0: run them here)."""
        process = self._process
        if process is None or not plans_ahead(self._queue[0][0]):
            return 0
        if not ahead and len(self._queue) < self.plan_from:
            return 0  # a light load gains nothing from the round trip
        if not process.ready:
            process.start()  # on demand; it is ready a moment later
            return 0
        count = 0
        for operation, _ in self._queue[: self._max_batch]:
            if not plans_ahead(operation):
                break
            count += 1
        return count

    def _take(self, count: int) -> Queued:
        batch = self._queue[:count]
        del self._queue[:count]
        return batch

    async def _plan(self, batch: Queued, carry: Carry | None) -> Plan | None:
        try:
            return await self._run(partial(plan_batch, operations=[op for op, _ in batch], carry=carry))
        except Exception:
            log.exception("working out a batch ahead failed; it runs in-process")
            return None

    async def _land(self, flight: _Flight) -> bool:
        """Wait for the writer process to commit a planned batch; True if it did. The caller
        answers its callers (`_answer`). A batch it did not commit has run again here, and its
        callers are answered already."""
        status, detail = await flight.reply
        if status != "ok":
            if status == "failed":
                log.warning("the writer process refused a planned batch (%s); it runs in-process", detail)
            self.replanned += 1
            await self._run_here(flight.batch)
            return False
        self.planned += 1
        return True

    async def _land_and_answer(self, flight: _Flight) -> None:
        if await self._land(flight):
            self._answer(flight.batch, flight.plan.outcomes)

    async def _run_here(self, batch: Queued) -> None:
        """Run a batch in this process's database thread: one transaction, as always."""
        operations = [operation for operation, _ in batch]
        try:
            outcomes = await self._run(partial(apply_batch, operations=operations))
        except Exception as exc:  # the batch itself failed: nothing of it committed
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self._answer(batch, outcomes)

    def _answer(self, batch: Queued, outcomes: list[tuple[bool, Any]]) -> None:
        """A committed batch: count it, and give each caller its own result."""
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

    async def wait_idle(self) -> None:
        """Wait until every queued operation has been committed or refused."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

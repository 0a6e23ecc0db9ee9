"""Gift throughput through the economy service, and the raw ceiling on giftbot's own SQL.

The load: 200 concurrent senders, each awaiting its gifts one after another through
`EconomyService.send_gift` (so through group commit), from wallets picked at random.

The ceiling: the same gifts are sent once more, on a second copy of the database, through the
real service and writer (batches of 100), with the connection wrapped in a recorder that keeps
every statement and its parameters. Plain sqlite3 then replays those statements on a third copy,
one recorded batch per transaction, with no Python logic in between: the most giftbot's own SQL
can do on this database, whatever the code around it.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.economy.models import GiftItem
from bot.economy.service import EconomyService, Party
from storage import Storage
from storage.checkpointer import BACKSTOP
from storage.database import configure
from storage.group_commit import GroupCommitWriter

from .config import CONCURRENT_SENDERS, GIFTS_PER_TRANSACTION, GUILD_ID, NOW
from .dataset import CONFIRM_BELOW, Shape, creator_id, wallet_id
from .stats import TickingClock


@dataclass(frozen=True, slots=True)
class Order:
    sender: int
    creator: int
    gift_index: int
    count: int
    key: str


def plan_gifts(shape: Shape, n: int, *, seed: int, tag: str, members: int | None = None) -> list[Order]:
    """n gifts to random creators, cheap enough to need no confirmation: each from a wallet
    picked at random, or, with `members`, from that many members taking turns (a live room
    where the same fans gift again and again)."""
    rng = random.Random(seed)
    pool = rng.sample(range(shape.wallets), members) if members else None
    return [
        Order(
            sender=pool[i % len(pool)] if pool else rng.randrange(shape.wallets),
            creator=rng.randrange(shape.creators),
            gift_index=rng.randrange(1_000),  # resolved against the catalogue at run time
            count=rng.choice((1, 1, 2, 3)),
            key=f"bench:{tag}:{i}",
        )
        for i in range(n)
    ]


@dataclass(slots=True)
class LoadResult:
    gifts: int
    refused: int
    seconds: float
    batches: int
    refusals: list[str] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.gifts / self.seconds if self.seconds else 0.0


async def send_all(
    storage: Storage, orders: Sequence[Order], *, senders: int = CONCURRENT_SENDERS
) -> LoadResult:
    """Send every order through the economy service from `senders` concurrent tasks."""
    service = EconomyService(storage, now=TickingClock(NOW))
    catalogue = [g for g in await storage.gifts(guild_id=GUILD_ID) if g.price < CONFIRM_BELOW]
    await service.config(GUILD_ID)  # as in the bot: loaded once, then cached
    result = LoadResult(0, 0, 0.0, 0)

    async def sender(lane: Sequence[Order]) -> None:
        for order in lane:
            gift: GiftItem = catalogue[order.gift_index % len(catalogue)]
            try:
                await service.send_gift(
                    GUILD_ID,
                    Party(wallet_id(order.sender), f"fan {order.sender}"),
                    Party(creator_id(order.creator), f"creator {order.creator}"),
                    gift,
                    order.count,
                    key=order.key,
                    channel_id=1,
                )
            except Exception as refusal:  # counted: a bench load should see none
                result.refused += 1
                result.refusals.append(repr(refusal))
            else:
                result.gifts += 1

    lanes = [orders[i::senders] for i in range(senders)]
    batches_before = storage.db.writer.batches
    started = time.perf_counter()
    await asyncio.gather(*(sender(lane) for lane in lanes))
    result.seconds = time.perf_counter() - started
    result.batches = storage.db.writer.batches - batches_before
    return result


async def measure_load(db: Path, orders: Sequence[Order], *, writer_process: bool = True) -> LoadResult:
    """The load through giftbot as it runs (`writer_process=False`: all of it in this process,
    for the probes that watch one connection's SQL or the GIL within one process)."""
    storage = Storage(db, writer_process=writer_process)
    await storage.open()
    try:
        return await send_all(storage, orders)
    finally:
        await storage.close()


# -- the raw ceiling ------------------------------------------------------------------------------

Statement = tuple[str, Any, bool, bool]  # (sql, parameters, executemany?, raised?)


class Recorder:
    """A sqlite3 connection that keeps every statement run through it, with its parameters."""

    def __init__(self, conn: sqlite3.Connection, into: list[Statement]) -> None:
        self._conn = conn
        self._into = into

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        try:
            cursor = self._conn.execute(sql, parameters)
        except sqlite3.Error:
            self._into.append((sql, parameters, False, True))
            raise
        self._into.append((sql, parameters, False, False))
        return cursor

    def executemany(self, sql: str, seq: Any) -> sqlite3.Cursor:
        rows = list(seq)
        try:
            cursor = self._conn.executemany(sql, rows)
        except sqlite3.Error:
            self._into.append((sql, rows, True, True))
            raise
        self._into.append((sql, rows, True, False))
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@dataclass(slots=True)
class Recording:
    batches: list[list[Statement]]
    gifts: int

    @property
    def statements(self) -> int:
        return sum(len(batch) for batch in self.batches)


async def record(db: Path, orders: Sequence[Order]) -> Recording:
    """Send the orders through the real service and writer (batches of 100), recording the SQL."""
    storage = Storage(db)
    await storage.open()
    batches: list[list[Statement]] = []
    database = storage.db
    run_in_thread = database._run_in_thread

    async def recording_runner(fn: Callable[[sqlite3.Connection], Any]) -> Any:
        batch: list[Statement] = []
        batches.append(batch)
        return await run_in_thread(lambda raw: fn(Recorder(raw, batch)))  # type: ignore[arg-type]

    database.writer = GroupCommitWriter(recording_runner, max_batch=GIFTS_PER_TRANSACTION)
    try:
        result = await send_all(storage, orders)
    finally:
        await storage.close()
    return Recording(batches, result.gifts)


def replay(db: Path, recording: Recording) -> float:
    """Run the recorded statements with plain sqlite3, one recorded batch per transaction.
    Returns the seconds it took."""
    conn = replay_connection(db)
    try:
        started = time.perf_counter()
        for batch in recording.batches:
            run_batch(conn, batch)
        return time.perf_counter() - started
    finally:
        conn.close()


def replay_connection(db: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection set up as giftbot's writer is."""
    conn = sqlite3.connect(db, isolation_level=None)
    configure(conn)
    # As on giftbot's writer connection, whose checkpoints run beside it (storage/checkpointer.py).
    conn.execute(BACKSTOP)
    return conn


def run_batch(conn: sqlite3.Connection, batch: list[Statement]) -> None:
    """One recorded transaction's statements. A statement that raised when recorded (a refused
    gift's) may raise again; any other error propagates."""
    for sql, parameters, many, raised in batch:
        try:
            if many:
                conn.executemany(sql, parameters)
            else:
                conn.execute(sql, parameters).fetchall()
        except sqlite3.Error:
            if not raised:
                raise

"""Sustained concurrent gifts until killed: `python -m tests.crash.worker DB LOG`.

Runs the real Storage and EconomyService (no Discord) with LANES gifts in flight at once, so
group commit batches them. After each gift's await returns, it appends `done KEY new|replay`
to LOG, flushed and fsynced before the lane goes on: every such line is a gift the process
reported as done.

Keys are deterministic: lane L's n-th gift is `crash:L:n`, always the same sender, creator
and count. A restart resumes each lane REWIND gifts before its last "done", like Discord
redelivering: those gifts were done (they must come back as replays) or were in flight when
the process died (either outcome is fine, once). A done gift that is not replayed is a double
spend: the worker logs `DOUBLE KEY` and the test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.economy.errors import AlreadyCreator
from bot.economy.service import EconomyService, Party
from storage import Storage

GUILD = 7_000
MOD = Party(70, "mod")
SENDERS = [Party(100 + i, f"fan{i}") for i in range(8)]
CREATORS = [Party(200 + i, f"creator{i}") for i in range(3)]
LANES = 16
REWIND = 3
TOP_UP_BELOW = 200_000  # a run spends a few thousand coins per sender at most
TOP_UP = 1_000_000


def gift_of(lane: int, n: int) -> tuple[Party, Party, int]:
    """(sender, creator, count) of a key: the same on every attempt."""
    return SENDERS[(lane + n) % len(SENDERS)], CREATORS[(lane * 7 + n) % len(CREATORS)], 1 + n % 3


def read_log(log: Path) -> tuple[set[str], int]:
    """The keys reported done so far, and how many times the worker started."""
    done, starts = set(), 0
    if log.exists():
        for line in log.read_text("utf-8").splitlines():
            parts = line.split()
            if parts and parts[0] == "done":
                done.add(parts[1])
            elif parts and parts[0] == "start":
                starts += 1
    return done, starts


def resume_points(done: set[str]) -> dict[int, int]:
    last: dict[int, int] = {}
    for key in done:
        _, lane, n = key.split(":")
        last[int(lane)] = max(last.get(int(lane), -1), int(n))
    return {lane: max(0, last.get(lane, -1) + 1 - REWIND) for lane in range(LANES)}


def ticking_clock(start: datetime) -> Iterator[datetime]:
    """Virtual time: 10 ms a call, so runs cross day boundaries and rollups re-bucket."""
    for step in itertools.count():
        yield start + timedelta(milliseconds=10 * step)


class Log:
    """Append-only, flushed and fsynced before `write` returns. Lines that arrive while an fsync
    runs share the next one (group commit, as the database does), off the event loop."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("a", encoding="utf-8")
        self.pending: list[str] = []
        self.durable: asyncio.Future[None] | None = None  # resolves once `pending` is on disk
        self.flusher: asyncio.Task[None] | None = None

    async def write(self, line: str) -> None:
        self.pending.append(line)
        if self.durable is None:
            self.durable = asyncio.get_running_loop().create_future()
        durable = self.durable
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.create_task(self._flush())
        await durable

    async def _flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            durable, self.durable = self.durable, None
            self.file.write("".join(line + "\n" for line in batch))
            self.file.flush()
            await asyncio.to_thread(os.fsync, self.file.fileno())
            assert durable is not None
            durable.set_result(None)


async def top_up(economy: EconomyService, sender: Party, generation: int) -> None:
    held = await economy.balances(GUILD, sender.id)
    if held.coins < TOP_UP_BELOW:
        await economy.grant(
            GUILD, sender, TOP_UP, actor=MOD, reason="crash test", key=f"crash-grant:{sender.id}:{generation}"
        )


async def lane(economy: EconomyService, log: Log, done: set[str], lane_id: int, start: int) -> None:
    rose = await economy.find_gift(GUILD, "Rose")
    for n in itertools.count(start):
        key = f"crash:{lane_id}:{n}"
        sender, creator, count = gift_of(lane_id, n)
        receipt = await economy.send_gift(GUILD, sender, creator, rose, count, key=key)
        if key in done and not receipt.replayed:
            await log.write(f"DOUBLE {key}")
        await log.write(f"done {key} {'replay' if receipt.replayed else 'new'}")


async def main(database: Path, log_path: Path) -> None:
    done, starts = read_log(log_path)
    clock = ticking_clock(datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=7 * starts))
    store = Storage(database)
    await store.open()
    if starts % 2 and store.db.writer_process is not None:
        # Every other run writes its gifts through the writer process (storage/writer_process.py),
        # so kills also strike while it writes, and it must then stop on its own.
        store.db.writer.plan_from = 1
        await store.db.writer_process.started()
    economy = EconomyService(store, now=lambda: next(clock))
    for creator in CREATORS:
        with contextlib.suppress(AlreadyCreator):  # a restart finds them there
            await economy.add_creator(GUILD, creator, actor=MOD)
    for sender in SENDERS:
        await top_up(economy, sender, starts)
    log = Log(log_path)
    await log.write(f"start {starts}")
    print("ready", flush=True)
    points = resume_points(done)
    await asyncio.gather(*(lane(economy, log, done, lane_id, points[lane_id]) for lane_id in range(LANES)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))

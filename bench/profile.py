"""`python -m bench.profile [GIFTS] [WALLETS]`: the headline load alone, to run under a profiler.

`python -m bench.profile --statements [GIFTS]` runs it once with the writer's connection timed:
the database thread's time per gift in each kind of statement (COMMIT included), and in all.

    .venv/bin/py-spy record --idle --format raw -o bench/.data/gifts.txt -- \\
        .venv/bin/python -m bench.profile 20000
    .venv/bin/python -m bench.profile --summary bench/.data/gifts.txt

py-spy samples every thread, so the event loop (service, group commit) and aiosqlite's database
thread (the batch's SQL) both show. `--summary` folds the raw stacks into the share of samples
spent in each giftbot function and in SQLite itself (the sqlite3 execute calls).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bot.gc_tuning import pace_collector
from storage import group_commit

from . import dataset, throughput
from .config import DATA_DIR


async def _load(gifts: int, wallets: int, *, writer_process: bool = True) -> None:
    shape = dataset.Shape(wallets, 0)
    db = dataset.copy_of(shape, DATA_DIR / "profile.sqlite3")
    orders = throughput.plan_gifts(shape, gifts, seed=1, tag="profile")
    result = await throughput.measure_load(db, orders, writer_process=writer_process)
    print(
        f"{result.gifts:,} gifts in {result.seconds:.2f} s: {result.per_s:,.0f}/s, {result.batches} batches"
    )
    db.unlink()


def summarise(raw: Path, top: int = 25) -> None:
    """Self and inclusive shares from py-spy's raw (collapsed) stacks."""
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        frames = [
            f.split(" (")[0] + " " + f.split("/")[-1].split(":")[0].rstrip(")") for f in stack.split(";")
        ]
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        leaf[frames[-1]] += samples
    print(f"{total} samples\n\ninclusive (% of all samples, every thread)")
    for frame, samples in inclusive.most_common(top):
        print(f"  {100 * samples / total:5.1f}%  {frame}")
    print("\nself")
    for frame, samples in leaf.most_common(top):
        print(f"  {100 * samples / total:5.1f}%  {frame}")


class _Fetched:
    """A statement's rows, all stepped through while the clock ran (a cursor steps lazily, so
    timing `execute` alone would leave a SELECT's work to whoever iterates)."""

    def __init__(self, cursor: Any) -> None:
        self._rows = cursor.fetchall()
        self.rowcount = cursor.rowcount
        self._next = 0

    def __iter__(self) -> Any:
        return iter(self._rows)

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest


class _Timed:
    """A connection whose statements add their time to `spent`, keyed by their first words."""

    def __init__(self, conn: Any, spent: dict[str, float]) -> None:
        self._conn, self._spent = conn, spent

    def execute(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return _Fetched(self._conn.execute(sql, *args))
        finally:
            self._spent[" ".join(sql.split()[:4])] += time.perf_counter() - started

    def executemany(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._conn.executemany(sql, *args)
        finally:
            self._spent[" ".join(sql.split()[:4])] += time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def statements(gifts: int) -> None:
    """The headline load with the database thread's time split by statement."""
    spent: dict[str, float] = defaultdict(float)
    batch_time = [0.0]
    run_batch = group_commit._run_batch

    def timed(conn: Any, operations: Any, *, merged: bool) -> Any:
        started = time.perf_counter()
        try:
            return run_batch(_Timed(conn, spent), operations, merged=merged)  # type: ignore[arg-type]
        finally:
            batch_time[0] += time.perf_counter() - started

    group_commit._run_batch = timed
    try:
        asyncio.run(_load(gifts, 100_000, writer_process=False))  # every statement on this thread
    finally:
        group_commit._run_batch = run_batch
    print(f"\n{1e6 * batch_time[0] / gifts:7.1f} µs a gift on the database thread, of which SQL:")
    for sql, seconds in sorted(spent.items(), key=lambda item: -item[1])[:15]:
        print(f"{1e6 * seconds / gifts:7.1f} µs  {sql}")
    print(f"{1e6 * (batch_time[0] - sum(spent.values())) / gifts:7.1f} µs  Python around it")


if __name__ == "__main__":
    pace_collector()  # as `giftbot run` does
    if len(sys.argv) > 2 and sys.argv[1] == "--summary":
        summarise(Path(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--statements":
        statements(int(sys.argv[2]) if len(sys.argv) > 2 else 20_000)
    else:
        asyncio.run(
            _load(
                int(sys.argv[1]) if len(sys.argv) > 1 else 20_000,
                int(sys.argv[2]) if len(sys.argv) > 2 else 100_000,
            )
        )

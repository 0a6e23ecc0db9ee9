"""`python -m bench.pages [--gifts G] [--wallets W] [--history H]`: the pages a gift writes,
by table and index.

A commit's cost is mostly the pages it appends to the write-ahead log (docs/benchmarks.md), so
this counts them. The headline load runs with the background checkpoints and the writer's
backstop checkpoint off, so the log keeps every page every commit wrote; then the log's frame
headers give each page's number, and SQLite's `dbstat` table names the b-tree it belongs to.
`--history H` runs the load on the server with H gifts of history (as the bench's scale table
does) instead of on fresh wallets.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import struct
from collections import Counter
from contextlib import closing
from pathlib import Path

from bot.gc_tuning import pace_collector
from storage import checkpointer, database

from . import dataset, throughput
from .config import DATA_DIR
from .run import history_shape

_WAL_HEADER = 32
_FRAME_HEADER = 24


def frames_by_page(wal: Path) -> Counter[int]:
    """How many frames the log holds for each page number."""
    data = wal.read_bytes()
    (page_size,) = struct.unpack(">I", data[8:12])
    frames: Counter[int] = Counter()
    for offset in range(_WAL_HEADER, len(data) - _FRAME_HEADER - page_size + 1, _FRAME_HEADER + page_size):
        (page,) = struct.unpack(">I", data[offset : offset + 4])
        frames[page] += 1
    return frames


async def _load_without_checkpoints(db: Path, orders: list[throughput.Order]) -> throughput.LoadResult:
    kick, backstop = checkpointer.Checkpointer.kick, database.BACKSTOP
    checkpointer.Checkpointer.kick = lambda self, operations=0: None  # type: ignore[method-assign]
    database.BACKSTOP = "PRAGMA wal_autocheckpoint = 0"
    try:
        return await throughput.measure_load(db, orders, writer_process=False)  # one connection's log
    finally:
        checkpointer.Checkpointer.kick = kick  # type: ignore[method-assign]
        database.BACKSTOP = backstop


def measure(shape: dataset.Shape, gifts: int, scratch: Path) -> tuple[float, Counter[str]]:
    """Gifts a second, and log frames by b-tree name, for `gifts` gifts on a copy of `shape`."""
    db = dataset.copy_of(shape, scratch)
    try:
        # An idle second connection: the writer's close then leaves the log in place.
        with closing(sqlite3.connect(db)) as keeper:
            keeper.execute("SELECT 1 FROM accounts LIMIT 1").fetchall()
            orders = throughput.plan_gifts(shape, gifts, seed=1, tag="pages")
            result = asyncio.run(_load_without_checkpoints(db, orders))
            owners = dict(keeper.execute("SELECT pageno, name FROM dbstat").fetchall())
            by_tree: Counter[str] = Counter()
            for page, frames in frames_by_page(Path(f"{db}-wal")).items():
                by_tree[owners.get(page, "(a page freed since)")] += frames
        return result.per_s, by_tree
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gifts", type=int, default=20_000)
    parser.add_argument("--wallets", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=0, help="gifts of history (0: fresh wallets)")
    args = parser.parse_args()
    pace_collector()
    shape = history_shape(args.history) if args.history else dataset.Shape(args.wallets, 0)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    per_s, by_tree = measure(shape, args.gifts, DATA_DIR / "pages.sqlite3")
    total = sum(by_tree.values())
    where = f"{shape.wallets:,} wallets" + (f", {shape.gifts:,} gifts of history" if shape.gifts else "")
    print(f"{args.gifts:,} gifts on {where}, checkpoints off: {per_s:,.0f}/s")
    print(f"{total / args.gifts:6.2f} log pages a gift, of which:")
    for name, frames in by_tree.most_common():
        if frames / args.gifts >= 0.01:
            print(f"{frames / args.gifts:6.2f}  {name}")


if __name__ == "__main__":
    main()

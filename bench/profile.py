"""`python -m bench.profile [GIFTS] [WALLETS]`: the headline load alone, to run under a profiler.

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
from collections import Counter
from pathlib import Path

from . import dataset, throughput
from .config import DATA_DIR


async def _load(gifts: int, wallets: int) -> None:
    shape = dataset.Shape(wallets, 0)
    db = dataset.copy_of(shape, DATA_DIR / "profile.sqlite3")
    result = await throughput.measure_load(db, throughput.plan_gifts(shape, gifts, seed=1, tag="profile"))
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


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--summary":
        summarise(Path(sys.argv[2]))
    else:
        asyncio.run(
            _load(
                int(sys.argv[1]) if len(sys.argv) > 1 else 20_000,
                int(sys.argv[2]) if len(sys.argv) > 2 else 100_000,
            )
        )

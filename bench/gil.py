"""`python -m bench.gil [--gifts G] [--wallets W] [--rounds N]`: does Python running elsewhere
in the process slow the database thread?

The plan to overlap a batch's Python with the previous batch's SQL (docs/benchmarks.md, "Why
not 10,000 a second") rests on the database thread running SQLite's C code without the GIL
while the event loop runs Python. This measures it directly. The headline load runs alone, then
beside a task on the event loop that spins pure Python in chunks and sleeps 1 ms between them,
taking a known share of a core. If SQLite's work overlapped with it, the load would barely slow
down; if every GIL-holding microsecond elsewhere delays the database thread, the load slows by
about the share the burner took. Rounds alternate the variants, as `bench.ab` does, because
this machine's speed drifts.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bot.gc_tuning import pace_collector

from . import dataset, throughput
from .config import DATA_DIR

IDLE_S = 0.001  # the burner's sleep between chunks (the event loop's timer resolution)
CHUNKS_US = (0, 200, 1_000)  # 0: the load alone


@dataclass(frozen=True, slots=True)
class Run:
    chunk_us: int
    per_s: float
    burner_share: float  # of one core, over the load's duration


def spin(seconds: float) -> None:
    """Pure Python for `seconds`, holding the GIL throughout (as a batch's rules would)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def _burner(chunk_us: int, stop: asyncio.Event) -> float:
    """Spin `chunk_us` at a time until stopped; returns the seconds spent spinning."""
    spun = 0.0
    while not stop.is_set():
        started = time.perf_counter()
        spin(chunk_us / 1e6)
        spun += time.perf_counter() - started
        await asyncio.sleep(IDLE_S)
    return spun


async def measure(shape: dataset.Shape, gifts: int, chunk_us: int, scratch: Path) -> Run:
    db = dataset.copy_of(shape, scratch)
    try:
        stop = asyncio.Event()
        burner = asyncio.create_task(_burner(chunk_us, stop)) if chunk_us else None
        orders = throughput.plan_gifts(shape, gifts, seed=1, tag="gil")
        result = await throughput.measure_load(db, orders, writer_process=False)  # one process's GIL
        stop.set()
        spun = await burner if burner else 0.0
    finally:
        db.unlink()
    return Run(chunk_us, result.per_s, spun / result.seconds if result.seconds else 0.0)


def report(runs: list[Run]) -> str:
    """One line per variant: its rates, the burner's share and the slowdown against the load alone."""
    alone = statistics.median(r.per_s for r in runs if r.chunk_us == 0)
    lines = [f"{'burner':>18}  {'gifts/s (each round)':<30} {'share of a core':>15} {'slowdown':>9}"]
    for chunk in sorted({r.chunk_us for r in runs}):
        mine = [r for r in runs if r.chunk_us == chunk]
        rates = " ".join(f"{r.per_s:7,.0f}" for r in mine)
        share = statistics.median(r.burner_share for r in mine)
        slowdown = 1 - statistics.median(r.per_s for r in mine) / alone
        label = "none (load alone)" if chunk == 0 else f"{chunk:,} µs chunks"
        lines.append(f"{label:>18}  {rates:<30} {share:>15.0%} {slowdown:>9.0%}")
    return "\n".join(lines)


async def _main(gifts: int, wallets: int, rounds: int) -> None:
    shape = dataset.Shape(wallets, 0)
    runs = []
    for _ in range(rounds):
        for chunk in CHUNKS_US:
            runs.append(await measure(shape, gifts, chunk, DATA_DIR / "gil.sqlite3"))
    print(report(runs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--gifts", type=int, default=20_000)
    parser.add_argument("--wallets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    pace_collector()
    asyncio.run(_main(options.gifts, options.wallets, options.rounds))

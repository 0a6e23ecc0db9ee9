"""`python -m bench.coldstart DB`: start a plain bot process on DB and print `ready` once its
migrations have run and its cogs are loaded. The parent times it from spawn to that line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from .stats import percentile

READY = "ready"


def spawn_and_time(db: Path, runs: int) -> float:
    """The median seconds from spawning the process to its `ready` line."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.coldstart", str(db)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        seconds.append(time.perf_counter() - started)
        process.wait(timeout=60)
        if line != READY or process.returncode != 0:
            raise RuntimeError(f"the bot process did not start: {line!r}, exit {process.returncode}")
    return percentile(seconds, 50)


async def _main(db: Path) -> None:
    from .botproc import ready_bot, shut

    bot = await ready_bot(db)
    print(READY, flush=True)
    await shut(bot)


if __name__ == "__main__":
    asyncio.run(_main(Path(sys.argv[1])))

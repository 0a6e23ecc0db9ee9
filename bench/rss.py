"""`python -m bench.rss DB N`: a plain bot process on DB answers N balance queries and every
leaderboard, then prints its peak resident memory in MiB (no SimCord in this process)."""

from __future__ import annotations

import asyncio
import json
import random
import resource
import subprocess
import sys
from pathlib import Path


def measure_rss(db: Path, balance_queries: int) -> float:
    """Peak RSS (MiB) of the child process."""
    output = subprocess.run(
        [sys.executable, "-m", "bench.rss", str(db), str(balance_queries)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=600,
    ).stdout
    return float(json.loads(output.strip().splitlines()[-1])["rss_mb"])


async def _main(db: Path, balance_queries: int) -> None:
    from bot.economy.models import Board
    from bot.economy.periods import Period

    from .botproc import ready_bot, shut
    from .config import GUILD_ID
    from .dataset import WALLET_BASE

    bot = await ready_bot(db)
    wallets = await bot.storage.db.read(
        lambda conn: conn.execute(
            "SELECT COUNT(*) FROM accounts WHERE guild_id = ? AND owner_id >= ?", (GUILD_ID, WALLET_BASE)
        ).fetchone()[0]
    )
    rng = random.Random(7)
    for _ in range(balance_queries):
        await bot.economy.balances(GUILD_ID, WALLET_BASE + rng.randrange(max(wallets, 1)))
    for board in Board:
        for period in Period:
            await bot.economy.board(GUILD_ID, period, board)
    await shut(bot)
    print(json.dumps({"rss_mb": peak_rss_kib() / 1024, "wallets": wallets}), flush=True)


def peak_rss_kib() -> int:
    """This process's peak resident memory. VmHWM belongs to the process's own memory map, so it
    starts afresh at exec; ru_maxrss does not (Linux keeps the forking parent's peak across
    exec, which would report the benchmark harness instead of the bot)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


if __name__ == "__main__":
    from bot.gc_tuning import pace_collector

    pace_collector()  # as `giftbot run` does
    asyncio.run(_main(Path(sys.argv[1]), int(sys.argv[2])))

"""What a run measures, and at which sizes: the full run counts, --quick only keeps it alive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / ".data"  # generated databases, cached by shape and schema (git-ignored)
RESULTS = BENCH_DIR / "results.json"

GUILD_ID = 1_100_000_000_000_000_001  # snowflake-sized, like a real server's id
MOD_ID = 1_100_000_000_000_000_002
NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)  # a Monday noon: every period has some history
HISTORY_DAYS = 400  # generated gifts spread over the days before NOW
CONCURRENT_SENDERS = 200
GIFTS_PER_TRANSACTION = 100  # the raw ceiling's batch size


@dataclass(frozen=True, slots=True)
class Plan:
    """The sizes of one run."""

    quick: bool
    wallets: int  # the headline throughput's wallets
    load_gifts: int  # gifts sent by the concurrent senders in the headline run
    ceiling_gifts: int  # gifts recorded and replayed for the raw ceiling
    board_gifts: int  # the gift history the leaderboards and the bot processes run on
    board_repeats: int  # top-10 queries per board and period
    scales: tuple[int, ...]  # wallets (throughput) or gifts (leaderboards) in the scale table
    handler_samples: int  # /gift and /balance each
    cold_starts: int
    balance_queries: int  # in the RSS process


FULL = Plan(
    quick=False,
    wallets=100_000,
    load_gifts=60_000,
    ceiling_gifts=30_000,
    board_gifts=1_000_000,
    board_repeats=400,
    scales=(1_000, 100_000, 1_000_000),
    handler_samples=1_000,
    cold_starts=5,
    balance_queries=5_000,
)

QUICK = Plan(
    quick=True,
    wallets=2_000,
    load_gifts=4_000,
    ceiling_gifts=2_000,
    board_gifts=10_000,
    board_repeats=40,
    scales=(1_000, 10_000),
    handler_samples=40,
    cold_starts=1,
    balance_queries=500,
)

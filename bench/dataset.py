"""Benchmark databases: a server with N funded wallets and M gifts of history, built in bulk.

Replaying a million gifts through giftbot would take minutes, so the rows are written straight
into the tables with plain sqlite3, exactly as giftbot would have written them: one grant entry
per wallet, the gift legs of `storage.money_ops.send_gift`, gift events, balances, leaderboard
rollups and spend counters. `verify` runs giftbot's own ledger checks on the result (every
--quick run does, on a small one), so the generator cannot drift from the real write path
unnoticed. Built files are cached in bench/.data under a name that carries the shape, the
schema version and a hash of the migrations and of this file.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.economy.clock import to_millis
from bot.economy.money import gift_cost, split_gift
from storage import budget_ops, ledger, migrate, reads, rollups

from .config import DATA_DIR, GUILD_ID, HISTORY_DAYS, MOD_ID, NOW

DAY_MS = 86_400_000
GRANT = 1_000_000  # each wallet's promo grant: more than it will ever spend here
SHARE = 50  # the default creator share
CONFIRM_BELOW = 1_000  # generated gifts stay under the default confirm_threshold
WALLET_BASE = 1_200_000_000_000_000_000  # user ids: snowflake-sized, never colliding with row ids
CREATOR_BASE = 1_300_000_000_000_000_000
CHANNEL_ID = 1_400_000_000_000_000_000
CHUNK = 50_000
Row = tuple[Any, ...]
# Every generated coin is a promo grant, so gifts move promo coins and earn promo diamonds
# (schema 4 tags each wallet's coins paid or promo; promo legs keep their old names).
PROMO_COINS, PROMO_DIAMONDS = "coins_promo", "diamonds_promo"


@dataclass(frozen=True, slots=True)
class Shape:
    wallets: int
    gifts: int

    @property
    def creators(self) -> int:
        return max(10, min(1_000, self.wallets // 100))

    @property
    def name(self) -> str:
        return f"w{self.wallets}-g{self.gifts}-c{self.creators}"


def wallet_id(index: int) -> int:
    return WALLET_BASE + index


def creator_id(index: int) -> int:
    return CREATOR_BASE + index


@dataclass(frozen=True, slots=True)
class CatalogueGift:
    id: int
    name: str
    emoji: str
    price: int
    comboable: bool


def cheap_gifts(conn: sqlite3.Connection) -> list[CatalogueGift]:
    """The seeded gifts a member sends without a confirmation."""
    rows = conn.execute(
        "SELECT id, name, emoji, price, comboable FROM catalogue WHERE guild_id = ? AND enabled = 1 "
        "AND price < ? ORDER BY id",
        (GUILD_ID, CONFIRM_BELOW),
    ).fetchall()
    return [CatalogueGift(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for migration in migrate.migrations():
        digest.update(migration.sql.encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:10]


def cached_path(shape: Shape) -> Path:
    return DATA_DIR / f"{shape.name}-s{migrate.latest_version()}-{_fingerprint()}.sqlite3"


def database(shape: Shape, *, log: bool = True) -> Path:
    """The cached database of this shape, built first if needed (read it, or copy it to write)."""
    path = cached_path(shape)
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for stale in DATA_DIR.glob(f"{shape.name}-s*.sqlite3*"):
        stale.unlink()  # an older schema or generator: never read again
    building = path.with_name(path.name + ".building")
    building.unlink(missing_ok=True)
    if log:
        print(f"  building {path.name} (cached for later runs)…", flush=True)
    build(building, shape)
    os.replace(building, path)
    return path


def copy_of(shape: Shape, to: Path) -> Path:
    """A private, writable copy of the cached database."""
    source = database(shape)
    for suffix in ("", "-wal", "-shm"):
        Path(str(to) + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, to)
    return to


# -- building -----------------------------------------------------------------------------------


def build(path: Path, shape: Shape, seed: int = 6) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate.apply_migrations(conn)
        conn.execute("PRAGMA journal_mode = OFF")  # a scratch file until it is renamed into place
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("BEGIN")
        _fill(conn, shape, random.Random(seed))
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def _fill(conn: sqlite3.Connection, shape: Shape, rng: random.Random) -> None:
    start_ms = to_millis(NOW - timedelta(days=HISTORY_DAYS + 1))
    ledger.ensure_guild(conn, GUILD_ID, start_ms)
    system = {code: ledger.system_account(conn, GUILD_ID, code) for code in ledger.SYSTEM_ACCOUNTS}
    next_account = int(conn.execute("SELECT MAX(id) FROM accounts").fetchone()[0]) + 1
    coins_account = {i: next_account + i for i in range(shape.wallets)}
    diamonds_account = {j: next_account + shape.wallets + j for j in range(shape.creators)}
    balances: dict[int, int] = defaultdict(int)

    conn.executemany(
        "INSERT INTO accounts (id, guild_id, owner_id, code, currency, non_negative, balance, created_at) "
        "VALUES (?, ?, ?, ?, ?, 1, 0, ?)",
        [
            (coins_account[i], GUILD_ID, wallet_id(i), PROMO_COINS, "coin", start_ms)
            for i in range(shape.wallets)
        ]
        + [
            (diamonds_account[j], GUILD_ID, creator_id(j), PROMO_DIAMONDS, "diamond", start_ms)
            for j in range(shape.creators)
        ],
    )
    conn.executemany(
        "INSERT INTO creators (guild_id, user_id, added_by, added_at) VALUES (?, ?, ?, ?)",
        [(GUILD_ID, creator_id(j), MOD_ID, start_ms) for j in range(shape.creators)],
    )
    conn.executemany(
        "INSERT INTO member_names (guild_id, user_id, name, updated_at) VALUES (?, ?, ?, ?)",
        [(GUILD_ID, wallet_id(i), f"fan {i}", start_ms) for i in range(shape.wallets)]
        + [(GUILD_ID, creator_id(j), f"creator {j}", start_ms) for j in range(shape.creators)],
    )

    # One promo grant per wallet: promo issuer → wallet.
    for chunk in _chunks(range(shape.wallets)):
        entries: list[Row] = []
        transfers: list[Row] = []
        for i in chunk:
            key = f"bench:grant:{i:08d}"
            entries.append((i + 1, GUILD_ID, key, "grant", MOD_ID, "bench", start_ms))
            transfers.append(
                (
                    i + 1,
                    f"{key}#coins",
                    GUILD_ID,
                    "coin",
                    system["promo_issuer"],
                    coins_account[i],
                    GRANT,
                    start_ms,
                )
            )
            balances[system["promo_issuer"]] -= GRANT
            balances[coins_account[i]] += GRANT
        _insert_ledger(conn, entries, transfers)

    gifts = cheap_gifts(conn)
    weights = [1 / gift.price**0.5 for gift in gifts]
    first_ms = start_ms + DAY_MS
    span = to_millis(NOW) - 3_600_000 - first_ms  # history ends an hour before NOW
    moments = sorted(rng.randrange(span) for _ in range(shape.gifts))
    entry_id = shape.wallets
    for chunk in _chunks(range(shape.gifts)):
        entries, transfers = [], []
        events: list[Row] = []
        picks = rng.choices(gifts, weights, k=len(chunk))
        for n, gift in zip(chunk, picks, strict=True):
            entry_id += 1
            sender = int(shape.wallets * rng.random() ** 1.5)  # a few big gifters, a long tail
            creator = int(shape.creators * rng.random() ** 1.5)
            count = rng.choice((1, 1, 1, 2, 3, 5, 10)) if gift.comboable else 1
            at_ms = first_ms + moments[n]
            split = split_gift(gift_cost(gift.price, count), SHARE)
            key = f"bench:gift:{n:08d}"
            entries.append((entry_id, GUILD_ID, key, "gift", wallet_id(sender), None, at_ms))
            wallet, sink = coins_account[sender], system["gift_sink"]
            transfers.append((entry_id, f"{key}#coins", GUILD_ID, "coin", wallet, sink, split.coins, at_ms))
            balances[wallet] -= split.coins
            balances[sink] += split.coins
            if split.platform_coins:
                fee = system["platform_fee"]
                transfers.append(
                    (entry_id, f"{key}#platform", GUILD_ID, "coin", sink, fee, split.platform_coins, at_ms)
                )
                balances[sink] -= split.platform_coins
                balances[fee] += split.platform_coins
            if split.diamonds:
                issuer, earned = system["diamond_issuer"], diamonds_account[creator]
                transfers.append(
                    (entry_id, f"{key}#diamonds", GUILD_ID, "diamond", issuer, earned, split.diamonds, at_ms)
                )
                balances[issuer] -= split.diamonds
                balances[earned] += split.diamonds
            events.append(
                (
                    entry_id,
                    GUILD_ID,
                    wallet_id(sender),
                    creator_id(creator),
                    gift.id,
                    gift.name,
                    gift.emoji,
                    gift.price,
                    count,
                    split.coins,
                    split.diamonds,
                    CHANNEL_ID,
                    at_ms,
                )
            )
        _insert_ledger(conn, entries, transfers)
        conn.executemany(
            "INSERT INTO gift_events (entry_id, guild_id, sender_id, creator_id, gift_id, gift_name, "
            "gift_emoji, unit_price, count, coins, diamonds, channel_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )

    conn.executemany("UPDATE accounts SET balance = ? WHERE id = ?", [(b, a) for a, b in balances.items()])
    if shape.gifts:
        _boards(conn)


def _chunks(items: range) -> Iterator[range]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _insert_ledger(conn: sqlite3.Connection, entries: list[Row], transfers: list[Row]) -> None:
    conn.executemany(
        "INSERT INTO entries (id, guild_id, idempotency_key, kind, actor_id, reason, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        entries,
    )
    conn.executemany(
        "INSERT INTO transfers (entry_id, idempotency_key, guild_id, currency, debit_account_id, "
        "credit_account_id, amount, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        transfers,
    )


def _boards(conn: sqlite3.Connection) -> None:
    """The boards, as giftbot's own replay of the gifts writes them (current buckets, closed
    ones, kept tops). No member keeps their own timezone, so nobody has spend counters: their
    spending is their gifters score."""
    rollups.rebuild_guild(conn, GUILD_ID, rollups.guild_timezone(conn, GUILD_ID))


# -- checking -----------------------------------------------------------------------------------


def verify(path: Path, *, recompute: bool) -> list[str]:
    """giftbot's ledger checks on a database; `recompute` adds the (slow) rollup and counter
    recomputations. Returns the problems found (empty when consistent)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return ledger_problems(conn, recompute=recompute)
    finally:
        conn.close()


def ledger_problems(conn: sqlite3.Connection, *, recompute: bool) -> list[str]:
    problems = []
    totals = reads.ledger_totals(conn)
    if not totals.balanced:
        problems.append(f"currencies do not sum to zero: {totals.sums}")
    if mismatched := reads.balance_mismatches(conn):
        problems.append(f"{len(mismatched)} balances differ from their transfers, e.g. {mismatched[:3]}")
    if negative := reads.negative_member_accounts(conn):
        problems.append(f"{len(negative)} member balances are negative, e.g. {negative[:3]}")
    orphans = conn.execute(
        "SELECT COUNT(*) FROM entries e WHERE e.kind = 'gift' "
        "AND NOT EXISTS (SELECT 1 FROM gift_events g WHERE g.entry_id = e.id)"
    ).fetchone()[0]
    if orphans:
        problems.append(f"{orphans} gift entries have no gift event")
    if recompute:
        if rollup := reads.rollup_mismatches(conn):
            problems.append(f"{len(rollup)} leaderboard rollups differ from a recount, e.g. {rollup[:3]}")
        if counters := budget_ops.counter_mismatches(conn):
            problems.append(f"{len(counters)} spend counters differ from a recount, e.g. {counters[:3]}")
    return problems

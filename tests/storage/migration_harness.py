"""Upgrade tests: build a database as giftbot version N left it, open it with today's code, compare.

Usage, for each schema version N that real databases may still be at:

    async with upgraded(tmp_path / "x.sqlite3", version=N, write=write_like_vN) as store:
        ...  # extra checks on the upgraded store

`write_like_vN(conn)` fills the version-N database the way version N's code wrote it. It must be
frozen: once migration N+1 exists, today's storage code writes the N+1 shape, so the version-N
writer cannot call it and spells out version N's SQL instead (see test_migrations.py).

`upgraded` checks what every migration must preserve: each account's balance, every entry and
transfer with its idempotency key, balanced books, and that the upgraded database still takes
and deduplicates writes. The snapshot reads only columns that exist since version 1; a migration
that renames one of them must teach `snapshot` both spellings.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.economy.models import Balances, Currency
from storage import Storage
from storage.database import configure
from storage.migrate import apply_migrations, current_version, latest_version, migrations

Writer = Callable[[sqlite3.Connection], None]

# Time used by the checks the harness writes after upgrading: later than any fixture data.
AFTER_UPGRADE = datetime(2030, 1, 1, tzinfo=UTC)


def build_at(path: Path, version: int) -> sqlite3.Connection:
    """A plain sqlite3 connection to a new database migrated exactly to `version`."""
    conn = sqlite3.connect(path, isolation_level=None)
    configure(conn)
    apply_migrations(conn, target=version)
    assert current_version(conn) == version
    return conn


@dataclass(frozen=True, slots=True)
class Books:
    """What an upgrade must keep: balances, and the ledger with its idempotency keys."""

    version: int
    balances: dict[tuple[int, int, str], int]  # (guild, owner, code) -> balance
    currencies: dict[tuple[int, int, str], str]  # (guild, owner, code) -> currency
    entries: dict[str, str]  # idempotency key -> kind
    transfers: dict[str, tuple[str, int]]  # idempotency key -> (currency, amount)

    def sums(self) -> dict[str, int]:
        totals = {currency.value: 0 for currency in Currency}
        for account, balance in self.balances.items():
            totals[self.currencies[account]] += balance
        return totals

    def members(self) -> dict[tuple[int, int], Balances]:
        """Each member's (guild, user) balances as `Storage.balances` should report them."""
        found: dict[tuple[int, int], Balances] = {}
        for (guild, owner, code), balance in self.balances.items():
            if owner == 0:
                continue
            held = found.get((guild, owner), Balances(0, 0))
            if code == "coins_promo":
                held = Balances(balance, held.diamonds)
            elif code == "diamonds_promo":
                held = Balances(held.coins, balance)
            found[(guild, owner)] = held
        return found


# Schema 4 tagged member accounts: what version 1-3 called "coins" and "diamonds" are the promo
# ones. Snapshots speak today's names, so books from any version compare directly.
_RENAMED_IN_V4 = {"coins": "coins_promo", "diamonds": "diamonds_promo"}


def snapshot(conn: sqlite3.Connection) -> Books:
    accounts = [
        (g, o, _RENAMED_IN_V4.get(c, c) if o != 0 else c, cur, b)
        for g, o, c, cur, b in conn.execute(
            "SELECT guild_id, owner_id, code, currency, balance FROM accounts"
        )
    ]
    return Books(
        version=current_version(conn),
        balances={(g, o, c): int(b) for g, o, c, _, b in accounts},
        currencies={(g, o, c): str(cur) for g, o, c, cur, _ in accounts},
        entries=dict(conn.execute("SELECT idempotency_key, kind FROM entries").fetchall()),
        transfers={
            key: (currency, int(amount))
            for key, currency, amount in conn.execute(
                "SELECT idempotency_key, currency, amount FROM transfers"
            ).fetchall()
        },
    )


def schema(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """Every table, index, view and trigger with its SQL, as SQLite keeps them."""
    return conn.execute(
        "SELECT type, name, COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()


def _fresh_schema(path: Path) -> list[tuple[str, str, str]]:
    conn = build_at(path, latest_version())
    try:
        return schema(conn)
    finally:
        conn.close()


def check_database(conn: sqlite3.Connection) -> None:
    """SQLite's own checks: the file is sound and no foreign key dangles."""
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


async def assert_books_balance(store: Storage) -> None:
    totals = await store.ledger_totals()
    assert totals.balanced, totals.sums
    assert await store.balance_mismatches() == []
    negative = await store.db.read(
        lambda conn: conn.execute("SELECT id FROM accounts WHERE non_negative = 1 AND balance < 0").fetchall()
    )
    assert negative == []


@asynccontextmanager
async def upgraded(path: Path, *, version: int, write: Writer) -> AsyncIterator[Storage]:
    """Build at `version`, let `write` fill it, upgrade with `Storage`, check, yield the store."""
    conn = build_at(path, version)
    try:
        write(conn)
        assert current_version(conn) == version, "the writer must not migrate the database itself"
        before = snapshot(conn)
        check_database(conn)
    finally:
        conn.close()
    assert before.entries, "the writer wrote nothing, so the upgrade would prove nothing"
    assert set(before.sums().values()) == {0}, f"the version {version} fixture is unbalanced: {before.sums()}"

    store = Storage(path)
    try:
        applied = await store.open()
        assert applied == [m.name for m in migrations() if m.version > version]
        after = await store.db.read(snapshot)
        assert after.version == latest_version()
        # every account kept its balance; accounts a migration opened start empty
        assert {k: v for k, v in after.balances.items() if k in before.balances} == before.balances
        assert {k: v for k, v in after.balances.items() if k not in before.balances and v} == {}
        assert after.entries == before.entries
        assert after.transfers == before.transfers
        await store.db.read(check_database)
        # the same tables, indexes, views and triggers as a database created at the latest version
        assert await store.db.read(schema) == _fresh_schema(path.with_name("fresh.sqlite3"))
        await assert_books_balance(store)
        for (guild, user), held in before.members().items():
            assert await store.balances(guild_id=guild, user_id=user) == held, (guild, user)
        await _old_keys_still_deduplicate(store, before)
        yield store
        await assert_books_balance(store)
    finally:
        await store.close()


async def _old_keys_still_deduplicate(store: Storage, before: Books) -> None:
    """A redelivered command from before the upgrade must not move money again."""
    grants = [key for key, kind in before.entries.items() if kind == "grant"]
    if not grants:
        return
    key = grants[0]
    owner = await store.db.read(
        lambda conn: conn.execute(
            "SELECT a.guild_id, a.owner_id FROM transfers t JOIN accounts a ON a.id = t.credit_account_id "
            "JOIN entries e ON e.id = t.entry_id WHERE e.idempotency_key = ?",
            (key,),
        ).fetchone()
    )
    guild, user = owner
    held = await store.balances(guild_id=guild, user_id=user)
    replay = await store.grant(
        guild_id=guild, user_id=user, amount=1, actor_id=1, reason="redelivery", key=key, at=AFTER_UPGRADE
    )
    assert replay.replayed
    assert await store.balances(guild_id=guild, user_id=user) == held

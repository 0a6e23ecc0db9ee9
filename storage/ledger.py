"""Double-entry posting, run inside a transaction on the database thread.

Modelled on TigerBeetle: accounts hold one currency and may forbid a negative balance;
a transfer moves a positive amount from a debit account to a credit account. The check and the
write are one conditional UPDATE, so no interleaving can overdraw an account.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.economy.catalogue import default_gifts, name_key
from bot.economy.errors import EconomyError, InsufficientCoins
from bot.economy.models import Currency
from bot.economy.packages import DEFAULT_PACKAGES

SYSTEM_OWNER = 0

# code -> (currency, may go negative?)
SYSTEM_ACCOUNTS: dict[str, tuple[Currency, bool]] = {
    "promo_issuer": (Currency.COIN, True),  # issues promo coins: negative by design
    "gift_sink": (Currency.COIN, False),  # coins spent on gifts that back creators' diamonds
    "platform_fee": (Currency.COIN, False),  # what the creator share leaves to the platform
    "diamond_issuer": (Currency.DIAMOND, True),  # issues creators' diamonds: negative by design
    "store": (Currency.COIN, True),  # issues bought coins: negative by design
    "cashout": (Currency.DIAMOND, False),  # diamonds that moderators approved for payment
}
# A member's wallet is tagged: promo coins (grants, promotion bonuses) and paid coins (bought)
# are separate accounts, and so are the diamonds each earns a creator. Only paid diamonds can
# be cashed out; a request parks them in the pending account until a moderator decides.
MEMBER_ACCOUNTS: dict[str, Currency] = {
    "coins_promo": Currency.COIN,
    "coins_paid": Currency.COIN,
    "diamonds_promo": Currency.DIAMOND,
    "diamonds_paid": Currency.DIAMOND,
    "diamonds_pending": Currency.DIAMOND,
}
COIN_ACCOUNTS = ("coins_promo", "coins_paid")
# Diamonds a creator holds: pending ones are promised to a cash-out and not counted.
DIAMOND_ACCOUNTS = ("diamonds_promo", "diamonds_paid")


class InsufficientDiamonds(EconomyError):
    def __init__(self, *, balance: int, needed: int) -> None:
        self.balance = balance
        self.needed = needed
        super().__init__(f"You need {needed:,} diamonds but have {balance:,}.")


@dataclass(frozen=True, slots=True)
class Leg:
    name: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    currency: Currency


def ensure_guild(conn: sqlite3.Connection, guild_id: int, at_ms: int) -> bool:
    """Create the guild's row, system accounts and default catalogue once. True if created."""
    created = conn.execute(
        "INSERT INTO guilds (guild_id, created_at, catalogue_seeded_at) VALUES (?, ?, ?) "
        "ON CONFLICT (guild_id) DO NOTHING",
        (guild_id, at_ms, at_ms),
    ).rowcount
    if not created:
        return False
    conn.executemany(
        "INSERT INTO accounts (guild_id, owner_id, code, currency, non_negative, balance, created_at) "
        "VALUES (?, ?, ?, ?, ?, 0, ?)",
        [
            (guild_id, SYSTEM_OWNER, code, currency.value, int(not negative), at_ms)
            for code, (currency, negative) in SYSTEM_ACCOUNTS.items()
        ],
    )
    conn.executemany(
        "INSERT INTO catalogue (guild_id, name, name_key, emoji, price, enabled, comboable, tiktok_id, "
        "updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)",
        [
            (guild_id, g.name, name_key(g.name), g.emoji, g.price, int(g.comboable), g.tiktok_id, at_ms)
            for g in default_gifts()
        ],
    )
    conn.executemany(
        "INSERT INTO coin_packages (guild_id, coins, bonus, sku_id, enabled, updated_at) "
        "VALUES (?, ?, ?, NULL, 1, ?)",
        [(guild_id, coins, bonus, at_ms) for coins, bonus in DEFAULT_PACKAGES],
    )
    return True


def system_account(conn: sqlite3.Connection, guild_id: int, code: str) -> int:
    row = conn.execute(
        "SELECT id FROM accounts WHERE guild_id = ? AND owner_id = ? AND code = ?",
        (guild_id, SYSTEM_OWNER, code),
    ).fetchone()
    if row is None:
        raise LookupError(f"guild {guild_id} has no {code} account; call ensure_guild first")
    return int(row[0])


def system_accounts(conn: sqlite3.Connection, guild_id: int) -> dict[str, int]:
    """Every system account of the guild, code -> id, in one lookup."""
    return {
        str(code): int(account_id)
        for code, account_id in conn.execute(
            "SELECT code, id FROM accounts WHERE guild_id = ? AND owner_id = ?", (guild_id, SYSTEM_OWNER)
        ).fetchall()
    }


def member_account(conn: sqlite3.Connection, guild_id: int, user_id: int, code: str, at_ms: int) -> int:
    """The member's account for `code` (one of MEMBER_ACCOUNTS), opened on first use."""
    if user_id == SYSTEM_OWNER:
        raise ValueError("user id 0 is reserved for system accounts")
    row = conn.execute(
        "SELECT id FROM accounts WHERE guild_id = ? AND owner_id = ? AND code = ?",
        (guild_id, user_id, code),
    ).fetchone()
    if row is not None:
        return int(row[0])
    cursor = conn.execute(
        "INSERT INTO accounts (guild_id, owner_id, code, currency, non_negative, balance, created_at) "
        "VALUES (?, ?, ?, ?, 1, 0, ?)",
        (guild_id, user_id, code, MEMBER_ACCOUNTS[code].value, at_ms),
    )
    return int(cursor.lastrowid or 0)


def wallet_coins(conn: sqlite3.Connection, guild_id: int, user_id: int) -> tuple[int, int]:
    """The member's (promo, paid) coins."""
    rows = dict(
        conn.execute(
            "SELECT code, balance FROM accounts WHERE guild_id = ? AND owner_id = ? "
            "AND code IN ('coins_promo', 'coins_paid')",
            (guild_id, user_id),
        ).fetchall()
    )
    return int(rows.get("coins_promo", 0)), int(rows.get("coins_paid", 0))


def balance(conn: sqlite3.Connection, account_id: int) -> int:
    return int(conn.execute("SELECT balance FROM accounts WHERE id = ?", (account_id,)).fetchone()[0])


def member_balance(conn: sqlite3.Connection, guild_id: int, user_id: int, code: str) -> int:
    row = conn.execute(
        "SELECT balance FROM accounts WHERE guild_id = ? AND owner_id = ? AND code = ?",
        (guild_id, user_id, code),
    ).fetchone()
    return int(row[0]) if row else 0


class KeyReused(EconomyError):
    """An idempotency key already names a different kind of operation: a bug, never a replay."""

    def __init__(self, key: str, kind: str) -> None:
        super().__init__("That request was already used for something else, so nothing was changed.")
        self.key, self.kind = key, kind


def find_entry(conn: sqlite3.Connection, key: str, kind: str) -> int | None:
    """The entry already written under `key` (a replay), or None. Refuses a key of another kind."""
    row = conn.execute("SELECT id, kind FROM entries WHERE idempotency_key = ?", (key,)).fetchone()
    if row is None:
        return None
    if row[1] != kind:
        raise KeyReused(key, row[1])
    return int(row[0])


def post_entry(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    key: str,
    kind: str,
    actor_id: int,
    reason: str | None,
    at_ms: int,
    legs: list[Leg],
) -> int:
    """Write one ledger entry and its legs, moving balances. Raises before any partial write
    becomes visible: the caller's savepoint rolls back everything on error."""
    entry_id = int(
        conn.execute(
            "INSERT INTO entries (guild_id, idempotency_key, kind, actor_id, reason, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (guild_id, key, kind, actor_id, reason, at_ms),
        ).lastrowid
        or 0
    )
    for leg in legs:
        _move(conn, leg)
        conn.execute(
            "INSERT INTO transfers (entry_id, idempotency_key, guild_id, currency, debit_account_id, "
            "credit_account_id, amount, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry_id,
                f"{key}#{leg.name}",
                guild_id,
                leg.currency.value,
                leg.debit_account_id,
                leg.credit_account_id,
                leg.amount,
                at_ms,
            ),
        )
    return entry_id


def _move(conn: sqlite3.Connection, leg: Leg) -> None:
    debit(conn, leg.debit_account_id, leg.amount, leg.currency)
    credited = conn.execute(
        "UPDATE accounts SET balance = balance + ? WHERE id = ? AND currency = ?",
        (leg.amount, leg.credit_account_id, leg.currency.value),
    ).rowcount
    if not credited:
        raise ValueError(f"account {leg.credit_account_id} cannot be credited in {leg.currency}")


def debit(conn: sqlite3.Connection, account_id: int, amount: int, currency: Currency) -> None:
    """Take `amount` out of an account: the check and the write are one conditional UPDATE."""
    if amount <= 0:
        raise ValueError("a transfer moves a positive amount")
    debited = conn.execute(
        "UPDATE accounts SET balance = balance - ? "
        "WHERE id = ? AND currency = ? AND (non_negative = 0 OR balance >= ?)",
        (amount, account_id, currency.value, amount),
    ).rowcount
    if not debited:
        row = conn.execute("SELECT balance, currency FROM accounts WHERE id = ?", (account_id,)).fetchone()
        if row is None or row[1] != currency.value:
            raise ValueError(f"account {account_id} cannot be debited in {currency}")
        if currency is Currency.COIN:
            raise InsufficientCoins(balance=int(row[0]), needed=amount)
        raise InsufficientDiamonds(balance=int(row[0]), needed=amount)

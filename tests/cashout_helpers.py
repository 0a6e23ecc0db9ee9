"""Helpers for the cash-out and audit-trail tests: bought coins without the store, and CSV reading.

`buy_coins` writes a purchase credit straight into the ledger (store → the member's paid coins),
so cash-out tests do not depend on the store's own API.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.economy.clock import to_millis
from bot.economy.models import Currency, EntryKind
from bot.economy.service import Party
from storage import Storage, ledger
from tests.sim import Community

DAY = 86_400


async def buy_coins(
    store: Storage, *, guild_id: int, user_id: int, coins: int, key: str, at: datetime
) -> int:
    """Credit `coins` bought coins to the member, as a purchase would; returns the entry id."""
    at_ms = to_millis(at)

    def credit(conn: sqlite3.Connection) -> int:
        ledger.ensure_guild(conn, guild_id, at_ms)
        wallet = ledger.member_account(conn, guild_id, user_id, "coins_paid", at_ms)
        issuer = ledger.system_account(conn, guild_id, "store")
        return ledger.post_entry(
            conn,
            guild_id=guild_id,
            key=key,
            kind=EntryKind.PURCHASE,
            actor_id=user_id,
            reason="test purchase",
            at_ms=at_ms,
            legs=[ledger.Leg("coins", issuer, wallet, coins, Currency.COIN)],
        )

    return await store.db.write(credit)


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def unquote(cell: str) -> str:
    """A text cell as typed: the export prefixes formula-like text with `'`."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in {"=", "+", "-", "@", "\t", "\r"} else cell


def member_sums(rows: list[dict[str, str]]) -> tuple[int, int, int]:
    """(coins, diamonds, pending diamonds) summed over a member export."""
    return (
        sum(int(r["coins"]) for r in rows),
        sum(int(r["diamonds"]) for r in rows),
        sum(int(r["pending_diamonds"]) for r in rows),
    )


def account_sums(rows: list[dict[str, str]]) -> dict[tuple[int, str], int]:
    """Each account's balance, (owner, code) → credits − debits, from a guild export."""
    sums: dict[tuple[int, str], int] = defaultdict(int)
    for row in rows:
        amount = int(row["amount"])
        sums[(int(row["debit_owner"]), row["debit_account"])] -= amount
        sums[(int(row["credit_owner"]), row["credit_account"])] += amount
    return dict(sums)


async def account_balances(store: Storage, guild_id: int) -> dict[tuple[int, str], int]:
    def read(conn: sqlite3.Connection) -> dict[tuple[int, str], int]:
        return {
            (int(owner), str(code)): int(balance)
            for owner, code, balance in conn.execute(
                "SELECT owner_id, code, balance FROM accounts WHERE guild_id = ?", (guild_id,)
            )
        }

    return await store.db.read(read)


# -- end to end (SimCord) ------------------------------------------------------------------------


async def cashouts_on(world: Community, *, minimum: int = 1_000, confirm: Sequence[Any] = ()) -> None:
    """Turn cash-outs on; the members in `confirm` have already passed the age gate."""
    economy = world.bot.economy
    await economy.set_config(world.guild.id, "cashouts", "on", actor_id=world.mod.id)
    await economy.set_config(world.guild.id, "cashout_minimum", str(minimum), actor_id=world.mod.id)
    for member in confirm:
        await world.bot.budgets.confirm_age(world.guild.id, Party(member.id, member.name))


async def earn_paid_diamonds(
    world: Community, creator: Any, diamonds: int, *, buyer: Any = None, mature: bool = True
) -> None:
    """`buyer` (Bob by default) buys 2 × `diamonds` coins and gifts them all to `creator`, who
    earns `diamonds` paid diamonds (the default 50% share); `mature` waits out the refund window."""
    buyer = buyer or world.bob
    _counter[0] += 1
    n = _counter[0]
    await buy_coins(
        world.bot.storage,
        guild_id=world.guild.id,
        user_id=buyer.id,
        coins=2 * diamonds,
        key=f"test-buy:{n}",
        at=world.env.now(),
    )
    rose = await world.bot.economy.find_gift(world.guild.id, "Rose")
    await world.bot.economy.send_gift(
        world.guild.id,
        Party(buyer.id, buyer.name),
        Party(creator.id, creator.name),
        rose,
        2 * diamonds,
        key=f"test-paid-gift:{n}",
    )
    if mature:
        window = (await world.bot.economy.config(world.guild.id)).refund_window_days
        await world.env.advance_time((window + 1) * DAY)


_counter = [0]

"""`giftbot forget GUILD USER`: the answer to a member's data-deletion request.

It shows what it will change, asks (unless --yes), then changes it in one transaction
(storage/forget.py). It is safe while the bot runs: the bot's next read sees the result.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

import discord

from storage import Storage
from storage.forget import FORGOTTEN_NAME, CannotForget, Forgotten, forget, planned

# What each kind of change means to an operator; keys as storage/forget.py reports them.
LABELS = {
    "accounts.owner_id": "wallets (coins and diamonds), kept under the tombstone",
    "entries.actor_id": "ledger entries they made, kept under the tombstone",
    "gift_events.sender_id": "gifts they sent, kept under the tombstone",
    "gift_events.creator_id": "gifts they received, kept under the tombstone",
    "leaderboard_totals.user_id": "leaderboard totals, kept under the tombstone",
    "leaderboard_totals.creator_id": "their supporters' leaderboard totals, kept under the tombstone",
    "spend_counters.user_id": "spend counters, recounted for the tombstone",
    "diamond_holds.creator_id": "diamonds in the refund window, kept under the tombstone",
    "purchases.user_id": "purchases, kept under the tombstone",
    "cashouts.creator_id": "cash-out requests, kept under the tombstone",
    "cashouts.decided_by": "cash-out decisions they made",
    "promotions.created_by": "promotions they created",
    "promotions.cancelled_by": "promotions they cancelled",
    "creators.added_by": "creators they added",
    "guild_setting_changes.actor_id": "setting changes they made",
    "outbox.payload": "queued audit posts naming them",
    "member_names": "stored name (deleted)",
    "member_prefs": "preferences (deleted)",
    "budgets": "spending limit (deleted)",
    "creators": "creator status and thank-you line (deleted)",
    "purchase_intents": "purchase intents (deleted)",
    "announcement_schedules": "automatic announcements (deleted)",
    "outbox": "messages owed to them (deleted)",
}


def _lines(changes: dict[str, int]) -> list[str]:
    return [f"  {rows:>7,}  {LABELS.get(name, name)}" for name, rows in changes.items()]


def run(database: Path, guild_id: int, user_id: int, *, yes: bool, ask: Callable[[str], str] = input) -> int:
    """0 when forgotten (or nothing was stored), 1 when the operator said no, 2 when refused."""
    if not database.is_file():
        print(f"giftbot: there is no database at {database}", file=sys.stderr)
        return 2
    try:
        changes = asyncio.run(_planned(database, guild_id, user_id))
    except (CannotForget, RuntimeError) as exc:  # RuntimeError: a database from a newer giftbot
        print(f"giftbot: {exc}", file=sys.stderr)
        return 2
    who = f"member {user_id} in server {guild_id}"
    if not changes:
        print(f"giftbot forget: nothing is stored about {who} in {database}; nothing to do.")
        return 0
    print(f"giftbot forget: {who} ({database}). Rows to change:")
    print("\n".join(_lines(changes)))
    if not yes:
        print(
            f"Their balances, gifts and ranks stay in the books under a new id shown as "
            f'"{FORGOTTEN_NAME}"; their id, name and settings go. This cannot be undone.'
        )
        try:
            answer = ask("Forget this member? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in {"y", "yes"}:
            print("Nothing was changed.")
            return 1
    done = asyncio.run(_forget(database, guild_id, user_id))
    if done.tombstone is None:  # forgotten by someone else between the preview and now
        print(f"giftbot forget: nothing is stored about {who} any more; nothing to do.")
        return 0
    print(f"Forgot {who}: {done.rows:,} rows changed; from now on they appear as tombstone {done.tombstone}.")
    print("\n".join(_lines(done.changed)))
    return 0


async def _planned(database: Path, guild_id: int, user_id: int) -> dict[str, int]:
    store = Storage(database)
    try:
        await store.open()
        return await planned(store, guild_id=guild_id, user_id=user_id)
    finally:
        await store.close()


async def _forget(database: Path, guild_id: int, user_id: int) -> Forgotten:
    store = Storage(database)
    try:
        await store.open()
        return await forget(store, guild_id=guild_id, user_id=user_id, at=discord.utils.utcnow())
    finally:
        await store.close()

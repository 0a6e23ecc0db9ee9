"""Money-moving units of work: each runs whole inside one transaction (or savepoint)."""

from __future__ import annotations

import sqlite3

from bot.economy.clock import from_millis
from bot.economy.errors import EconomyError, GiftDisabled, NotACreator, UnknownGift
from bot.economy.models import Currency, EntryKind, GiftItem, GiftReceipt, Receipt
from bot.economy.money import gift_cost, split_gift

from . import ledger, rollups
from .catalogue_ops import gift_from_row


class NothingToRevoke(EconomyError):
    def __init__(self) -> None:
        super().__init__("That member has no coins to revoke.")


def _replayed_receipt(conn: sqlite3.Connection, entry_id: int, guild_id: int, user_id: int) -> Receipt:
    amount, created_at = conn.execute(
        "SELECT COALESCE(SUM(amount), 0), MIN(created_at) FROM transfers WHERE entry_id = ?", (entry_id,)
    ).fetchone()
    return Receipt(
        entry_id=entry_id,
        amount=int(amount),
        balance=ledger.member_balance(conn, guild_id, user_id, "coins"),
        created_at=from_millis(int(created_at)) if created_at is not None else from_millis(0),
        replayed=True,
    )


def grant(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    user_id: int,
    amount: int,
    actor_id: int,
    reason: str,
    key: str,
    at_ms: int,
) -> Receipt:
    """Promo coins: promo issuer → member."""
    if (existing := ledger.find_entry(conn, key, EntryKind.GRANT)) is not None:
        return _replayed_receipt(conn, existing, guild_id, user_id)
    ledger.ensure_guild(conn, guild_id, at_ms)
    wallet = ledger.member_account(conn, guild_id, user_id, "coins", at_ms)
    promo = ledger.system_account(conn, guild_id, "promo_issuer")
    entry_id = ledger.post_entry(
        conn,
        guild_id=guild_id,
        key=key,
        kind=EntryKind.GRANT,
        actor_id=actor_id,
        reason=reason,
        at_ms=at_ms,
        legs=[ledger.Leg("coins", promo, wallet, amount, Currency.COIN)],
    )
    return Receipt(entry_id, amount, ledger.balance(conn, wallet), from_millis(at_ms))


def revoke(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    user_id: int,
    amount: int,
    actor_id: int,
    reason: str,
    key: str,
    at_ms: int,
) -> Receipt:
    """Take coins back (member → promo issuer), never below zero: at most the balance."""
    if (existing := ledger.find_entry(conn, key, EntryKind.REVOKE)) is not None:
        return _replayed_receipt(conn, existing, guild_id, user_id)
    ledger.ensure_guild(conn, guild_id, at_ms)
    wallet = ledger.member_account(conn, guild_id, user_id, "coins", at_ms)
    taken = min(amount, ledger.balance(conn, wallet))
    if taken <= 0:
        raise NothingToRevoke()
    promo = ledger.system_account(conn, guild_id, "promo_issuer")
    entry_id = ledger.post_entry(
        conn,
        guild_id=guild_id,
        key=key,
        kind=EntryKind.REVOKE,
        actor_id=actor_id,
        reason=reason,
        at_ms=at_ms,
        legs=[ledger.Leg("coins", wallet, promo, taken, Currency.COIN)],
    )
    return Receipt(entry_id, taken, ledger.balance(conn, wallet), from_millis(at_ms))


def _gift_receipt(conn: sqlite3.Connection, entry_id: int, *, replayed: bool) -> GiftReceipt:
    row = conn.execute(
        "SELECT g.sender_id, g.creator_id, g.count, g.coins, g.diamonds, g.created_at, g.guild_id, "
        "c.id, c.guild_id, c.name, c.emoji, c.price, c.enabled, c.comboable "
        "FROM gift_events g JOIN catalogue c ON c.id = g.gift_id WHERE g.entry_id = ?",
        (entry_id,),
    ).fetchone()
    sender_id, creator_id, count, coins, diamonds, created_at, guild_id = row[:7]
    gift = gift_from_row(row[7:])
    return GiftReceipt(
        entry_id=entry_id,
        gift=gift,
        count=count,
        coins=coins,
        diamonds=diamonds,
        platform_coins=coins - diamonds,
        sender_id=sender_id,
        creator_id=creator_id,
        sender_balance=ledger.member_balance(conn, guild_id, sender_id, "coins"),
        created_at=from_millis(created_at),
        replayed=replayed,
    )


def send_gift(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    sender_id: int,
    sender_name: str,
    creator_id: int,
    creator_name: str,
    gift_id: int,
    count: int,
    share_percent: int,
    channel_id: int | None,
    key: str,
    at_ms: int,
    timezone: str = "UTC",
) -> GiftReceipt:
    """The sender pays price × count; the creator gets the share as diamonds; the platform the rest.

    The gift's price, whether it is enabled and whether the recipient is a creator are all read
    inside the transaction, so a concurrent catalogue edit cannot be half-applied.
    """
    if (existing := ledger.find_entry(conn, key, EntryKind.GIFT)) is not None:
        return _gift_receipt(conn, existing, replayed=True)
    ledger.ensure_guild(conn, guild_id, at_ms)
    row = conn.execute(
        "SELECT id, guild_id, name, emoji, price, enabled, comboable FROM catalogue "
        "WHERE id = ? AND guild_id = ?",
        (gift_id, guild_id),
    ).fetchone()
    if row is None:
        raise UnknownGift(str(gift_id))
    gift: GiftItem = gift_from_row(row)
    if not gift.enabled:
        raise GiftDisabled(gift.name)
    if not conn.execute(
        "SELECT 1 FROM creators WHERE guild_id = ? AND user_id = ?", (guild_id, creator_id)
    ).fetchone():
        raise NotACreator(creator_name)
    split = split_gift(gift_cost(gift.price, count), share_percent)

    wallet = ledger.member_account(conn, guild_id, sender_id, "coins", at_ms)
    creator_diamonds = ledger.member_account(conn, guild_id, creator_id, "diamonds", at_ms)
    sink = ledger.system_account(conn, guild_id, "gift_sink")
    legs = [ledger.Leg("coins", wallet, sink, split.coins, Currency.COIN)]
    if split.platform_coins:
        fee = ledger.system_account(conn, guild_id, "platform_fee")
        legs.append(ledger.Leg("platform", sink, fee, split.platform_coins, Currency.COIN))
    if split.diamonds:
        issuer = ledger.system_account(conn, guild_id, "diamond_issuer")
        legs.append(ledger.Leg("diamonds", issuer, creator_diamonds, split.diamonds, Currency.DIAMOND))
    entry_id = ledger.post_entry(
        conn,
        guild_id=guild_id,
        key=key,
        kind=EntryKind.GIFT,
        actor_id=sender_id,
        reason=None,
        at_ms=at_ms,
        legs=legs,
    )
    conn.execute(
        "INSERT INTO gift_events (entry_id, guild_id, sender_id, creator_id, gift_id, gift_name, "
        "gift_emoji, unit_price, count, coins, diamonds, channel_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry_id,
            guild_id,
            sender_id,
            creator_id,
            gift.id,
            gift.name,
            gift.emoji,
            gift.price,
            count,
            split.coins,
            split.diamonds,
            channel_id,
            at_ms,
        ),
    )
    remember_names(conn, guild_id, {sender_id: sender_name, creator_id: creator_name}, at_ms)
    rollups.add_gift(
        conn,
        guild_id=guild_id,
        sender_id=sender_id,
        creator_id=creator_id,
        coins=split.coins,
        diamonds=split.diamonds,
        entry_id=entry_id,
        at_ms=at_ms,
        timezone=timezone,
    )
    return GiftReceipt(
        entry_id=entry_id,
        gift=gift,
        count=count,
        coins=split.coins,
        diamonds=split.diamonds,
        platform_coins=split.platform_coins,
        sender_id=sender_id,
        creator_id=creator_id,
        sender_balance=ledger.balance(conn, wallet),
        created_at=from_millis(at_ms),
    )


def remember_names(conn: sqlite3.Connection, guild_id: int, names: dict[int, str], at_ms: int) -> None:
    conn.executemany(
        "INSERT INTO member_names (guild_id, user_id, name, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET name = excluded.name, "
        "updated_at = excluded.updated_at",
        [(guild_id, user_id, name[:100], at_ms) for user_id, name in names.items()],
    )

"""Money-moving units of work: each runs whole inside one transaction (or savepoint)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.economy.budget import Budget, BudgetExceeded, GiftTooLarge, SpendCheck, SpendPolicy, check_spend
from bot.economy.clock import from_millis
from bot.economy.errors import EconomyError, GiftDisabled, InsufficientCoins, NotACreator, UnknownGift
from bot.economy.models import Currency, EntryKind, GiftItem, GiftReceipt, Receipt
from bot.economy.money import gift_cost, split_gift, tag_gift

from . import audit_trail, budget_ops, holds, ledger, rollups
from . import batch as batches
from .batch import Batch, joins_batches
from .catalogue_ops import gift_from_row


class NothingToRevoke(EconomyError):
    def __init__(self) -> None:
        super().__init__("That member has no promo coins to revoke (bought coins can't be revoked).")


def _replayed_receipt(conn: sqlite3.Connection, entry_id: int, guild_id: int, user_id: int) -> Receipt:
    amount, created_at = conn.execute(
        "SELECT COALESCE(SUM(amount), 0), MIN(created_at) FROM transfers WHERE entry_id = ?", (entry_id,)
    ).fetchone()
    return Receipt(
        entry_id=entry_id,
        amount=int(amount),
        balance=sum(ledger.wallet_coins(conn, guild_id, user_id)),
        created_at=from_millis(int(created_at)) if created_at is not None else from_millis(0),
        replayed=True,
    )


def promo_transfer(
    conn: sqlite3.Connection,
    *,
    kind: EntryKind,
    guild_id: int,
    user_id: int,
    amount: int,
    actor_id: int,
    reason: str,
    key: str,
    at_ms: int,
) -> Receipt:
    """Promo coins in or out: a grant moves promo issuer → member; a revoke moves member →
    promo issuer, at most the member's promo coins, so a wallet never goes below zero and a
    moderator can never take back coins the member bought."""
    if kind not in (EntryKind.GRANT, EntryKind.REVOKE):
        raise ValueError(f"{kind} is not a promo transfer")
    if (existing := ledger.find_entry(conn, key, kind)) is not None:
        return _replayed_receipt(conn, existing, guild_id, user_id)
    ledger.ensure_guild(conn, guild_id, at_ms)
    wallet = ledger.member_account(conn, guild_id, user_id, "coins_promo", at_ms)
    promo = ledger.system_account(conn, guild_id, "promo_issuer")
    if kind is EntryKind.GRANT:
        leg = ledger.Leg("coins", promo, wallet, amount, Currency.COIN)
    else:
        taken = min(amount, ledger.balance(conn, wallet))
        if taken <= 0:
            raise NothingToRevoke()
        leg = ledger.Leg("coins", wallet, promo, taken, Currency.COIN)
    entry_id = ledger.post_entry(
        conn, guild_id=guild_id, key=key, kind=kind, actor_id=actor_id, reason=reason, at_ms=at_ms, legs=[leg]
    )
    audit_trail.owe_audit(
        conn,
        guild_id=guild_id,
        event=kind.value,
        dedupe_key=f"entry:{entry_id}",
        actor_id=actor_id,
        subject_id=user_id,
        amount=leg.amount,
        currency=Currency.COIN.value,
        reason=reason,
        entry_id=entry_id,
        at_ms=at_ms,
    )
    return Receipt(
        entry_id, leg.amount, sum(ledger.wallet_coins(conn, guild_id, user_id)), from_millis(at_ms)
    )


def _gift_receipt(conn: sqlite3.Connection, entry_id: int, *, replayed: bool, batch: Batch) -> GiftReceipt:
    row = conn.execute(
        "SELECT g.sender_id, g.creator_id, g.count, g.coins, g.diamonds, g.created_at, g.guild_id, "
        "g.paid_coins, g.paid_diamonds, c.id, c.guild_id, c.name, c.emoji, c.price, c.enabled, c.comboable "
        "FROM gift_events g JOIN catalogue c ON c.id = g.gift_id WHERE g.entry_id = ?",
        (entry_id,),
    ).fetchone()
    if row is None and (event := batch.pending_gift_event(entry_id)) is not None:
        # Sent earlier in this same batch: its event is still held back (storage/batch.py).
        gift_row = _catalogue_row(conn, event[1], event[4])
        assert gift_row is not None
        row = (
            event[2],
            event[3],
            event[8],
            event[9],
            event[10],
            event[12],
            event[1],
            event[13],
            event[14],
            *gift_row,
        )
    sender_id, creator_id, count, coins, diamonds, created_at, guild_id, paid_coins, paid_diamonds = row[:9]
    gift = gift_from_row(row[9:])
    return GiftReceipt(
        entry_id=entry_id,
        gift=gift,
        count=count,
        coins=coins,
        diamonds=diamonds,
        platform_coins=coins - diamonds,
        sender_id=sender_id,
        creator_id=creator_id,
        sender_balance=sum(ledger.wallet_coins(conn, guild_id, sender_id)),
        created_at=from_millis(created_at),
        replayed=replayed,
        paid_coins=paid_coins,
        paid_diamonds=paid_diamonds,
    )


def _catalogue_row(conn: sqlite3.Connection, guild_id: int, gift_id: int) -> tuple[Any, ...] | None:
    return conn.execute(
        "SELECT id, guild_id, name, emoji, price, enabled, comboable FROM catalogue "
        "WHERE id = ? AND guild_id = ?",
        (gift_id, guild_id),
    ).fetchone()


def _is_creator(conn: sqlite3.Connection, guild_id: int, user_id: int) -> bool:
    found = conn.execute("SELECT 1 FROM creators WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
    return found.fetchone() is not None


# The common case in one statement: the whole price comes out of promo coins. The conditional
# UPDATE is the balance check, and RETURNING hands back the account and both balances.
_SPEND_PROMO = (
    "UPDATE accounts SET balance = balance - ? "
    "WHERE guild_id = ? AND owner_id = ? AND code = 'coins_promo' AND balance >= ? "
    "RETURNING id, balance, (SELECT p.balance FROM accounts p "
    "WHERE p.guild_id = accounts.guild_id AND p.owner_id = accounts.owner_id AND p.code = 'coins_paid')"
)


@joins_batches
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
    policy: SpendPolicy | None = None,
    hold_days: int = 14,
) -> GiftReceipt:
    """The sender pays price × count; the creator gets the share as diamonds; the platform the rest.

    The gift's price, whether it is enabled and whether the recipient is a creator are all read
    inside the transaction, so a concurrent catalogue edit cannot be half-applied. Inside group
    commit the gift joins the batch (storage/batch.py); called on its own it writes everything
    before returning.
    """
    gift = _Gift(
        guild_id=guild_id,
        sender_id=sender_id,
        sender_name=sender_name,
        creator_id=creator_id,
        creator_name=creator_name,
        gift_id=gift_id,
        count=count,
        share_percent=share_percent,
        channel_id=channel_id,
        key=key,
        at_ms=at_ms,
        policy=policy or SpendPolicy(),
        hold_days=hold_days,
    )
    batch = batches.current()
    if batch is None:
        with Batch(conn) as alone:
            return _send(conn, alone, gift)
    return _send(conn, batch, gift)


@dataclass(frozen=True, slots=True)
class _Gift:
    guild_id: int
    sender_id: int
    sender_name: str
    creator_id: int
    creator_name: str
    gift_id: int
    count: int
    share_percent: int
    channel_id: int | None
    key: str
    at_ms: int
    policy: SpendPolicy
    hold_days: int


def _send(conn: sqlite3.Connection, batch: Batch, g: _Gift) -> GiftReceipt:
    guild_id, sender_id, creator_id, at_ms = g.guild_id, g.sender_id, g.creator_id, g.at_ms
    # The entry first: its UNIQUE key is the replay check. A refusal below rolls it back.
    entry_id = ledger.insert_entry(
        conn, guild_id=guild_id, key=g.key, kind=EntryKind.GIFT, actor_id=sender_id, reason=None, at_ms=at_ms
    )
    if entry_id is None:
        existing = ledger.find_entry(conn, g.key, EntryKind.GIFT)  # refuses a key of another kind
        assert existing is not None
        return _gift_receipt(conn, existing, replayed=True, batch=batch)
    # No ensure_guild here: the gift must be in this guild's catalogue, which exists only once
    # the guild's books were opened, so a gift never needs to open them.
    # Read in the transaction, not passed in: a timezone change committed a moment ago
    # re-bucketed every rollup, and this gift must land in the new buckets too.
    timezone = batch.lookup(("timezone", guild_id), lambda: rollups.guild_timezone(conn, guild_id))
    row = batch.lookup(("gift", guild_id, g.gift_id), lambda: _catalogue_row(conn, guild_id, g.gift_id))
    if row is None:
        raise UnknownGift(str(g.gift_id))
    gift: GiftItem = gift_from_row(row)
    if not gift.enabled:
        raise GiftDisabled(gift.name)
    if not batch.lookup(("creator", guild_id, creator_id), lambda: _is_creator(conn, guild_id, creator_id)):
        raise NotACreator(g.creator_name)
    split = split_gift(gift_cost(gift.price, g.count), g.share_percent)
    if g.policy.max_gift_coins is not None and split.coins > g.policy.max_gift_coins:
        raise GiftTooLarge(coins=split.coins, maximum=g.policy.max_gift_coins)
    spend = _check_budget(conn, batch, guild_id, sender_id, split.coins, at_ms, timezone, g.policy)

    system = batch.lookup(("system", guild_id), lambda: ledger.system_accounts(conn, guild_id))
    sink = system["gift_sink"]
    legs: list[ledger.Leg] = []
    spent = conn.execute(_SPEND_PROMO, (split.coins, guild_id, sender_id, split.coins)).fetchone()
    if spent is not None:  # all promo
        wallet, promo_after, paid_after = spent
        balance_after = promo_after + (paid_after or 0)
        tagged = tag_gift(split, promo_available=split.coins, share_percent=g.share_percent)
        legs.append(ledger.Leg("coins", wallet, sink, split.coins, Currency.COIN))
    else:
        promo_coins, paid_coins = ledger.wallet_coins(conn, guild_id, sender_id)
        if promo_coins + paid_coins < split.coins:
            raise InsufficientCoins(balance=promo_coins + paid_coins, needed=split.coins)
        tagged = tag_gift(split, promo_available=promo_coins, share_percent=g.share_percent)
        balance_after = promo_coins + paid_coins - split.coins
        # Promo legs keep the names they had before coins were tagged ("coins", "diamonds").
        for name, code, amount in (
            ("coins", "coins_promo", tagged.promo_coins),
            ("paid_coins", "coins_paid", tagged.paid_coins),
        ):
            if amount:
                account = ledger.member_account(conn, guild_id, sender_id, code, at_ms)
                ledger.debit(conn, account, amount, Currency.COIN)
                legs.append(ledger.Leg(name, account, sink, amount, Currency.COIN))
    batch.add("balance", sink, split.coins)
    if split.platform_coins:
        fee = system["platform_fee"]
        legs.append(ledger.Leg("platform", sink, fee, split.platform_coins, Currency.COIN))
        batch.add("balance", sink, -split.platform_coins)
        batch.add("balance", fee, split.platform_coins)
    if split.diamonds:
        issuer = system["diamond_issuer"]
        batch.add("balance", issuer, -split.diamonds)
        for name, code, amount in (
            ("diamonds", "diamonds_promo", tagged.promo_diamonds),
            ("paid_diamonds", "diamonds_paid", tagged.paid_diamonds),
        ):
            if amount:
                account = batch.lookup(
                    ("account", guild_id, creator_id, code),
                    partial(ledger.member_account, conn, guild_id, creator_id, code, at_ms),
                )
                legs.append(ledger.Leg(name, issuer, account, amount, Currency.DIAMOND))
                batch.add("balance", account, amount)
    for leg in legs:
        batch.add(
            "transfer",
            (
                entry_id,
                f"{g.key}#{leg.name}",
                guild_id,
                leg.currency.value,
                leg.debit_account_id,
                leg.credit_account_id,
                leg.amount,
                at_ms,
            ),
        )
    batch.add_gift(
        (
            entry_id,
            guild_id,
            sender_id,
            creator_id,
            gift.id,
            gift.name,
            gift.emoji,
            gift.price,
            g.count,
            split.coins,
            split.diamonds,
            g.channel_id,
            at_ms,
            tagged.paid_coins,
            tagged.paid_diamonds,
        ),
        timezone=timezone,
        spend_timezone=spend.timezone,
    )
    if tagged.paid_diamonds:
        batch.add("hold", (guild_id, creator_id, holds.maturity(at_ms, g.hold_days)), tagged.paid_diamonds)
    batch.add("name", guild_id, sender_id, g.sender_name[:100], at_ms)
    batch.add("name", guild_id, creator_id, g.creator_name[:100], at_ms)
    _owe_reminders(
        conn, guild_id, sender_id, spend, entry_id, balance_after + split.coins, balance_after, at_ms
    )
    return GiftReceipt(
        entry_id=entry_id,
        gift=gift,
        count=g.count,
        coins=split.coins,
        diamonds=split.diamonds,
        platform_coins=split.platform_coins,
        sender_id=sender_id,
        creator_id=creator_id,
        sender_balance=balance_after,
        created_at=from_millis(at_ms),
        over_budget=spend.check.over_soft_limit,
        paid_coins=tagged.paid_coins,
        paid_diamonds=tagged.paid_diamonds,
    )


@dataclass(frozen=True, slots=True)
class _Spend:
    coins: int
    budget: Budget | None
    bucket: int
    spent_before: int
    check: SpendCheck
    timezone: str
    low_balance_below: int | None


def _check_budget(
    conn: sqlite3.Connection,
    batch: Batch,
    guild_id: int,
    sender_id: int,
    coins: int,
    at_ms: int,
    guild_timezone: str,
    policy: SpendPolicy,
) -> _Spend:
    """The budget check, in the gift's transaction: concurrent gifts can never overshoot, and
    gifts earlier in the same batch count although their counters are not written yet."""
    prefs, stored = batch.lookup(
        ("spending", guild_id, sender_id, policy.default_budget),
        lambda: budget_ops.spending_rules(conn, guild_id, sender_id, policy.default_budget),
    )
    timezone = prefs.timezone or guild_timezone
    budget = stored.state.effective(from_millis(at_ms))
    bucket = spent_before = 0
    if budget is not None:
        bucket = rollups.buckets(at_ms, timezone)[budget.period]
        spent_before = budget_ops.spent(conn, guild_id, sender_id, budget.period, bucket)
        spent_before += batch.pending_spend((guild_id, sender_id, budget.period.value, bucket))
    check = check_spend(budget, spent_before=spent_before, coins=coins, thresholds=stored.thresholds)
    if budget is not None and not check.allowed:
        raise BudgetExceeded(
            remaining=max(0, budget.limit - spent_before),
            limit=budget.limit,
            period=budget.period,
            needed=coins,
        )
    return _Spend(coins, budget, bucket, spent_before, check, timezone, prefs.low_balance_below)


def _owe_reminders(
    conn: sqlite3.Connection,
    guild_id: int,
    sender_id: int,
    spend: _Spend,
    entry_id: int,
    balance_before: int,
    balance_after: int,
    at_ms: int,
) -> None:
    """Reminders this gift made due, written to the outbox in the gift's own transaction."""
    budget = spend.budget
    if budget is not None:
        for threshold in spend.check.crossed:
            budget_ops.owe_reminder(
                conn,
                guild_id=guild_id,
                user_id=sender_id,
                kind="budget_threshold",
                dedupe_key=f"budget:{guild_id}:{sender_id}:{budget.period.value}:{spend.bucket}:{threshold}",
                payload={
                    "threshold": threshold,
                    "spent": spend.spent_before + spend.coins,
                    "limit": budget.limit,
                    "period": budget.period.value,
                    "mode": budget.mode.value,
                    "period_start": spend.bucket,
                },
                at_ms=at_ms,
            )
    floor = spend.low_balance_below
    if floor is not None and balance_before >= floor > balance_after:
        budget_ops.owe_reminder(
            conn,
            guild_id=guild_id,
            user_id=sender_id,
            kind="low_balance",
            dedupe_key=f"low-balance:{guild_id}:{sender_id}:{entry_id}",
            payload={"balance": balance_after, "below": floor},
            at_ms=at_ms,
        )


def remember_names(conn: sqlite3.Connection, guild_id: int, names: dict[int, str], at_ms: int) -> None:
    conn.executemany(
        "INSERT INTO member_names (guild_id, user_id, name, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET name = excluded.name, "
        "updated_at = excluded.updated_at",
        [(guild_id, user_id, name[:100], at_ms) for user_id, name in names.items()],
    )

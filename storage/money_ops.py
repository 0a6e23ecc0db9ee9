"""Money-moving units of work: each runs whole inside one transaction (or savepoint)."""

from __future__ import annotations

import sqlite3
from contextlib import nullcontext
from typing import Any

from bot.economy.budget import Budget, BudgetExceeded, GiftTooLarge, SpendCheck, SpendPolicy, check_spend
from bot.economy.clock import from_millis
from bot.economy.errors import EconomyError, GiftDisabled, InsufficientCoins, NotACreator, UnknownGift
from bot.economy.models import Currency, EntryKind, GiftItem, GiftReceipt, Receipt
from bot.economy.money import gift_cost, split_gift, tag_gift
from bot.economy.periods import Period

from . import audit_trail, budget_ops, gift_prefetch, holds, ledger, rollups
from . import batch as batches
from .batch import Batch, joins_batches, prefetched_by
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
    event = batch.pending_gift_event(entry_id)
    if event is not None:  # sent earlier in this same batch: its event is still held back
        sender_id, creator_id, count, coins, diamonds = event[2], event[3], event[8], event[9], event[10]
        created_at, guild_id, paid_coins, paid_diamonds = event[12], event[1], event[13], event[14]
        gift = batch.known.get(("gift", guild_id, event[4])) or _catalogue_gift(conn, guild_id, event[4])
    else:
        row = conn.execute(
            "SELECT g.sender_id, g.creator_id, g.count, g.coins, g.diamonds, g.created_at, g.guild_id, "
            "g.paid_coins, g.paid_diamonds, c.id, c.guild_id, c.name, c.emoji, c.price, c.enabled, "
            "c.comboable FROM gift_events g JOIN catalogue c ON c.id = g.gift_id WHERE g.entry_id = ?",
            (entry_id,),
        ).fetchone()
        sender_id, creator_id, count, coins, diamonds, created_at, guild_id = row[:7]
        paid_coins, paid_diamonds, gift = row[7], row[8], gift_from_row(row[9:])
    assert gift is not None
    _, promo, _, paid = gift_prefetch.wallet(conn, batch, guild_id, sender_id)  # with the batch's debits
    return GiftReceipt(
        entry_id=entry_id,
        gift=gift,
        count=count,
        coins=coins,
        diamonds=diamonds,
        platform_coins=coins - diamonds,
        sender_id=sender_id,
        creator_id=creator_id,
        sender_balance=promo + paid,
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


def _catalogue_gift(conn: sqlite3.Connection, guild_id: int, gift_id: int) -> GiftItem | None:
    row = _catalogue_row(conn, guild_id, gift_id)
    return None if row is None else gift_from_row(row)


def _is_creator(conn: sqlite3.Connection, guild_id: int, user_id: int) -> bool:
    found = conn.execute("SELECT 1 FROM creators WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
    return found.fetchone() is not None


_NO_POLICY = SpendPolicy()
_NO_BUDGET = check_spend(None, spent_before=0, coins=1)  # the same for any spend
_COIN, _DIAMOND, _GIFT = Currency.COIN.value, Currency.DIAMOND.value, EntryKind.GIFT.value


@joins_batches
@prefetched_by(gift_prefetch.prefetch)
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
    commit the gift joins the batch (storage/batch.py): it reads what the batch prefetched and
    holds back its writes, so in the common case it runs no SQL at all. Called on its own it
    writes everything before returning.
    """
    batch = batches.current()
    with Batch(conn) if batch is None else nullcontext(batch) as current:
        return _send(
            conn, current, guild_id, sender_id, sender_name, creator_id, creator_name, gift_id, count,
            share_percent, channel_id, key, at_ms, policy or _NO_POLICY, hold_days,
        )  # fmt: skip


def _send(
    conn: sqlite3.Connection,
    batch: Batch,
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
    policy: SpendPolicy,
    hold_days: int,
) -> GiftReceipt:
    # The replay check: a key written before, or by a gift earlier in this batch. Lookups read
    # what the batch prefetched (storage/gift_prefetch.py), or read it themselves.
    existing = batch.keys.get(key)
    if existing is None:
        found = batch.lookup(("entry", key), gift_prefetch.entry, conn, key)
        if found is not None:
            if found[1] != _GIFT:
                raise ledger.KeyReused(key, found[1])
            existing = found[0]
    if existing is not None:
        return _gift_receipt(conn, existing, replayed=True, batch=batch)
    # No ensure_guild here: the gift must be in this guild's catalogue, which exists only once
    # the guild's books were opened, so a gift never needs to open them.
    # Read in the transaction, not passed in: a timezone change committed a moment ago
    # re-bucketed every rollup, and this gift must land in the new buckets too.
    timezone = batch.lookup(("timezone", guild_id), rollups.guild_timezone, conn, guild_id)
    gift = batch.lookup(("gift", guild_id, gift_id), _catalogue_gift, conn, guild_id, gift_id)
    if gift is None:
        raise UnknownGift(str(gift_id))
    if not gift.enabled:
        raise GiftDisabled(gift.name)
    if not batch.lookup(("creator", guild_id, creator_id), _is_creator, conn, guild_id, creator_id):
        raise NotACreator(creator_name)
    split = split_gift(gift_cost(gift.price, count), share_percent)
    coins = split.coins
    if policy.max_gift_coins is not None and coins > policy.max_gift_coins:
        raise GiftTooLarge(coins=coins, maximum=policy.max_gift_coins)
    spend = _check_budget(conn, batch, guild_id, sender_id, coins, at_ms, timezone, policy)
    check, own_timezone = spend[3], spend[4]

    system = batch.lookup(("system", guild_id), ledger.system_accounts, conn, guild_id)
    sink = system["gift_sink"]
    # The balance check: the wallet as read in this transaction, less what earlier gifts of the
    # batch took. Promo coins are spent first.
    promo_account, promo, paid_account, paid = gift_prefetch.wallet(conn, batch, guild_id, sender_id)
    if promo + paid < coins:
        raise InsufficientCoins(balance=promo + paid, needed=coins)
    tagged = tag_gift(split, promo_available=promo, share_percent=share_percent)
    # Buckets before anything is written: a bad timezone fails this gift alone.
    starts = rollups.buckets(at_ms, timezone)
    # Spend counters only for a member who keeps their own timezone (storage/budget_ops.py).
    spend_starts = None if own_timezone is None else rollups.buckets(at_ms, own_timezone)

    entry_id = batch.take_entry_id()
    transfers: list[tuple[Any, ...]] = []
    moves: list[tuple[int, int]] = [(sink, coins)]
    # Promo legs keep the names they had before coins were tagged ("coins", "diamonds").
    if tagged.promo_coins:
        assert promo_account is not None
        transfers.append(
            (entry_id, f"{key}#coins", guild_id, _COIN, promo_account, sink, tagged.promo_coins, at_ms)
        )
        moves.append((promo_account, -tagged.promo_coins))
    if tagged.paid_coins:
        assert paid_account is not None
        transfers.append(
            (entry_id, f"{key}#paid_coins", guild_id, _COIN, paid_account, sink, tagged.paid_coins, at_ms)
        )
        moves.append((paid_account, -tagged.paid_coins))
    if split.platform_coins:
        fee = system["platform_fee"]
        transfers.append(
            (entry_id, f"{key}#platform", guild_id, _COIN, sink, fee, split.platform_coins, at_ms)
        )
        moves.append((sink, -split.platform_coins))
        moves.append((fee, split.platform_coins))
    if split.diamonds:
        issuer = system["diamond_issuer"]
        moves.append((issuer, -split.diamonds))
        for name, code, amount in (
            ("diamonds", "diamonds_promo", tagged.promo_diamonds),
            ("paid_diamonds", "diamonds_paid", tagged.paid_diamonds),
        ):
            if amount:
                # opened on the creator's first diamonds of this kind
                account = batch.lookup(
                    ("account", guild_id, creator_id, code),
                    ledger.member_account,
                    conn,
                    guild_id,
                    creator_id,
                    code,
                    at_ms,
                )
                transfers.append(
                    (entry_id, f"{key}#{name}", guild_id, _DIAMOND, issuer, account, amount, at_ms)
                )
                moves.append((account, amount))
    balance_after = promo + paid - coins
    _owe_reminders(
        conn, guild_id, sender_id, spend, coins, entry_id, balance_after + coins, balance_after, at_ms
    )
    batch.add_gift(
        (entry_id, guild_id, key, _GIFT, sender_id, None, at_ms),
        transfers,
        moves,
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
            coins,
            split.diamonds,
            channel_id,
            at_ms,
            tagged.paid_coins,
            tagged.paid_diamonds,
        ),
        starts,
        spend_starts,
        (
            ((guild_id, creator_id, holds.maturity(at_ms, hold_days)), tagged.paid_diamonds)
            if tagged.paid_diamonds
            else None
        ),
        (promo_account, promo - tagged.promo_coins, paid_account, paid - tagged.paid_coins),
        (sender_name[:100], creator_name[:100]),
    )
    return GiftReceipt(
        entry_id=entry_id,
        gift=gift,
        count=count,
        coins=coins,
        diamonds=split.diamonds,
        platform_coins=split.platform_coins,
        sender_id=sender_id,
        creator_id=creator_id,
        sender_balance=balance_after,
        created_at=from_millis(at_ms),
        over_budget=check.over_soft_limit,
        paid_coins=tagged.paid_coins,
        paid_diamonds=tagged.paid_diamonds,
    )


# (budget, its bucket, spent before, the check, the member's timezone, their low-balance floor)
_Spend = tuple[Budget | None, int, int, SpendCheck, str | None, int | None]  # (…, own timezone, …)


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
    rules_key = ("spending", guild_id, sender_id, policy.default_budget)
    prefs, stored = batch.lookup(
        rules_key, budget_ops.spending_rules, conn, guild_id, sender_id, policy.default_budget
    )
    own = prefs.timezone
    state = stored.state
    budget = state.current if state.pending_from is None else state.effective(from_millis(at_ms))
    if budget is None:
        return (None, 0, 0, _NO_BUDGET, own, prefs.low_balance_below)
    bucket = rollups.buckets(at_ms, own or guild_timezone)[budget.period]
    if own is None:  # their spending is their gifters score, in the guild's timezone
        scored = ("spent-score", guild_id, sender_id, budget.period, bucket)
        spent_before = batch.lookup(scored, _scored_spend, conn, guild_id, sender_id, budget.period, bucket)
        spent_before += batch.pending_score(guild_id, sender_id, budget.period, bucket)
    else:
        counter = (guild_id, sender_id, budget.period.value, bucket)
        spent_before = batch.lookup(
            ("spent", counter), _counted_spend, conn, guild_id, sender_id, budget.period, bucket
        )
        spent_before += batch.pending_spend(counter)
    check = check_spend(budget, spent_before=spent_before, coins=coins, thresholds=stored.thresholds)
    if not check.allowed:
        raise BudgetExceeded(
            remaining=max(0, budget.limit - spent_before),
            limit=budget.limit,
            period=budget.period,
            needed=coins,
        )
    return (budget, bucket, spent_before, check, own, prefs.low_balance_below)


def _scored_spend(conn: sqlite3.Connection, guild_id: int, user_id: int, period: Period, bucket: int) -> int:
    return budget_ops.spent(conn, guild_id, user_id, period, bucket, own_timezone=False)


def _counted_spend(conn: sqlite3.Connection, guild_id: int, user_id: int, period: Period, bucket: int) -> int:
    return budget_ops.spent(conn, guild_id, user_id, period, bucket, own_timezone=True)


def _owe_reminders(
    conn: sqlite3.Connection,
    guild_id: int,
    sender_id: int,
    spend: _Spend,
    coins: int,
    entry_id: int,
    balance_before: int,
    balance_after: int,
    at_ms: int,
) -> None:
    """Reminders this gift made due, written to the outbox in the gift's own transaction (at
    once: they come after the gift's last check, so a refusal never leaves one behind)."""
    budget, bucket, spent_before, check, _, floor = spend
    if budget is not None:
        for threshold in check.crossed:
            budget_ops.owe_reminder(
                conn,
                guild_id=guild_id,
                user_id=sender_id,
                kind="budget_threshold",
                dedupe_key=f"budget:{guild_id}:{sender_id}:{budget.period.value}:{bucket}:{threshold}",
                payload={
                    "threshold": threshold,
                    "spent": spent_before + coins,
                    "limit": budget.limit,
                    "period": budget.period.value,
                    "mode": budget.mode.value,
                    "period_start": bucket,
                },
                at_ms=at_ms,
            )
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
        "updated_at = excluded.updated_at WHERE member_names.name IS NOT excluded.name",
        [(guild_id, user_id, name[:100], at_ms) for user_id, name in names.items()],
    )

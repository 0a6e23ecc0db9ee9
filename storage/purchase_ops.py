"""Purchases: crediting a Discord entitlement once, the buyer's inbox, refunds and consumption.

Every entitlement gets one `purchases` row, whatever became of it. The row and the ledger entries
(`entitlement:<id>` for the bought coins, `entitlement:<id>:bonus` for a promotion's promo coins,
`refund:<id>` for a refund) are written in one transaction, so a crash between crediting and
consuming, or an entitlement delivered twice, never credits twice: the row is the proof.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from bot.economy.clock import from_millis, to_millis
from bot.economy.models import Currency, EntryKind
from bot.economy.packages import CoinPackage, Promotion, promotion_bonus
from bot.economy.purchases import Credit, NothingToClaim, NotSoldHere, Purchase, PurchaseStatus, Refund

from . import audit_trail, holds, ledger, package_ops

_PURCHASE = (
    "SELECT entitlement_id, user_id, sku_id, guild_id, package_id, coins, bonus_coins, promotion_id, "
    "entry_id, bonus_entry_id, status, purchased_at, credited_at, consumed_at, refunded_at, "
    "refund_entry_id, unrecovered FROM purchases "
)


def _ms(value: int | None) -> Any:
    return from_millis(value) if value is not None else None


def _purchase(row: tuple[Any, ...]) -> Purchase:
    return Purchase(
        entitlement_id=row[0],
        user_id=row[1],
        sku_id=row[2],
        guild_id=row[3],
        package_id=row[4],
        coins=row[5],
        bonus_coins=row[6],
        promotion_id=row[7],
        entry_id=row[8],
        bonus_entry_id=row[9],
        status=PurchaseStatus(row[10]),
        purchased_at=from_millis(row[11]),
        credited_at=_ms(row[12]),
        consumed_at=_ms(row[13]),
        refunded_at=_ms(row[14]),
        refund_entry_id=row[15],
        unrecovered=row[16],
    )


def purchase(conn: sqlite3.Connection, entitlement_id: int) -> Purchase | None:
    row = conn.execute(_PURCHASE + "WHERE entitlement_id = ?", (entitlement_id,)).fetchone()
    return _purchase(row) if row else None


def _coins(conn: sqlite3.Connection, guild_id: int, user_id: int) -> int:
    return sum(ledger.wallet_coins(conn, guild_id, user_id))


# -- intents -------------------------------------------------------------------------------------


def record_intents(
    conn: sqlite3.Connection, *, user_id: int, guild_id: int, sku_ids: Iterable[int], at_ms: int
) -> None:
    """The member saw these buy buttons in this guild: a purchase of one that arrives without a
    guild is credited here (the latest intent per SKU wins)."""
    conn.executemany(
        "INSERT INTO purchase_intents (user_id, sku_id, guild_id, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (user_id, sku_id) DO UPDATE SET guild_id = excluded.guild_id, "
        "created_at = excluded.created_at",
        [(user_id, sku_id, guild_id, at_ms) for sku_id in sku_ids],
    )


def intent_guild(conn: sqlite3.Connection, user_id: int, sku_id: int) -> int | None:
    row = conn.execute(
        "SELECT guild_id FROM purchase_intents WHERE user_id = ? AND sku_id = ?", (user_id, sku_id)
    ).fetchone()
    return int(row[0]) if row else None


# -- crediting -----------------------------------------------------------------------------------


def credit_purchase(
    conn: sqlite3.Connection,
    *,
    entitlement_id: int,
    user_id: int,
    sku_id: int,
    purchased_at_ms: int,
    at_ms: int,
    guild_id: int | None = None,
) -> Credit:
    """Credit an entitlement once. The guild is `guild_id` (the interaction it rode on), else the
    buyer's latest intent for the SKU, whichever sells it; with neither, the coins wait in the
    buyer's inbox. Already handled: the earlier outcome, not fresh."""
    found = purchase(conn, entitlement_id)
    if found is not None:
        return _replay(conn, found)
    candidates = [g for g in (guild_id, intent_guild(conn, user_id, sku_id)) if g is not None]
    for candidate in dict.fromkeys(candidates):
        package = package_ops.for_sku(conn, candidate, sku_id)
        if package is not None:
            return _credit(
                conn,
                entitlement_id=entitlement_id,
                user_id=user_id,
                sku_id=sku_id,
                guild_id=candidate,
                package=package,
                purchased_at_ms=purchased_at_ms,
                at_ms=at_ms,
                insert=True,
            )
    conn.execute(
        "INSERT INTO purchases (entitlement_id, user_id, sku_id, status, purchased_at) "
        "VALUES (?, ?, ?, 'inbox', ?)",
        (entitlement_id, user_id, sku_id, purchased_at_ms),
    )
    inbox = purchase(conn, entitlement_id)
    assert inbox is not None
    return Credit(inbox, fresh=True)


def _replay(conn: sqlite3.Connection, found: Purchase) -> Credit:
    if found.guild_id is None:
        return Credit(found, fresh=False)
    package = package_ops.package(conn, found.guild_id, found.package_id) if found.package_id else None
    promo = package_ops.promotion(conn, found.guild_id, found.promotion_id) if found.promotion_id else None
    return Credit(found, False, _coins(conn, found.guild_id, found.user_id), package, promo)


def _credit(
    conn: sqlite3.Connection,
    *,
    entitlement_id: int,
    user_id: int,
    sku_id: int,
    guild_id: int,
    package: CoinPackage,
    purchased_at_ms: int,
    at_ms: int,
    insert: bool,
) -> Credit:
    """Write the purchase entry (store → the buyer's paid coins), a promotion's bonus entry
    (promo issuer → promo coins) and the purchase row, and owe the audit post."""
    ledger.ensure_guild(conn, guild_id, at_ms)
    running = package_ops.promotions_at(conn, guild_id, purchased_at_ms)
    bonus, promotion_id = promotion_bonus(package.total, running, from_millis(purchased_at_ms))
    promotion: Promotion | None = next((p for p in running if p.id == promotion_id), None)
    key = f"entitlement:{entitlement_id}"
    reason = f"Bought {package.coins:,} + {package.bonus:,} bonus coins"
    paid = ledger.member_account(conn, guild_id, user_id, "coins_paid", at_ms)
    entry_id = ledger.post_entry(
        conn,
        guild_id=guild_id,
        key=key,
        kind=EntryKind.PURCHASE,
        actor_id=user_id,
        reason=reason,
        at_ms=at_ms,
        legs=[
            ledger.Leg(
                "coins", ledger.system_account(conn, guild_id, "store"), paid, package.total, Currency.COIN
            )
        ],
    )
    bonus_entry_id = None
    if bonus and promotion is not None:
        promo = ledger.member_account(conn, guild_id, user_id, "coins_promo", at_ms)
        bonus_entry_id = ledger.post_entry(
            conn,
            guild_id=guild_id,
            key=f"{key}:bonus",
            kind=EntryKind.PURCHASE_BONUS,
            actor_id=user_id,
            reason=f"Promotion +{promotion.percent}%",
            at_ms=at_ms,
            legs=[
                ledger.Leg(
                    "coins",
                    ledger.system_account(conn, guild_id, "promo_issuer"),
                    promo,
                    bonus,
                    Currency.COIN,
                )
            ],
        )
    values = (
        guild_id,
        package.id,
        package.total,
        bonus,
        promotion_id,
        entry_id,
        bonus_entry_id,
        at_ms,
        entitlement_id,
    )
    if insert:
        conn.execute(
            "INSERT INTO purchases (guild_id, package_id, coins, bonus_coins, promotion_id, entry_id, "
            "bonus_entry_id, credited_at, entitlement_id, user_id, sku_id, status, purchased_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'credited', ?)",
            (*values, user_id, sku_id, purchased_at_ms),
        )
    else:
        conn.execute(
            "UPDATE purchases SET guild_id = ?, package_id = ?, coins = ?, bonus_coins = ?, "
            "promotion_id = ?, entry_id = ?, bonus_entry_id = ?, credited_at = ?, status = 'credited' "
            "WHERE entitlement_id = ? AND status = 'inbox'",
            values,
        )
    audit_trail.owe_audit(
        conn,
        guild_id=guild_id,
        event="purchase",
        dedupe_key=f"purchase:{entitlement_id}",
        actor_id=user_id,
        subject_id=user_id,
        amount=package.total + bonus,
        currency=Currency.COIN.value,
        reason=reason,
        entry_id=entry_id,
        at_ms=at_ms,
        details={
            "entitlement_id": entitlement_id,
            "sku_id": sku_id,
            "package_id": package.id,
            "paid_coins": package.total,
            "bonus_coins": bonus,
            "bonus_entry_id": bonus_entry_id,
            "promotion_id": promotion_id,
        },
    )
    credited = purchase(conn, entitlement_id)
    assert credited is not None
    return Credit(credited, True, _coins(conn, guild_id, user_id), package, promotion)


# -- the inbox -----------------------------------------------------------------------------------


def inbox(conn: sqlite3.Connection, user_id: int) -> list[Purchase]:
    """The buyer's purchases waiting for a guild, oldest first."""
    rows = conn.execute(
        _PURCHASE + "WHERE user_id = ? AND status = 'inbox' ORDER BY entitlement_id", (user_id,)
    ).fetchall()
    return [_purchase(row) for row in rows]


def claim(
    conn: sqlite3.Connection, *, user_id: int, guild_id: int, entitlement_id: int | None, at_ms: int
) -> tuple[list[Credit], list[Purchase]]:
    """Credit waiting purchases into `guild_id`: one, or (None) every one this guild sells.
    Returns (credited, left waiting). Same keys as any credit, so nothing is credited twice."""
    waiting = inbox(conn, user_id)
    if entitlement_id is not None:
        waiting = [p for p in waiting if p.entitlement_id == entitlement_id]
    if not waiting:
        raise NothingToClaim()
    credited: list[Credit] = []
    left: list[Purchase] = []
    for item in waiting:
        package = package_ops.for_sku(conn, guild_id, item.sku_id)
        if package is None:
            left.append(item)
            continue
        credited.append(
            _credit(
                conn,
                entitlement_id=item.entitlement_id,
                user_id=user_id,
                sku_id=item.sku_id,
                guild_id=guild_id,
                package=package,
                purchased_at_ms=to_millis(item.purchased_at),
                at_ms=at_ms,
                insert=False,
            )
        )
    if not credited:
        raise NotSoldHere()
    return credited, left


# -- consumption ---------------------------------------------------------------------------------


def mark_consumed(conn: sqlite3.Connection, *, entitlement_id: int, at_ms: int) -> None:
    conn.execute(
        "UPDATE purchases SET consumed_at = ? WHERE entitlement_id = ? AND consumed_at IS NULL",
        (at_ms, entitlement_id),
    )


def unconsumed(conn: sqlite3.Connection, *, limit: int = 500) -> list[Purchase]:
    """Purchases handled but not yet consumed on Discord (a failed or interrupted consume)."""
    rows = conn.execute(
        _PURCHASE + "WHERE consumed_at IS NULL ORDER BY entitlement_id LIMIT ?", (limit,)
    ).fetchall()
    return [_purchase(row) for row in rows]


# -- refunds -------------------------------------------------------------------------------------


def refund_purchase(
    conn: sqlite3.Connection,
    *,
    entitlement_id: int,
    user_id: int,
    sku_id: int,
    purchased_at_ms: int,
    at_ms: int,
) -> Refund:
    """Discord deleted the entitlement: take the purchase's coins back as far as they are unspent,
    and for the spent part the paid diamonds its gifts made, never below zero. Once."""
    found = purchase(conn, entitlement_id)
    if found is None:  # deleted before we saw it: remember, so a late CREATE credits nothing
        conn.execute(
            "INSERT INTO purchases (entitlement_id, user_id, sku_id, status, purchased_at, refunded_at, "
            "consumed_at) VALUES (?, ?, ?, 'refunded', ?, ?, ?)",
            (entitlement_id, user_id, sku_id, purchased_at_ms, at_ms, at_ms),
        )
        return Refund(_must(conn, entitlement_id), fresh=True)
    if found.status is PurchaseStatus.REFUNDED:
        return Refund(found, fresh=False, entry_id=found.refund_entry_id)
    if found.status is PurchaseStatus.INBOX or found.guild_id is None:
        _mark_refunded(conn, entitlement_id, at_ms, entry_id=None, unrecovered=0)
        return Refund(_must(conn, entitlement_id), fresh=True)
    return _claw_back(conn, found, at_ms)


def _must(conn: sqlite3.Connection, entitlement_id: int) -> Purchase:
    found = purchase(conn, entitlement_id)
    assert found is not None
    return found


def _mark_refunded(
    conn: sqlite3.Connection, entitlement_id: int, at_ms: int, *, entry_id: int | None, unrecovered: int
) -> None:
    conn.execute(
        "UPDATE purchases SET status = 'refunded', refunded_at = ?, refund_entry_id = ?, unrecovered = ?, "
        "consumed_at = COALESCE(consumed_at, ?) WHERE entitlement_id = ?",
        (at_ms, entry_id, unrecovered, at_ms, entitlement_id),
    )


def _claw_back(conn: sqlite3.Connection, found: Purchase, at_ms: int) -> Refund:
    guild_id, user_id = found.guild_id, found.user_id
    assert guild_id is not None
    legs: list[ledger.Leg] = []
    paid = ledger.member_account(conn, guild_id, user_id, "coins_paid", at_ms)
    promo = ledger.member_account(conn, guild_id, user_id, "coins_promo", at_ms)
    took_paid = min(found.coins, ledger.balance(conn, paid))
    took_bonus = min(found.bonus_coins, ledger.balance(conn, promo))
    if took_paid:
        legs.append(
            ledger.Leg(
                "coins", paid, ledger.system_account(conn, guild_id, "store"), took_paid, Currency.COIN
            )
        )
    if took_bonus:
        issuer = ledger.system_account(conn, guild_id, "promo_issuer")
        legs.append(ledger.Leg("bonus", promo, issuer, took_bonus, Currency.COIN))
    spent = found.coins - took_paid
    credited_ms = to_millis(found.credited_at) if found.credited_at else 0
    clawbacks = _gifts_made_with(conn, guild_id, user_id, spent, since_ms=credited_ms)
    due: dict[int, int] = defaultdict(int)
    for _, creator_id, _, diamonds in clawbacks:
        due[creator_id] += diamonds
    taken: dict[int, int] = {}
    issuer = ledger.system_account(conn, guild_id, "diamond_issuer")
    for creator_id, amount in sorted(due.items()):
        account = ledger.member_account(conn, guild_id, creator_id, "diamonds_paid", at_ms)
        take = min(amount, ledger.balance(conn, account))
        if take <= 0:
            continue
        holds.release(conn, guild_id=guild_id, creator_id=creator_id, amount=take, at_ms=at_ms)
        # Legs are numbered, not named after the creator: a ledger key must never carry a member's
        # id, which `giftbot forget` could not take out of the append-only transfers.
        legs.append(ledger.Leg(f"diamonds:{len(taken) + 1}", account, issuer, take, Currency.DIAMOND))
        taken[creator_id] = take
    unrecovered = (found.coins - took_paid) + (found.bonus_coins - took_bonus)
    # Nothing left to take back: no entry (an entry always moves something), only the record.
    entry_id = (
        ledger.post_entry(
            conn,
            guild_id=guild_id,
            key=f"refund:{found.entitlement_id}",
            kind=EntryKind.REFUND,
            actor_id=user_id,
            reason="Refunded by Discord",
            at_ms=at_ms,
            legs=legs,
        )
        if legs
        else None
    )
    if entry_id is not None:
        conn.executemany(
            "INSERT INTO refund_clawbacks (refund_entry_id, gift_entry_id, coins, diamonds) "
            "VALUES (?, ?, ?, ?)",
            [(entry_id, gift, coins, diamonds) for gift, _, coins, diamonds in clawbacks],
        )
    _mark_refunded(conn, found.entitlement_id, at_ms, entry_id=entry_id, unrecovered=unrecovered)
    diamonds_due, diamonds_taken = sum(due.values()), sum(taken.values())
    audit_trail.owe_audit(
        conn,
        guild_id=guild_id,
        event="refund",
        dedupe_key=f"refund:{found.entitlement_id}",
        actor_id=user_id,
        subject_id=user_id,
        amount=took_paid + took_bonus,
        currency=Currency.COIN.value,
        reason="Refunded by Discord",
        entry_id=entry_id,
        at_ms=at_ms,
        details={
            "entitlement_id": found.entitlement_id,
            "purchase_entry_id": found.entry_id,
            "coins_recovered": took_paid,
            "bonus_recovered": took_bonus,
            "coins_unrecovered": unrecovered,
            "diamonds_recovered": diamonds_taken,
            "diamonds_unrecovered": diamonds_due - diamonds_taken,
            "diamonds_by_creator": {str(c): t for c, t in taken.items()},
        },
    )
    return Refund(
        _must(conn, found.entitlement_id),
        fresh=True,
        coins_recovered=took_paid,
        bonus_recovered=took_bonus,
        diamonds_recovered=diamonds_taken,
        diamonds_unrecovered=diamonds_due - diamonds_taken,
        entry_id=entry_id,
    )


def _gifts_made_with(
    conn: sqlite3.Connection, guild_id: int, sender_id: int, coins: int, *, since_ms: int
) -> list[tuple[int, int, int, int]]:
    """(gift entry, creator, paid coins, paid diamonds) covering `coins` of the sender's paid
    coins spent on gifts since `since_ms`, newest first, leaving out what earlier refunds took."""
    found: list[tuple[int, int, int, int]] = []
    if coins <= 0:
        return found
    cursor = conn.execute(
        "SELECT g.entry_id, g.creator_id, g.paid_coins, g.paid_diamonds, "
        "COALESCE(SUM(r.coins), 0), COALESCE(SUM(r.diamonds), 0) "
        "FROM gift_events g LEFT JOIN refund_clawbacks r ON r.gift_entry_id = g.entry_id "
        "WHERE g.guild_id = ? AND g.sender_id = ? AND g.created_at >= ? AND g.paid_coins > 0 "
        "GROUP BY g.entry_id ORDER BY g.created_at DESC, g.entry_id DESC",
        (guild_id, sender_id, since_ms),
    )
    left = coins
    for entry_id, creator_id, paid_coins, paid_diamonds, clawed_coins, clawed_diamonds in cursor:
        available = paid_coins - clawed_coins
        if available <= 0:
            continue
        take = min(left, available)
        # The diamonds those coins made; the last slice of a gift gets what earlier ones left.
        if take == available:
            diamonds = paid_diamonds - clawed_diamonds
        else:
            diamonds = min(paid_diamonds - clawed_diamonds, paid_diamonds * take // paid_coins)
        found.append((entry_id, creator_id, take, max(0, diamonds)))
        left -= take
        if left <= 0:
            break
    return found

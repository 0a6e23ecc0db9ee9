"""Cash-out requests and decisions, each one transaction on the database thread.

A request checks what is cashable and moves the diamonds to the creator's pending account in the
same transaction, so concurrent requests can never reserve the same diamonds twice. A decision
is recorded once: the request's status changes only from open (pending or frozen), and the
ledger key names the request, so a second click or a second moderator changes nothing.
Every step owes its audit post (storage/audit_trail.py) in the same transaction, and a decision
owes the creator a DM (an outbox row of kind `cashout_notice`).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from bot.economy.cashouts import (
    AlreadyDecided,
    BelowMinimum,
    Cashout,
    CashoutReceipt,
    CashoutStatus,
    NotCashable,
    SelfApproval,
    UnknownCashout,
)
from bot.economy.clock import from_millis
from bot.economy.models import Currency, EntryKind, Page

from . import audit_trail, ledger, outbox_ops, reads

NOTICE_KIND = "cashout_notice"
LEFT_SERVER = "The creator left the server."

_CASHOUT = (
    "SELECT id, guild_id, creator_id, amount, status, request_entry_id, requested_at, decided_by, "
    "decided_at, decision_entry_id, reference, reason FROM cashouts "
)


def _cashout(row: tuple[Any, ...]) -> Cashout:
    return Cashout(
        id=row[0],
        guild_id=row[1],
        creator_id=row[2],
        amount=row[3],
        status=CashoutStatus(row[4]),
        request_entry_id=row[5],
        requested_at=from_millis(row[6]),
        decided_by=row[7],
        decided_at=from_millis(row[8]) if row[8] is not None else None,
        decision_entry_id=row[9],
        reference=row[10],
        reason=row[11],
    )


def by_id(conn: sqlite3.Connection, guild_id: int, cashout_id: int) -> Cashout | None:
    row = conn.execute(_CASHOUT + "WHERE id = ? AND guild_id = ?", (cashout_id, guild_id)).fetchone()
    return _cashout(row) if row else None


def open_page(conn: sqlite3.Connection, guild_id: int, offset: int, limit: int) -> Page[Cashout]:
    """Requests waiting for a decision (pending and frozen), oldest first."""
    total = conn.execute(
        "SELECT COUNT(*) FROM cashouts WHERE guild_id = ? AND status IN ('pending', 'frozen')", (guild_id,)
    ).fetchone()[0]
    rows = conn.execute(
        _CASHOUT + "WHERE guild_id = ? AND status IN ('pending', 'frozen') ORDER BY id LIMIT ? OFFSET ?",
        (guild_id, limit, offset),
    ).fetchall()
    return Page([_cashout(row) for row in rows], int(total), offset, limit)


def next_maturity(conn: sqlite3.Connection, guild_id: int, creator_id: int, at_ms: int) -> int | None:
    """When the creator's next held diamonds become cashable (None when nothing is held)."""
    row = conn.execute(
        "SELECT MIN(matures_at) FROM diamond_holds "
        "WHERE guild_id = ? AND creator_id = ? AND matures_at > ? AND amount > 0",
        (guild_id, creator_id, at_ms),
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


# -- the request -------------------------------------------------------------------------------


def request(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    creator_id: int,
    amount: int,
    minimum: int,
    key: str,
    at_ms: int,
) -> CashoutReceipt:
    """Reserve `amount` cashable diamonds for a cash-out: diamonds_paid → diamonds_pending."""
    if (existing := ledger.find_entry(conn, key, EntryKind.CASHOUT_REQUEST)) is not None:
        row = conn.execute(_CASHOUT + "WHERE request_entry_id = ?", (existing,)).fetchone()
        return CashoutReceipt(_cashout(row), reads.balances(conn, guild_id, creator_id, at_ms), replayed=True)
    if amount < minimum:
        raise BelowMinimum(amount=amount, minimum=minimum)
    ledger.ensure_guild(conn, guild_id, at_ms)
    wallet = reads.balances(conn, guild_id, creator_id, at_ms)
    if amount > wallet.cashable_diamonds:
        raise NotCashable(amount=amount, balances=wallet)
    paid = ledger.member_account(conn, guild_id, creator_id, "diamonds_paid", at_ms)
    pending = ledger.member_account(conn, guild_id, creator_id, "diamonds_pending", at_ms)
    entry_id = ledger.post_entry(
        conn,
        guild_id=guild_id,
        key=key,
        kind=EntryKind.CASHOUT_REQUEST,
        actor_id=creator_id,
        reason=None,
        at_ms=at_ms,
        legs=[ledger.Leg("diamonds", paid, pending, amount, Currency.DIAMOND)],
    )
    cashout_id = int(
        conn.execute(
            "INSERT INTO cashouts (guild_id, creator_id, amount, status, request_entry_id, requested_at) "
            "VALUES (?, ?, ?, 'pending', ?, ?)",
            (guild_id, creator_id, amount, entry_id, at_ms),
        ).lastrowid
        or 0
    )
    audit_trail.owe_audit(
        conn,
        guild_id=guild_id,
        event=EntryKind.CASHOUT_REQUEST.value,
        dedupe_key=f"cashout:{cashout_id}:request",
        actor_id=creator_id,
        subject_id=creator_id,
        amount=amount,
        currency=Currency.DIAMOND.value,
        entry_id=entry_id,
        details={"cashout_id": cashout_id},
        at_ms=at_ms,
    )
    found = by_id(conn, guild_id, cashout_id)
    assert found is not None
    return CashoutReceipt(found, reads.balances(conn, guild_id, creator_id, at_ms))


# -- decisions ---------------------------------------------------------------------------------


def approve(
    conn: sqlite3.Connection, *, guild_id: int, cashout_id: int, moderator_id: int, reference: str, at_ms: int
) -> Cashout:
    """Mark the request paid: diamonds_pending → the guild's cash-out account. Never the
    creator's own decision."""
    return _decide(conn, guild_id, cashout_id, moderator_id, reference, at_ms, approved=True)


def reject(
    conn: sqlite3.Connection, *, guild_id: int, cashout_id: int, moderator_id: int, reason: str, at_ms: int
) -> Cashout:
    """Refuse the request: the diamonds go back to the creator's paid (cashable) diamonds."""
    return _decide(conn, guild_id, cashout_id, moderator_id, reason, at_ms, approved=False)


def _decide(
    conn: sqlite3.Connection,
    guild_id: int,
    cashout_id: int,
    moderator_id: int,
    text: str,
    at_ms: int,
    *,
    approved: bool,
) -> Cashout:
    found = by_id(conn, guild_id, cashout_id)
    if found is None:
        raise UnknownCashout()
    if not found.open:
        raise AlreadyDecided(found)
    if approved and moderator_id == found.creator_id:
        raise SelfApproval()
    kind = EntryKind.CASHOUT_APPROVE if approved else EntryKind.CASHOUT_REJECT
    pending = ledger.member_account(conn, guild_id, found.creator_id, "diamonds_pending", at_ms)
    if approved:
        target = ledger.system_account(conn, guild_id, "cashout")
    else:
        target = ledger.member_account(conn, guild_id, found.creator_id, "diamonds_paid", at_ms)
    entry_id = ledger.post_entry(
        conn,
        guild_id=guild_id,
        key=f"cashout:{cashout_id}:{'approve' if approved else 'reject'}",
        kind=kind,
        actor_id=moderator_id,
        reason=text,
        at_ms=at_ms,
        legs=[ledger.Leg("diamonds", pending, target, found.amount, Currency.DIAMOND)],
    )
    status = CashoutStatus.APPROVED if approved else CashoutStatus.REJECTED
    updated = conn.execute(
        "UPDATE cashouts SET status = ?, decided_by = ?, decided_at = ?, decision_entry_id = ?, "
        "reference = ?, reason = ? WHERE id = ? AND status IN ('pending', 'frozen')",
        (
            status.value,
            moderator_id,
            at_ms,
            entry_id,
            text if approved else None,
            None if approved else text,
            cashout_id,
        ),
    ).rowcount
    assert updated == 1, "an open request is decided once"
    details = {"cashout_id": cashout_id, "was_frozen": found.status is CashoutStatus.FROZEN}
    audit_trail.owe_audit(
        conn,
        guild_id=guild_id,
        event=kind.value,
        dedupe_key=f"cashout:{cashout_id}:decision",
        actor_id=moderator_id,
        subject_id=found.creator_id,
        amount=found.amount,
        currency=Currency.DIAMOND.value,
        reason=text,
        entry_id=entry_id,
        details=details,
        at_ms=at_ms,
    )
    outbox_ops.enqueue(
        conn,
        guild_id=guild_id,
        kind=NOTICE_KIND,
        dedupe_key=f"cashout-notice:{cashout_id}",
        user_id=found.creator_id,
        payload={"cashout_id": cashout_id},
        at_ms=at_ms,
    )
    decided = by_id(conn, guild_id, cashout_id)
    assert decided is not None
    return decided


def freeze(conn: sqlite3.Connection, *, guild_id: int, cashout_id: int, actor_id: int, at_ms: int) -> bool:
    """Set a pending request aside because its creator left; a moderator can still decide it.
    True if this call froze it."""
    found = by_id(conn, guild_id, cashout_id)
    if found is None or found.status is not CashoutStatus.PENDING:
        return False
    conn.execute("UPDATE cashouts SET status = 'frozen' WHERE id = ? AND status = 'pending'", (cashout_id,))
    audit_trail.owe_audit(
        conn,
        guild_id=guild_id,
        event="cashout_freeze",
        dedupe_key=f"cashout:{cashout_id}:freeze",
        actor_id=actor_id,
        subject_id=found.creator_id,
        amount=found.amount,
        currency=Currency.DIAMOND.value,
        reason=LEFT_SERVER,
        details={"cashout_id": cashout_id, "request_entry_id": found.request_entry_id},
        at_ms=at_ms,
    )
    return True

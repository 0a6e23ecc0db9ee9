"""The audit channel's queue: each money decision owes one post there, decided in its own
transaction (the outbox makes it exactly once), and only where a guild set an audit channel."""

from __future__ import annotations

import sqlite3
from typing import Any

from . import outbox_ops

KIND = "audit"


def audit_channel(conn: sqlite3.Connection, guild_id: int) -> int | None:
    row = conn.execute(
        "SELECT value FROM guild_settings WHERE guild_id = ? AND key = 'audit_channel'", (guild_id,)
    ).fetchone()
    return int(row[0]) if row and row[0] else None


def owe_audit(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    event: str,
    dedupe_key: str,
    actor_id: int,
    at_ms: int,
    subject_id: int | None = None,
    amount: int | None = None,
    currency: str | None = None,
    reason: str | None = None,
    entry_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> bool:
    """Queue an audit post for `event` (grant, revoke, purchase, refund, promotion_created, ...).
    `dedupe_key` names the decision, so a replayed operation owes nothing new. True if queued."""
    channel_id = audit_channel(conn, guild_id)
    if channel_id is None:
        return False
    payload = {
        "event": event,
        "actor_id": actor_id,
        "subject_id": subject_id,
        "amount": amount,
        "currency": currency,
        "reason": reason,
        "entry_id": entry_id,
        "details": details or {},
    }
    _, created = outbox_ops.enqueue(
        conn,
        guild_id=guild_id,
        kind=KIND,
        dedupe_key=f"audit:{dedupe_key}",
        payload=payload,
        at_ms=at_ms,
        channel_id=channel_id,
    )
    return created

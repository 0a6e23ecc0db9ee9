"""The outbox and announcement schedules: messages owed, decided once, sent once.

A message is *decided* by inserting an outbox row under a unique dedupe key, in the same
transaction that checks the reason for it (a schedule still on, its creator still a creator);
deciding again is a no-op. The sender then claims an attempt, sends, and records the message id.
A row that failed waits until `due_at` (backoff); one given up on is never due again
(`due_at = NEVER`) and keeps its `last_error` for an operator to read.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from . import money_ops

NEVER = 2**62
"""`due_at` of a row the sender gave up on: it is never due again."""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    guild_id: int
    kind: str
    dedupe_key: str
    channel_id: int | None
    user_id: int | None
    payload: dict[str, Any]
    created_at: int
    due_at: int
    attempts: int
    sent_at: int | None
    message_id: int | None
    last_error: str | None

    @property
    def given_up(self) -> bool:
        return self.sent_at is None and self.due_at >= NEVER


@dataclass(frozen=True, slots=True)
class Schedule:
    guild_id: int
    creator_id: int
    period: str
    channel_id: int
    top: int
    created_at: int


@dataclass(frozen=True, slots=True)
class Decision:
    """An announcement owed for one closed period of one schedule."""

    guild_id: int
    creator_id: int
    period: str
    bucket: int
    channel_id: int
    top: int
    start: int
    end: int

    @property
    def dedupe_key(self) -> str:
        return f"announce:{self.guild_id}:{self.creator_id}:{self.period}:{self.bucket}"


_ITEM = (
    "SELECT id, guild_id, kind, dedupe_key, channel_id, user_id, payload, created_at, due_at, attempts, "
    "sent_at, message_id, last_error FROM outbox "
)


def _item(row: tuple[Any, ...]) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        guild_id=row[1],
        kind=row[2],
        dedupe_key=row[3],
        channel_id=row[4],
        user_id=row[5],
        payload=json.loads(row[6]),
        created_at=row[7],
        due_at=row[8],
        attempts=row[9],
        sent_at=row[10],
        message_id=row[11],
        last_error=row[12],
    )


# -- the outbox --------------------------------------------------------------------------------


def enqueue(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    at_ms: int,
    due_ms: int | None = None,
    channel_id: int | None = None,
    user_id: int | None = None,
) -> tuple[OutboxItem, bool]:
    """Decide a message once: the row under `dedupe_key`, and whether this call created it."""
    created = conn.execute(
        "INSERT INTO outbox (guild_id, kind, dedupe_key, channel_id, user_id, payload, created_at, due_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
        (
            guild_id,
            kind,
            dedupe_key,
            channel_id,
            user_id,
            json.dumps(payload, sort_keys=True),
            at_ms,
            at_ms if due_ms is None else due_ms,
        ),
    ).rowcount
    item = by_key(conn, dedupe_key)
    assert item is not None
    return item, bool(created)


def by_key(conn: sqlite3.Connection, dedupe_key: str) -> OutboxItem | None:
    row = conn.execute(_ITEM + "WHERE dedupe_key = ?", (dedupe_key,)).fetchone()
    return _item(row) if row else None


def by_id(conn: sqlite3.Connection, item_id: int) -> OutboxItem | None:
    row = conn.execute(_ITEM + "WHERE id = ?", (item_id,)).fetchone()
    return _item(row) if row else None


def pending(
    conn: sqlite3.Connection, *, now_ms: int, kind: str | None = None, limit: int = 20
) -> list[OutboxItem]:
    """Unsent rows that are due (of one kind, or of any), oldest decision first."""
    rows = conn.execute(
        _ITEM + "WHERE sent_at IS NULL AND due_at <= ? AND (? IS NULL OR kind = ?) "
        "ORDER BY due_at, id LIMIT ?",
        (now_ms, kind, kind, limit),
    ).fetchall()
    return [_item(row) for row in rows]


def next_due(conn: sqlite3.Connection, kind: str | None = None) -> int | None:
    """When the earliest unsent row falls due (None when nothing is waiting)."""
    row = conn.execute(
        "SELECT MIN(due_at) FROM outbox WHERE sent_at IS NULL AND due_at < ? AND (? IS NULL OR kind = ?)",
        (NEVER, kind, kind),
    ).fetchone()
    return row[0] if row else None


def given_up(conn: sqlite3.Connection, *, guild_id: int | None = None) -> list[OutboxItem]:
    rows = conn.execute(
        _ITEM + "WHERE sent_at IS NULL AND due_at >= ? AND (? IS NULL OR guild_id = ?) ORDER BY id",
        (NEVER, guild_id, guild_id),
    ).fetchall()
    return [_item(row) for row in rows]


def begin_attempt(conn: sqlite3.Connection, *, item_id: int) -> int:
    """Count an attempt before trying it, so a crash mid-send still counts. Returns the count
    (0 when the row was already recorded as sent)."""
    row = conn.execute(
        "UPDATE outbox SET attempts = attempts + 1 WHERE id = ? AND sent_at IS NULL RETURNING attempts",
        (item_id,),
    ).fetchone()
    return int(row[0]) if row else 0


def mark_sent(conn: sqlite3.Connection, *, item_id: int, message_id: int | None, at_ms: int) -> bool:
    """Record delivery (message_id None: there was nothing to post). False if already recorded."""
    return bool(
        conn.execute(
            "UPDATE outbox SET sent_at = ?, message_id = ?, last_error = NULL "
            "WHERE id = ? AND sent_at IS NULL",
            (at_ms, message_id, item_id),
        ).rowcount
    )


def record_failure(conn: sqlite3.Connection, *, item_id: int, error: str, retry_at_ms: int | None) -> None:
    """Keep the error; retry at `retry_at_ms`, or never again when it is None."""
    conn.execute(
        "UPDATE outbox SET last_error = ?, due_at = ? WHERE id = ? AND sent_at IS NULL",
        (error[:500], NEVER if retry_at_ms is None else retry_at_ms, item_id),
    )


# -- announcement schedules ----------------------------------------------------------------------

_SCHEDULE = "SELECT guild_id, creator_id, period, channel_id, top, created_at FROM announcement_schedules "


def set_schedule(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    creator_id: int,
    name: str,
    period: str,
    channel_id: int,
    top: int,
    at_ms: int,
) -> Schedule:
    """Start (or move) a creator's automatic announcement. A change keeps the start time, so a
    period that closes after the first setup is announced whatever changed meanwhile. The
    creator's name is remembered for the announcements."""
    money_ops.remember_names(conn, guild_id, {creator_id: name}, at_ms)
    conn.execute(
        "INSERT INTO announcement_schedules (guild_id, creator_id, period, channel_id, top, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, creator_id, period) DO UPDATE SET "
        "channel_id = excluded.channel_id, top = excluded.top",
        (guild_id, creator_id, period, channel_id, top, at_ms),
    )
    found = schedule(conn, guild_id, creator_id, period)
    assert found is not None
    return found


def clear_schedule(conn: sqlite3.Connection, *, guild_id: int, creator_id: int, period: str) -> bool:
    return bool(
        conn.execute(
            "DELETE FROM announcement_schedules WHERE guild_id = ? AND creator_id = ? AND period = ?",
            (guild_id, creator_id, period),
        ).rowcount
    )


def schedule(conn: sqlite3.Connection, guild_id: int, creator_id: int, period: str) -> Schedule | None:
    row = conn.execute(
        _SCHEDULE + "WHERE guild_id = ? AND creator_id = ? AND period = ?", (guild_id, creator_id, period)
    ).fetchone()
    return Schedule(*row) if row else None


def schedules(conn: sqlite3.Connection, *, guild_id: int | None = None) -> list[Schedule]:
    """Every schedule whose creator is still a creator (a removed creator's schedule sleeps)."""
    rows = conn.execute(
        "SELECT s.guild_id, s.creator_id, s.period, s.channel_id, s.top, s.created_at "
        "FROM announcement_schedules s "
        "JOIN creators c ON c.guild_id = s.guild_id AND c.user_id = s.creator_id "
        "WHERE (? IS NULL OR s.guild_id = ?) ORDER BY s.guild_id, s.creator_id, s.period",
        (guild_id, guild_id),
    ).fetchall()
    return [Schedule(*row) for row in rows]


def known_keys(conn: sqlite3.Connection, keys: list[str]) -> set[str]:
    """Which of these dedupe keys already have an outbox row."""
    return {
        key for key in keys if conn.execute("SELECT 1 FROM outbox WHERE dedupe_key = ?", (key,)).fetchone()
    }


def decide_announcements(
    conn: sqlite3.Connection, *, decisions: list[Decision], at_ms: int
) -> list[OutboxItem]:
    """Write the announcements owed, each only if its schedule is still on and its creator still
    a creator, in one transaction. Returns the rows this call created."""
    created = []
    for decision in decisions:
        still_on = conn.execute(
            "SELECT 1 FROM announcement_schedules s JOIN creators c "
            "ON c.guild_id = s.guild_id AND c.user_id = s.creator_id "
            "WHERE s.guild_id = ? AND s.creator_id = ? AND s.period = ?",
            (decision.guild_id, decision.creator_id, decision.period),
        ).fetchone()
        if not still_on:
            continue
        item, new = enqueue(
            conn,
            guild_id=decision.guild_id,
            kind="announcement",
            dedupe_key=decision.dedupe_key,
            channel_id=decision.channel_id,
            user_id=decision.creator_id,
            payload={
                "creator": decision.creator_id,
                "period": decision.period,
                "bucket": decision.bucket,
                "channel": decision.channel_id,
                "top": decision.top,
                "start": decision.start,
                "end": decision.end,
            },
            at_ms=at_ms,
        )
        if new:
            created.append(item)
    return created


def member_name(conn: sqlite3.Connection, guild_id: int, user_id: int) -> str | None:
    """A member's name as giftbot last saw it (at a gift, or a choice they made)."""
    row = conn.execute(
        "SELECT name FROM member_names WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    ).fetchone()
    return row[0] if row else None

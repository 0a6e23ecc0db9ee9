"""The per-guild gift catalogue and its creators."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from bot.economy.catalogue import name_key
from bot.economy.clock import from_millis
from bot.economy.errors import AlreadyCreator, CatalogueConflict, EconomyError, UnknownGift
from bot.economy.models import Creator, GiftItem

from . import ledger


def gift_from_row(row: Sequence[Any]) -> GiftItem:
    return GiftItem(
        id=int(row[0]),
        guild_id=int(row[1]),
        name=str(row[2]),
        emoji=str(row[3]),
        price=int(row[4]),
        enabled=bool(row[5]),
        comboable=bool(row[6]),
    )


def list_gifts(conn: sqlite3.Connection, guild_id: int, *, include_disabled: bool) -> list[GiftItem]:
    rows = conn.execute(
        "SELECT id, guild_id, name, emoji, price, enabled, comboable "
        "FROM catalogue WHERE guild_id = ? AND (enabled = 1 OR ?) "
        "ORDER BY price, name_key",
        (guild_id, int(include_disabled)),
    ).fetchall()
    return [gift_from_row(row) for row in rows]


def gift_by_name(conn: sqlite3.Connection, guild_id: int, name: str) -> GiftItem | None:
    row = conn.execute(
        "SELECT id, guild_id, name, emoji, price, enabled, comboable "
        "FROM catalogue WHERE guild_id = ? AND name_key = ?",
        (guild_id, name_key(name)),
    ).fetchone()
    return gift_from_row(row) if row else None


def search_gifts(conn: sqlite3.Connection, guild_id: int, text: str, limit: int) -> list[GiftItem]:
    """Enabled gifts whose name starts with, then contains, `text` (for autocomplete)."""
    key = name_key(text)
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(
        "SELECT id, guild_id, name, emoji, price, enabled, comboable "
        "FROM catalogue WHERE guild_id = ? AND enabled = 1 "
        "AND name_key LIKE ? ESCAPE '\\' "
        "ORDER BY CASE WHEN name_key LIKE ? ESCAPE '\\' THEN 0 ELSE 1 END, price, name_key LIMIT ?",
        (guild_id, f"%{escaped}%", f"{escaped}%", limit),
    ).fetchall()
    return [gift_from_row(row) for row in rows]


def add_gift(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    name: str,
    emoji: str,
    price: int,
    comboable: bool,
    at_ms: int,
) -> GiftItem:
    ledger.ensure_guild(conn, guild_id, at_ms)
    if gift_by_name(conn, guild_id, name) is not None:
        raise CatalogueConflict(name)
    cursor = conn.execute(
        "INSERT INTO catalogue (guild_id, name, name_key, emoji, price, enabled, comboable, updated_at) "
        "VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
        (guild_id, name, name_key(name), emoji, price, int(comboable), at_ms),
    )
    return GiftItem(int(cursor.lastrowid or 0), guild_id, name, emoji, price, True, comboable)


def edit_gift(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    name: str,
    new_name: str | None,
    emoji: str | None,
    price: int | None,
    enabled: bool | None,
    at_ms: int,
) -> tuple[GiftItem, GiftItem]:
    """Change a gift; returns (before, after). Past gifts keep the name and price they had."""
    ledger.ensure_guild(conn, guild_id, at_ms)
    before = gift_by_name(conn, guild_id, name)
    if before is None:
        raise UnknownGift(name)
    renamed = new_name is not None and name_key(new_name) != name_key(before.name)
    if renamed and gift_by_name(conn, guild_id, new_name or "") is not None:
        raise CatalogueConflict(new_name or "")
    after = GiftItem(
        id=before.id,
        guild_id=guild_id,
        name=new_name if new_name is not None else before.name,
        emoji=emoji if emoji is not None else before.emoji,
        price=price if price is not None else before.price,
        enabled=enabled if enabled is not None else before.enabled,
        comboable=before.comboable,
    )
    conn.execute(
        "UPDATE catalogue SET name = ?, name_key = ?, emoji = ?, price = ?, enabled = ?, updated_at = ? "
        "WHERE id = ?",
        (after.name, name_key(after.name), after.emoji, after.price, int(after.enabled), at_ms, after.id),
    )
    return before, after


class NotCreator(EconomyError):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not a creator.")


def add_creator(
    conn: sqlite3.Connection, *, guild_id: int, user_id: int, name: str, actor_id: int, at_ms: int
) -> Creator:
    ledger.ensure_guild(conn, guild_id, at_ms)
    inserted = conn.execute(
        "INSERT INTO creators (guild_id, user_id, added_by, added_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id) DO NOTHING",
        (guild_id, user_id, actor_id, at_ms),
    ).rowcount
    if not inserted:
        raise AlreadyCreator(name)
    return Creator(guild_id, user_id, actor_id, from_millis(at_ms))


def remove_creator(conn: sqlite3.Connection, *, guild_id: int, user_id: int, name: str) -> None:
    """Stop a member receiving gifts. Their diamonds stay theirs."""
    removed = conn.execute(
        "DELETE FROM creators WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    ).rowcount
    if not removed:
        raise NotCreator(name)


def list_creators(conn: sqlite3.Connection, guild_id: int) -> list[Creator]:
    rows = conn.execute(
        "SELECT guild_id, user_id, added_by, added_at FROM creators WHERE guild_id = ? ORDER BY added_at",
        (guild_id,),
    ).fetchall()
    return [Creator(r[0], r[1], r[2], from_millis(r[3])) for r in rows]


def is_creator(conn: sqlite3.Connection, guild_id: int, user_id: int) -> bool:
    return bool(
        conn.execute(
            "SELECT 1 FROM creators WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        ).fetchone()
    )

"""Members' own choices: leaving public boards (/privacy) and creators' thank-you lines."""

from __future__ import annotations

import sqlite3

from bot.economy.errors import NotACreator

from . import ledger


def set_hidden(
    conn: sqlite3.Connection, *, guild_id: int, user_id: int, name: str, hidden: bool, at_ms: int
) -> bool:
    """Opt a member out of (or back into) public boards and announcements. Returns the new state."""
    ledger.ensure_guild(conn, guild_id, at_ms)
    conn.execute(
        "INSERT INTO member_names (guild_id, user_id, name, updated_at, hidden) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET hidden = excluded.hidden, name = excluded.name, "
        "updated_at = excluded.updated_at",
        (guild_id, user_id, name[:100], at_ms, int(hidden)),
    )
    return hidden


def is_hidden(conn: sqlite3.Connection, guild_id: int, user_id: int) -> bool:
    row = conn.execute(
        "SELECT hidden FROM member_names WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    ).fetchone()
    return bool(row and row[0])


def hidden_among(conn: sqlite3.Connection, guild_id: int, user_ids: list[int]) -> set[int]:
    """Which of these members opted out (one indexed query, however many are asked about)."""
    if not user_ids:
        return set()
    hidden = {
        row[0]
        for row in conn.execute(
            "SELECT user_id FROM member_names WHERE guild_id = ? AND hidden = 1", (guild_id,)
        ).fetchall()
    }
    return hidden.intersection(user_ids)


def set_thanks(
    conn: sqlite3.Connection, *, guild_id: int, creator_id: int, name: str, template: str | None
) -> None:
    updated = conn.execute(
        "UPDATE creators SET thanks_template = ? WHERE guild_id = ? AND user_id = ?",
        (template, guild_id, creator_id),
    ).rowcount
    if not updated:
        raise NotACreator(name)


def thanks_template(conn: sqlite3.Connection, guild_id: int, creator_id: int) -> str | None:
    row = conn.execute(
        "SELECT thanks_template FROM creators WHERE guild_id = ? AND user_id = ?", (guild_id, creator_id)
    ).fetchone()
    return row[0] if row else None

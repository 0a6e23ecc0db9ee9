"""Guild settings writes, each recorded with who changed what, when, from what to what."""

from __future__ import annotations

import sqlite3

from bot.economy.clock import from_millis
from bot.economy.models import SettingChange

from . import budget_ops, ledger, rollups


def set_setting(
    conn: sqlite3.Connection, *, guild_id: int, key: str, value: str | None, actor_id: int, at_ms: int
) -> SettingChange:
    ledger.ensure_guild(conn, guild_id, at_ms)
    row = conn.execute(
        "SELECT value FROM guild_settings WHERE guild_id = ? AND key = ?", (guild_id, key)
    ).fetchone()
    old = row[0] if row else None
    if value is None:
        conn.execute("DELETE FROM guild_settings WHERE guild_id = ? AND key = ?", (guild_id, key))
    else:
        conn.execute(
            "INSERT INTO guild_settings (guild_id, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id, key) DO UPDATE SET value = excluded.value",
            (guild_id, key, value),
        )
    if key == "timezone":  # leaderboard buckets follow the timezone: re-bucket every gift
        rollups.rebuild_guild(conn, guild_id, value or "UTC")
        budget_ops.rebuild_counters(conn, guild_id)  # members without their own timezone follow it
    conn.execute(
        "INSERT INTO guild_setting_changes (guild_id, key, old_value, new_value, actor_id, changed_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (guild_id, key, old, value, actor_id, at_ms),
    )
    return SettingChange(key, old, value, actor_id, from_millis(at_ms))

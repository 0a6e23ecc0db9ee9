"""Opening a database migrates it once, turns on WAL and foreign keys, and refuses newer schemas."""

from __future__ import annotations

import sqlite3

import pytest

from storage import Storage
from storage.migrate import latest_version, migrations
from tests.storage.books import NOW


def pragma(conn: sqlite3.Connection, name: str) -> object:
    assert name.isidentifier()
    return conn.execute(f"PRAGMA {name}").fetchone()[0]


async def test_opening_a_new_file_applies_every_migration(tmp_path):
    store = Storage(tmp_path / "x.sqlite3")
    try:
        applied = await store.open()
        assert applied == [m.name for m in migrations()]
        assert applied[0] == "0001_initial.sql"
        assert await store.db.read(lambda conn: pragma(conn, "user_version")) == latest_version()
        assert await store.db.read(lambda conn: pragma(conn, "journal_mode")) == "wal"
        assert await store.db.read(lambda conn: pragma(conn, "foreign_keys")) == 1
        tables = await store.db.read(
            lambda conn: {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        )
        assert {
            "guilds",
            "accounts",
            "entries",
            "transfers",
            "catalogue",
            "creators",
            "gift_events",
        } <= tables
    finally:
        await store.close()
    assert not store.db.is_open


async def test_reopening_applies_nothing_and_keeps_the_data(tmp_path):
    path = tmp_path / "x.sqlite3"
    first = Storage(path)
    await first.open()
    try:
        await first.add_gift(guild_id=1, name="Kiss", emoji="💋", price=3, comboable=True, at=NOW)
    finally:
        await first.close()
    second = Storage(path)
    try:
        assert await second.open() == []
        assert await second.db.read(lambda conn: pragma(conn, "user_version")) == latest_version()
        kiss = await second.gift_by_name(guild_id=1, name="kiss")
        assert kiss is not None and kiss.price == 3
    finally:
        await second.close()


async def test_the_file_itself_is_in_wal_mode(tmp_path):
    path = tmp_path / "x.sqlite3"
    store = Storage(path)
    await store.open()
    await store.close()
    with sqlite3.connect(path) as plain:
        assert pragma(plain, "journal_mode") == "wal"  # WAL is persistent, unlike foreign_keys
        assert pragma(plain, "user_version") == latest_version()
    plain.close()


async def test_a_database_from_a_newer_giftbot_is_refused_untouched(tmp_path):
    path = tmp_path / "x.sqlite3"
    newer = latest_version() + 1
    plain = sqlite3.connect(path)
    plain.execute(f"PRAGMA user_version = {newer}")
    plain.close()
    store = Storage(path)
    with pytest.raises(RuntimeError, match="newer than this giftbot"):
        await store.open()
    assert not store.db.is_open  # a refused open leaves no connection thread behind
    plain = sqlite3.connect(path)
    try:
        assert pragma(plain, "user_version") == newer
        assert plain.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
    finally:
        plain.close()


async def test_the_parent_folder_is_created(tmp_path):
    store = Storage(tmp_path / "data" / "nested" / "x.sqlite3")
    try:
        await store.open()
        assert store.path.exists()
    finally:
        await store.close()


async def test_closing_twice_is_harmless_and_a_closed_store_refuses_work(tmp_path):
    store = Storage(tmp_path / "x.sqlite3")
    await store.open()
    await store.close()
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.balances(guild_id=1, user_id=2)

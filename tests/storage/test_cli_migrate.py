"""`giftbot migrate` brings the configured database up to date and says what it did."""

from __future__ import annotations

import sqlite3

import pytest

from bot import cli
from storage.migrate import latest_version, migrations


@pytest.fixture
def database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory
    path = tmp_path / "data" / "giftbot.sqlite3"
    monkeypatch.setenv("GIFTBOT_DATABASE_PATH", str(path))
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)  # migrating needs no token
    return path


def user_version(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_migrate_creates_and_migrates_the_database(database, capsys):
    assert cli.main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"{database}: " + ", ".join(m.name for m in migrations())
    assert "0001_initial.sql" in out
    assert user_version(database) == latest_version()


def test_migrating_twice_reports_nothing_to_do(database, capsys):
    cli.main(["migrate"])
    capsys.readouterr()
    assert cli.main(["migrate"]) == 0
    assert capsys.readouterr().out.strip() == f"{database}: already up to date"
    assert user_version(database) == latest_version()


def test_migrate_keeps_existing_data(database, capsys):
    cli.main(["migrate"])
    conn = sqlite3.connect(database)
    conn.execute("INSERT INTO guilds (guild_id, created_at) VALUES (1, 0)")
    conn.commit()
    conn.close()
    cli.main(["migrate"])
    conn = sqlite3.connect(database)
    try:
        assert conn.execute("SELECT guild_id FROM guilds").fetchall() == [(1,)]
    finally:
        conn.close()


def test_a_database_from_a_newer_giftbot_is_refused_in_one_line(database, capsys):
    database.parent.mkdir(parents=True)
    conn = sqlite3.connect(database)
    conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    conn.close()
    assert cli.main(["migrate"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("giftbot: the database is at schema") and "\n" not in err
    assert user_version(database) == latest_version() + 1

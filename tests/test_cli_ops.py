"""`giftbot check`, `backup` and `restore` as an operator runs them: reports and exit codes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from storage import Storage
from storage.audit import CHECKS
from tests.storage.books import ALICE, CAROL, DAVE, grant, send, with_creators
from tests.test_cli import giftbot


def make_database(path: Path, gifts: int = 5) -> None:
    async def fill() -> None:
        store = Storage(path)
        await store.open()
        try:
            await with_creators(store)
            await grant(store, ALICE, 1_000)
            for n in range(gifts):
                await send(store, ALICE, CAROL if n % 2 else DAVE, "Rose", 1 + n, key=f"g{n}")
        finally:
            await store.close()

    asyncio.run(fill())


def test_check_reports_every_check_and_exits_0_on_a_healthy_database(tmp_path):
    make_database(tmp_path / "giftbot.sqlite3")

    result = giftbot("check", cwd=tmp_path)  # the database from GIFTBOT_DATABASE_PATH

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"giftbot check: {tmp_path / 'giftbot.sqlite3'}"
    assert "6 entries" in lines[1] and "5 gifts" in lines[1]
    assert sum(1 for line in lines if line.startswith("  ok ")) == len(CHECKS)
    assert lines[-1] == f"All {len(CHECKS)} checks passed."


def test_check_lists_what_is_off_and_exits_1(tmp_path):
    database = tmp_path / "books.sqlite3"
    make_database(database)
    conn = sqlite3.connect(database)
    conn.execute("UPDATE accounts SET balance = balance + 25 WHERE owner_id = ?", (ALICE,))
    conn.commit()
    conn.close()

    result = giftbot("check", "--database", str(database), cwd=tmp_path)

    assert result.returncode == 1
    assert "  FAIL  ledger balance" in result.stdout
    assert "each currency sums to zero" in result.stdout
    assert f"member {ALICE}" in result.stdout and "transfers say" in result.stdout
    assert (
        result.stdout.splitlines()[-1] == f"2 of {len(CHECKS)} checks failed: ledger balance, account sums."
    )
    assert "Traceback" not in result.stderr


def test_check_without_a_database_is_a_usage_error(tmp_path):
    result = giftbot("check", "--database", "nowhere.sqlite3", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "giftbot: there is no database at nowhere.sqlite3"
    assert not (tmp_path / "nowhere.sqlite3").exists()  # never created


def test_backup_then_restore_round_trip(tmp_path):
    make_database(tmp_path / "giftbot.sqlite3")

    made = giftbot("backup", "saved.sqlite3", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"backed up {tmp_path / 'giftbot.sqlite3'} to saved.sqlite3 (")
    assert made.stdout.splitlines()[-1] == f"All {len(CHECKS)} checks passed."

    again = giftbot("backup", "saved.sqlite3", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr and "--force" in again.stderr
    assert giftbot("backup", "saved.sqlite3", "--force", "--no-check", cwd=tmp_path).returncode == 0

    (tmp_path / "giftbot.sqlite3").unlink()  # the disaster
    restored = giftbot("restore", "saved.sqlite3", cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.splitlines()[-1] == f"restored saved.sqlite3 into {tmp_path / 'giftbot.sqlite3'}"
    assert giftbot("check", cwd=tmp_path).returncode == 0


def test_restore_refuses_while_the_database_is_in_use(tmp_path):
    make_database(tmp_path / "giftbot.sqlite3")
    assert giftbot("backup", "saved.sqlite3", cwd=tmp_path).returncode == 0
    bot = sqlite3.connect(tmp_path / "giftbot.sqlite3")  # a running bot: WAL, open, idle
    bot.execute("SELECT COUNT(*) FROM entries").fetchone()
    try:
        refused = giftbot("restore", "saved.sqlite3", cwd=tmp_path)
    finally:
        bot.close()

    assert refused.returncode == 2
    assert "in use" in refused.stderr and "stop it before restoring" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_restore_refuses_a_damaged_backup_and_exits_1(tmp_path):
    make_database(tmp_path / "giftbot.sqlite3")
    make_database(tmp_path / "damaged.sqlite3", gifts=2)
    conn = sqlite3.connect(tmp_path / "damaged.sqlite3")
    conn.execute("UPDATE board_current SET week_score = week_score + 1")
    conn.commit()
    conn.close()
    before = (tmp_path / "giftbot.sqlite3").read_bytes()

    result = giftbot("restore", "damaged.sqlite3", cwd=tmp_path)

    assert result.returncode == 1
    assert "FAIL  rollups" in result.stdout
    assert "was left as it was" in result.stderr
    assert (tmp_path / "giftbot.sqlite3").read_bytes() == before


def test_help_lists_the_operations(tmp_path):
    result = giftbot("--help", cwd=tmp_path)
    for command in ("check", "backup", "restore"):
        assert command in result.stdout
    for args in (("backup", "--help"), ("restore", "--help"), ("check", "--help")):
        assert "--database" in giftbot(*args, cwd=tmp_path).stdout

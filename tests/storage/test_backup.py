"""Online backup while gifts keep committing, and restore: checked first, refused while in use."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from storage import Storage
from storage.audit import audit_file
from storage.backup import BackupError, backup, restore
from tests.crash.test_crash import kill, start_worker, wait_ready
from tests.storage.books import ALICE, BOB, CAROL, DAVE, GUILD, grant, send, with_creators

MEMBERS = (ALICE, BOB, CAROL, DAVE)


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def ledger(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Each entry's key with its legs: what a backup must copy exactly."""
    found: dict[str, list[tuple[object, ...]]] = {}
    for key, debit, credit, currency, amount in rows(
        path,
        "SELECT e.idempotency_key, t.debit_account_id, t.credit_account_id, t.currency, t.amount "
        "FROM entries e JOIN transfers t ON t.entry_id = e.id ORDER BY t.id",
    ):
        found.setdefault(str(key), []).append((debit, credit, currency, amount))
    return found


async def balances(store: Storage) -> dict[int, tuple[int, int]]:
    found = {}
    for member in MEMBERS:
        held = await store.balances(guild_id=GUILD, user_id=member)
        found[member] = (held.coins, held.diamonds)
    return found


async def opened(path: Path) -> Storage:
    store = Storage(path)
    await store.open()
    return store


@pytest.fixture
async def live(tmp_path):
    store = await opened(tmp_path / "live.sqlite3")
    await with_creators(store)
    await grant(store, ALICE, 1_000_000)
    await grant(store, BOB, 1_000_000)
    try:
        yield store
    finally:
        await store.close()


async def test_a_backup_taken_while_gifts_commit_is_consistent_and_restores(live, tmp_path):
    stop = asyncio.Event()

    async def gifting(sender: int, creator: int) -> int:
        sent = 0
        while not stop.is_set():
            await send(live, sender, creator, "Rose", 1 + sent % 3, key=f"{sender}:{creator}:{sent}")
            sent += 1
        return sent

    senders = [asyncio.create_task(gifting(s, c)) for s, c in ((ALICE, CAROL), (BOB, DAVE), (ALICE, DAVE))]
    await asyncio.sleep(0.05)
    # Tiny steps, so commits land between them: the read snapshot keeps the copy consistent.
    copied = await asyncio.to_thread(backup, live.path, tmp_path / "during.sqlite3", pages_per_step=2)
    stop.set()
    sent = sum(await asyncio.gather(*senders))

    assert copied.steps > 1
    report = audit_file(copied.path)
    assert report.ok, report.failed
    snapshot, source = ledger(copied.path), ledger(live.path)
    assert 0 < len(snapshot) <= len(source) == sent + 2
    assert all(source[key] == legs for key, legs in snapshot.items())  # a prefix of the ledger

    restored_path = tmp_path / "restored" / "giftbot.sqlite3"
    restore(copied.path, restored_path)
    restored = await opened(restored_path)
    try:
        assert ledger(restored_path) == snapshot
        from_backup = {
            owner: balance
            for owner, balance in rows(
                copied.path, "SELECT owner_id, SUM(balance) FROM accounts GROUP BY owner_id"
            )
        }
        assert {m: sum(b) for m, b in (await balances(restored)).items()} == {
            m: from_backup.get(m, 0) for m in MEMBERS
        }
    finally:
        await restored.close()


async def test_a_quiet_backup_restores_to_identical_balances(live, tmp_path):
    for n in range(20):
        await send(live, ALICE, CAROL, "Rose", 1 + n, key=f"q{n}")
        await send(live, BOB, DAVE, "Rose", 2, key=f"r{n}")
    copied = backup(live.path, tmp_path / "quiet.sqlite3")

    target = tmp_path / "fresh.sqlite3"
    assert restore(copied.path, target).ok
    restored = await opened(target)
    try:
        assert await balances(restored) == await balances(live)
        assert ledger(target) == ledger(live.path)
        assert await restored.rollup_mismatches() == []
    finally:
        await restored.close()


async def test_backup_refuses_to_overwrite_unless_forced(live, tmp_path):
    target = tmp_path / "b.sqlite3"
    target.write_text("an older backup", "utf-8")
    with pytest.raises(BackupError, match="already exists"):
        backup(live.path, target)
    assert target.read_text("utf-8") == "an older backup"

    backup(live.path, target, force=True)
    assert audit_file(target).ok
    assert not list(tmp_path.glob(".*partial*"))  # no temporary file left behind

    with pytest.raises(BackupError, match="cannot replace the database it copies"):
        backup(live.path, live.path, force=True)
    with pytest.raises(BackupError, match="no database"):
        backup(tmp_path / "missing.sqlite3", tmp_path / "x.sqlite3")


async def test_restore_refuses_while_the_database_is_open(live, tmp_path):
    copied = backup(live.path, tmp_path / "b.sqlite3")
    await send(live, ALICE, CAROL, key="after-backup")  # the bot is up and idle now

    with pytest.raises(BackupError, match="in use"):
        restore(copied.path, live.path)
    assert "after-backup" in ledger(live.path)  # untouched


async def test_restore_checks_the_backup_first_and_leaves_the_target_alone_if_it_fails(live, tmp_path):
    await send(live, ALICE, CAROL, key="g1")
    copied = backup(live.path, tmp_path / "b.sqlite3")
    conn = sqlite3.connect(copied.path, isolation_level=None)
    conn.execute("UPDATE accounts SET balance = balance + 7 WHERE owner_id = ?", (BOB,))
    conn.close()
    target = tmp_path / "target.sqlite3"
    target.write_bytes(live.path.read_bytes())
    before = target.read_bytes()

    report = restore(copied.path, target)

    assert not report.ok and "account sums" in {c.name for c in report.failed}
    assert target.read_bytes() == before


async def test_restore_replaces_a_crashed_database_and_drops_its_wal(live, tmp_path):
    await send(live, ALICE, CAROL, key="g1")
    copied = backup(live.path, tmp_path / "b.sqlite3")
    target = tmp_path / "target.sqlite3"
    crashed = start_worker(target, tmp_path / "done.log")  # another database, gifting, then killed
    wait_ready(crashed)
    await asyncio.sleep(0.2)
    kill(crashed)
    wal = target.with_name(target.name + "-wal")
    assert wal.stat().st_size > 0  # committed frames SQLite would replay onto whatever file is there

    assert restore(copied.path, target).ok

    assert not wal.exists()
    assert not target.with_name(target.name + "-shm").exists()
    assert ledger(target) == ledger(copied.path)
    restored = await opened(target)
    try:
        assert await balances(restored) == await balances(live)
        assert await restored.rollup_mismatches() == []
    finally:
        await restored.close()
    assert audit_file(target).ok

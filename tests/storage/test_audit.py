"""`giftbot check`'s audit: it passes a healthy ledger, names each kind of damage, never writes,
and sees one consistent moment while the bot keeps writing."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path

import pytest

from storage import Storage
from storage.audit import SHOWN_PER_CHECK, AuditRefused, audit_file, open_read_only
from storage.migrate import apply_migrations, latest_version
from tests.storage.books import ALICE, BOB, CAROL, DAVE, GUILD, NOW, grant, send, with_creators

TRIGGERS = ("entries_append_only_update", "transfers_append_only_update", "transfers_append_only_delete")


async def busy_store(path: Path) -> Storage:
    """A store with grants and gifts to two creators: every table has rows. Alice keeps her own
    timezone, so she has spend counters (everyone else's spending is their gifters score)."""
    store = Storage(path)
    await store.open()
    await with_creators(store)
    await grant(store, ALICE, 500)
    await grant(store, BOB, 300)
    await store.update_prefs(guild_id=GUILD, user_id=ALICE, at=NOW, timezone="Asia/Tokyo")
    for n in range(6):
        await send(store, BOB, DAVE, "Rose", 2, key=f"b{n}")
        await send(store, ALICE, CAROL, "Rose", 1 + n, key=f"a{n}")  # the last gift is hers
    return store


def failed(path: Path) -> set[str]:
    return {check.name for check in audit_file(path).failed}


def tamper(path: Path, *statements: str) -> None:
    """Damage the books the way only a bug or a hand edit could (the triggers forbid it)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA ignore_check_constraints = ON")
        for trigger in TRIGGERS:
            conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
async def healthy(tmp_path) -> Path:
    path = tmp_path / "books.sqlite3"
    store = await busy_store(path)
    await store.close()
    return path


def test_a_healthy_ledger_passes_every_check_and_is_counted(healthy):
    report = audit_file(healthy)

    assert report.ok, report.failed
    assert report.schema == report.latest == latest_version()
    counts = report.counts
    assert (counts["entries"], counts["gifts"]) == (14, 12)  # 2 grants and 12 gifts
    assert counts["transfers"] > counts["entries"] and counts["accounts"] > 4
    assert [c.name for c in report.checks][-2:] == ["rollups", "spend counters"]
    assert not any(check.skipped for check in report.checks)


def test_the_audit_never_writes_to_the_database(healthy):
    before = digest(healthy)
    audit_file(healthy)
    assert digest(healthy) == before

    conn = open_read_only(healthy)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("UPDATE accounts SET balance = balance + 1")
    finally:
        conn.close()


# Each kind of damage, and the checks that must name it (others may fail too, as they should).
DAMAGE = {
    "a transfer's amount edited": (
        ["UPDATE transfers SET amount = amount + 1 WHERE id = (SELECT MIN(id) FROM transfers)"],
        {"account sums"},
    ),
    "a balance edited without a transfer": (
        ["UPDATE accounts SET balance = balance + 5 WHERE owner_id = 11 AND currency = 'coin'"],
        {"ledger balance", "account sums"},
    ),
    "a member's wallet below zero": (
        ["UPDATE accounts SET balance = -3 WHERE owner_id = 12 AND currency = 'coin'"],
        {"no negative wallets"},
    ),
    "a member's account allowed to go negative, and negative": (
        ["UPDATE accounts SET non_negative = 0, balance = -3 WHERE owner_id = 13 AND currency = 'diamond'"],
        {"no negative wallets"},
    ),
    "a fractional balance": (
        ["UPDATE accounts SET balance = 0.5 WHERE owner_id = 13 AND currency = 'diamond'"],
        {"whole numbers"},
    ),
    "an entry with no legs": (
        [
            "INSERT INTO entries (guild_id, idempotency_key, kind, actor_id, reason, created_at) "
            "VALUES (1000, 'orphan', 'grant', 10, 'x', 0)"
        ],
        {"entries have legs"},
    ),
    "a leg filed under another entry's key": (
        [
            "UPDATE transfers SET idempotency_key = 'elsewhere#coins' "
            "WHERE id = (SELECT MIN(id) FROM transfers)"
        ],
        {"idempotency"},
    ),
    "a leg in the wrong currency": (
        [
            "UPDATE transfers SET currency = 'diamond' "
            "WHERE id = (SELECT MIN(id) FROM transfers WHERE currency = 'coin')"
        ],
        {"legs consistent"},
    ),
    "a gift's details lost": (
        ["DELETE FROM gift_events WHERE entry_id = (SELECT MAX(entry_id) FROM gift_events)"],
        {"gifts", "rollups", "spend counters"},
    ),
    "a gift that paid its creator too much": (
        [
            "UPDATE gift_events SET diamonds = diamonds + 1 "
            "WHERE entry_id = (SELECT MAX(entry_id) FROM gift_events)"
        ],
        {"gifts", "rollups"},
    ),
    "a gift tagged as paid for with promo coins": (
        [
            "UPDATE gift_events SET paid_coins = coins "
            "WHERE entry_id = (SELECT MAX(entry_id) FROM gift_events)"
        ],
        {"paid tags"},
    ),
    "a leaderboard total edited": (
        [
            "UPDATE board_current SET week_score = week_score + 1 "
            "WHERE user_id = (SELECT MIN(user_id) FROM board_current)"
        ],
        {"rollups"},
    ),
    "a spend counter edited": (
        ["UPDATE spend_counters SET spent = spent + 1 WHERE rowid = (SELECT MIN(rowid) FROM spend_counters)"],
        {"spend counters"},
    ),
    "a timezone that does not exist": (  # the recomputation cannot run: said so, no traceback
        ["INSERT INTO guild_settings (guild_id, key, value) VALUES (1000, 'timezone', 'Mars/Olympus_Mons')"],
        {"rollups"},  # Alice's counters follow her own timezone, not the guild's
    ),
    "a member's own timezone that does not exist": (
        [f"UPDATE member_prefs SET timezone = 'Mars/Olympus_Mons' WHERE user_id = {ALICE}"],
        {"spend counters"},
    ),
    "a row pointing at a missing guild": (
        ["INSERT INTO creators (guild_id, user_id, added_by, added_at) VALUES (424242, 1, 1, 0)"],
        {"foreign keys"},
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_each_kind_of_damage_is_named(healthy, damage):
    statements, named = DAMAGE[damage]
    tamper(healthy, *statements)

    report = audit_file(healthy)

    assert not report.ok
    assert named <= {check.name for check in report.failed}
    for check in report.failed:
        assert check.problems and check.total >= len(check.problems)
    if damage in {
        "a leaderboard total edited",
        "a spend counter edited",
        "a leg filed under another entry's key",
        "a gift tagged as paid for with promo coins",
    }:
        assert {check.name for check in report.failed} == named  # nothing else is blamed


def test_a_long_list_of_problems_is_cut_short_and_counted(healthy):
    tamper(
        healthy,
        "UPDATE board_current SET all_score = all_score + 1",
        "UPDATE board_top SET score = score + 1",
    )
    (check,) = audit_file(healthy).failed
    assert check.name == "rollups"
    assert check.total == 6 + 10  # 3 boards x 2 members; 5 gifters buckets x 2 members
    assert len(check.problems) == SHOWN_PER_CHECK


async def test_it_sees_one_consistent_moment_while_gifts_keep_committing(tmp_path):
    path = tmp_path / "live.sqlite3"
    store = await busy_store(path)
    await grant(store, ALICE, 100_000, key="top-up")

    async def keep_gifting() -> None:
        for n in range(300):
            await asyncio.gather(
                send(store, ALICE, CAROL, "Rose", 1, key=f"live:{n}:c"),
                send(store, ALICE, DAVE, "Rose", 2, key=f"live:{n}:d"),
            )

    try:
        gifting = asyncio.create_task(keep_gifting())
        reports = []
        while not gifting.done():
            reports.append(await asyncio.to_thread(audit_file, path))
        await gifting
    finally:
        await store.close()
    assert len(reports) >= 2
    assert all(report.ok for report in reports), [r.failed for r in reports if not r.ok][:1]
    assert audit_file(path).counts["gifts"] == 12 + 600


def test_a_newer_database_is_refused_and_left_alone(healthy):
    conn = sqlite3.connect(healthy)
    conn.execute(f"PRAGMA user_version = {latest_version() + 1:d}")
    conn.close()
    before = digest(healthy)

    with pytest.raises(AuditRefused, match="newer than this giftbot"):
        audit_file(healthy)
    assert digest(healthy) == before


def test_an_older_database_is_audited_without_the_tables_it_lacks(tmp_path):
    path = tmp_path / "v1.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    apply_migrations(conn, target=1)
    conn.close()

    report = audit_file(path)

    assert report.ok and report.schema == 1
    skipped = {check.name for check in report.checks if check.skipped}
    assert skipped == {"paid tags", "rollups", "spend counters"}
    assert all("giftbot migrate" in (check.skipped or "") for check in report.checks if check.skipped)


def test_what_is_not_a_giftbot_database_is_refused(tmp_path):
    with pytest.raises(AuditRefused, match="no database"):
        audit_file(tmp_path / "missing.sqlite3")

    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE notes (text TEXT)").connection.close()
    with pytest.raises(AuditRefused, match="not a giftbot database"):
        audit_file(other)

    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a database at all " * 200, "utf-8")
    with pytest.raises(AuditRefused, match="not an SQLite database"):
        audit_file(text)

"""Forgetting a member: their id leaves every row of the guild, and every sum still holds."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.economy.budget import Budget, BudgetState, Mode
from bot.economy.models import Board
from bot.economy.periods import Period
from bot.economy.purchases import DISCORD_EPOCH_MS, EntitlementFacts
from storage import Storage
from storage.audit import audit_file
from storage.forget import FORGOTTEN_NAME, CannotForget, Forgotten, forget, planned
from tests.storage.books import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    GUILD,
    MOD,
    NOW,
    assert_books_balance,
    at,
    grant,
    revoke,
    rows,
    send,
    with_creators,
)

OTHER_GUILD = 2_000
AUDIT_CHANNEL = 555


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def season(store: Storage) -> None:
    """Alice gifts under her own budget and timezone, Carol receives and announces, Mod moderates,
    and Alice is also a member of another server."""
    await store.set_guild_setting(
        guild_id=GUILD, key="audit_channel", value=str(AUDIT_CHANNEL), actor_id=MOD, at=NOW
    )
    await with_creators(store)
    await store.update_prefs(guild_id=GUILD, user_id=ALICE, at=NOW, timezone="Pacific/Kiritimati")
    await store.save_budget(
        guild_id=GUILD,
        user_id=ALICE,
        state=BudgetState(Budget(500, Period.DAY, Mode.SOFT)),
        thresholds=(50, 80, 100),
        at=NOW,
    )
    await store.set_hidden(guild_id=GUILD, user_id=BOB, name="bob", hidden=True, at=NOW)
    await store.set_thanks(guild_id=GUILD, creator_id=CAROL, name="carol", template="Thanks {sender}!")
    await store.set_announcement_schedule(
        guild_id=GUILD, creator_id=CAROL, name="carol", period=Period.WEEK, channel_id=77, top=3, at=NOW
    )
    await grant(store, ALICE, 5_000, key="g-alice")
    await grant(store, BOB, 300, key="g-bob")
    await send(store, ALICE, CAROL, "Rose", 30, key="gift-1", when=at(10))
    await send(store, ALICE, DAVE, "Doughnut", 10, key="gift-2", when=at(20))  # 300: over 80% of 500
    await send(store, BOB, CAROL, "Doughnut", 2, key="gift-3", when=at(30))
    await send(store, ALICE, CAROL, "Rose", 5, key="gift-4", when=at(86_400 * 3))  # a later day
    await revoke(store, BOB, 10, key="revoke-bob", when=at(40))
    await store.grant(
        guild_id=OTHER_GUILD, user_id=ALICE, amount=7, actor_id=MOD, reason="other", key="g-other", at=NOW
    )


async def assert_every_sum_holds(store: Storage) -> None:
    await assert_books_balance(store)
    assert await store.rollup_mismatches() == []
    assert await store.counter_mismatches() == []
    report = audit_file(store.path)  # `giftbot check`, on its own read-only connection
    assert report.ok, [check for check in report.checks if not check.ok]


async def columns_holding(store: Storage, guild_id: int, user_id: int) -> dict[str, int]:
    """Every integer column of every table with a guild_id, and the guild's rows holding the id."""

    def scan(conn: sqlite3.Connection) -> dict[str, int]:
        found = {}
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            if "guild_id" not in columns:
                continue
            for column in columns:
                if column == "guild_id":
                    continue
                (hits,) = conn.execute(
                    f'SELECT COUNT(*) FROM "{table}" WHERE guild_id = ? AND "{column}" = ?',
                    (guild_id, user_id),
                ).fetchone()
                if hits:
                    found[f"{table}.{column}"] = hits
        return found

    return await store.db.read(scan)


def leftover_ids(found: dict[str, int]) -> dict[str, int]:
    """Columns that name people (ids that merely equal the member's by accident are left out)."""
    people = ("owner_id", "actor_id", "user_id", "sender_id", "creator_id", "added_by", "decided_by")
    return {column: hits for column, hits in found.items() if column.endswith(people)}


async def test_forgetting_moves_everything_to_a_tombstone_and_keeps_every_sum(store):
    await season(store)
    before = await store.balances(guild_id=GUILD, user_id=ALICE)
    board_before, _ = await store.board_page(
        guild_id=GUILD, board=Board.GIFTERS, period=Period.ALL, period_start=0
    )
    history_before = await store.history(guild_id=GUILD, user_id=ALICE, limit=50)

    done = await forget(store, guild_id=GUILD, user_id=ALICE, at=at(86_400 * 4))

    assert done.tombstone == -1
    assert leftover_ids(await columns_holding(store, GUILD, ALICE)) == {}
    await assert_every_sum_holds(store)
    # the tombstone holds exactly what Alice held, and the ledger tells the same story
    assert await store.balances(guild_id=GUILD, user_id=-1) == before
    assert await store.balances(guild_id=GUILD, user_id=ALICE) == type(before)(0, 0)
    history_after = await store.history(guild_id=GUILD, user_id=-1, limit=50)
    assert [(e.entry_id, e.kind, e.coins) for e in history_after.items] == [
        (e.entry_id, e.kind, e.coins) for e in history_before.items
    ]
    assert (await store.history(guild_id=GUILD, user_id=ALICE)).total == 0
    # the boards keep the same ranks and scores, under a name that says what happened
    board_after, _ = await store.board_page(
        guild_id=GUILD, board=Board.GIFTERS, period=Period.ALL, period_start=0
    )
    assert [(r.rank, r.score) for r in board_after] == [(r.rank, r.score) for r in board_before]
    assert [(r.user_id, r.name) for r in board_after] == [(-1, FORGOTTEN_NAME)]  # Bob chose to hide
    supporters, _ = await store.board_page(
        guild_id=GUILD, board=Board.SUPPORTERS, period=Period.ALL, period_start=0, creator_id=CAROL
    )
    assert [(r.user_id, r.name) for r in supporters] == [(-1, FORGOTTEN_NAME)]
    # Carol's history names the tombstone as the sender of her gifts
    carol = await store.history(guild_id=GUILD, user_id=CAROL, limit=50)
    assert {e.counterparty_id for e in carol.items} == {-1, BOB}
    # settings, names, budget, preferences and reminders owed to her are gone
    for table in ("member_names", "member_prefs", "budgets", "outbox"):
        assert await rows(store, f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (ALICE,)) == [(0,)]
    assert await rows(store, "SELECT guild_id, forgotten_at FROM forgotten_members") == [
        (GUILD, int((NOW + timedelta(days=4)).timestamp() * 1000))
    ]
    # her wallet in the other server is untouched
    assert (await store.balances(guild_id=OTHER_GUILD, user_id=ALICE)).coins == 7


async def test_what_changed_is_reported_and_matches_the_preview(store):
    await season(store)
    expected = await planned(store, guild_id=GUILD, user_id=ALICE)

    done = await forget(store, guild_id=GUILD, user_id=ALICE, at=at(99))

    assert done.changed.keys() == expected.keys()
    assert done.changed["accounts.owner_id"] == 1  # promo coins only: she never bought or earned
    assert done.changed["entries.actor_id"] == 3  # her three gifts
    assert done.changed["gift_events.sender_id"] == 3
    assert done.changed["member_names"] == 1 and done.changed["member_prefs"] == 1
    assert done.changed["budgets"] == 1 and done.changed["outbox"] >= 1  # her budget reminders
    assert done.changed["outbox.payload"] == 1  # the audit post of her grant names her
    assert done.rows == sum(done.changed.values())


async def test_spend_counters_follow_the_guild_timezone_once_her_own_is_forgotten(store):
    await season(store)
    await forget(store, guild_id=GUILD, user_id=ALICE, at=at(99))
    assert await store.counter_mismatches() == []
    # Without her own timezone, the tombstone's spending is its gifters score, in the guild's.
    assert await rows(store, "SELECT COUNT(*) FROM spend_counters WHERE user_id IN (-1, ?)", (ALICE,)) == [
        (0,)
    ]
    monthly = await rows(
        store,
        "SELECT SUM(score) FROM leaderboard_totals "
        "WHERE user_id = -1 AND board = 'gifters' AND period = 'month'",
    )
    assert monthly == [(30 + 300 + 5,)]


async def test_forgetting_a_creator_keeps_their_diamonds_and_drops_their_creator_tools(store):
    await season(store)
    before = await store.balances(guild_id=GUILD, user_id=CAROL)

    done = await forget(store, guild_id=GUILD, user_id=CAROL, at=at(99))

    assert await store.balances(guild_id=GUILD, user_id=done.tombstone or 0) == before
    assert not await store.is_creator(guild_id=GUILD, user_id=CAROL)
    assert await store.announcement_schedules(guild_id=GUILD) == []
    assert await store.thanks_template(guild_id=GUILD, creator_id=CAROL) is None
    creators, _ = await store.board_page(
        guild_id=GUILD, board=Board.CREATORS, period=Period.ALL, period_start=0
    )
    assert (done.tombstone, FORGOTTEN_NAME) in [(r.user_id, r.name) for r in creators]
    assert leftover_ids(await columns_holding(store, GUILD, CAROL)) == {}
    await assert_every_sum_holds(store)


async def test_forgetting_a_moderator_rewrites_what_they_did(store):
    await season(store)

    done = await forget(store, guild_id=GUILD, user_id=MOD, at=at(99))

    assert done.tombstone is not None
    assert {"entries.actor_id", "creators.added_by", "guild_setting_changes.actor_id"} <= done.changed.keys()
    payloads = [
        json.loads(p) for (p,) in await rows(store, "SELECT payload FROM outbox WHERE kind = 'audit'")
    ]
    assert payloads and {p["actor_id"] for p in payloads} == {done.tombstone}
    assert {p["subject_id"] for p in payloads} == {ALICE, BOB}  # the members the grants were for
    assert leftover_ids(await columns_holding(store, GUILD, MOD)) == {}
    await assert_every_sum_holds(store)


async def test_purchases_cashouts_and_holds_move_to_the_tombstone(store):
    await season(store)

    def paid_history(conn: sqlite3.Connection) -> None:  # issue 5's rows, written directly
        entry_id = conn.execute("SELECT id FROM entries WHERE idempotency_key = 'gift-1'").fetchone()[0]
        conn.execute(
            "INSERT INTO purchases (entitlement_id, user_id, sku_id, guild_id, coins, status, purchased_at) "
            "VALUES (1, ?, 9, ?, 70, 'credited', 0)",
            (ALICE, GUILD),
        )
        conn.execute(
            "INSERT INTO purchase_intents (user_id, sku_id, guild_id, created_at) VALUES (?, 9, ?, 0)",
            (ALICE, GUILD),
        )
        conn.execute(
            "INSERT INTO cashouts (guild_id, creator_id, amount, status, request_entry_id, requested_at, "
            "decided_by) VALUES (?, ?, 10, 'approved', ?, 0, ?)",
            (GUILD, CAROL, entry_id, ALICE),
        )
        conn.execute(
            "INSERT INTO diamond_holds (guild_id, creator_id, matures_at, amount) VALUES (?, ?, 1, 5)",
            (GUILD, ALICE),
        )
        conn.execute(
            "INSERT INTO promotions (guild_id, percent, starts_at, ends_at, created_by, created_at) "
            "VALUES (?, 10, 0, 1, ?, 0)",
            (GUILD, ALICE),
        )

    await store.db.write(paid_history)

    done = await forget(store, guild_id=GUILD, user_id=ALICE, at=at(99))

    for column in (
        "purchases.user_id",
        "purchase_intents",
        "cashouts.decided_by",
        "diamond_holds.creator_id",
        "promotions.created_by",
    ):
        assert done.changed.get(column) == 1, column
    assert leftover_ids(await columns_holding(store, GUILD, ALICE)) == {}


async def test_a_member_with_nothing_stored_changes_nothing(store):
    await season(store)
    assert await forget(store, guild_id=GUILD, user_id=999, at=NOW) == Forgotten(GUILD, None)
    assert await forget(store, guild_id=OTHER_GUILD, user_id=BOB, at=NOW) == Forgotten(OTHER_GUILD, None)
    assert await rows(store, "SELECT COUNT(*) FROM forgotten_members") == [(0,)]


async def test_forgetting_twice_finds_nothing_the_second_time(store):
    await season(store)
    first = await forget(store, guild_id=GUILD, user_id=ALICE, at=NOW)
    again = await forget(store, guild_id=GUILD, user_id=ALICE, at=NOW)
    assert first.tombstone == -1 and again.tombstone is None


async def test_each_forgotten_member_gets_their_own_tombstone_across_servers(store):
    await season(store)
    one = await forget(store, guild_id=GUILD, user_id=ALICE, at=NOW)
    two = await forget(store, guild_id=OTHER_GUILD, user_id=ALICE, at=NOW)
    three = await forget(store, guild_id=GUILD, user_id=BOB, at=NOW)
    assert (one.tombstone, two.tombstone, three.tombstone) == (-1, -2, -3)
    assert (await store.balances(guild_id=OTHER_GUILD, user_id=-2)).coins == 7
    await assert_every_sum_holds(store)


async def test_a_returning_member_starts_afresh(store):
    await season(store)
    await forget(store, guild_id=GUILD, user_id=ALICE, at=NOW)

    await grant(store, ALICE, 40, key="welcome-back", when=at(86_400 * 5))
    await send(store, ALICE, CAROL, "Rose", 4, key="gift-again", when=at(86_400 * 5 + 1))

    assert (await store.balances(guild_id=GUILD, user_id=ALICE)).coins == 36
    await assert_every_sum_holds(store)


@pytest.mark.parametrize(("guild_id", "user_id"), [(GUILD, 0), (GUILD, -1), (0, ALICE)])
async def test_ids_that_name_no_member_are_refused(store, guild_id, user_id):
    await season(store)
    with pytest.raises(CannotForget):
        await forget(store, guild_id=guild_id, user_id=user_id, at=NOW)


# -- the ledger allows exactly one kind of update ---------------------------------------------


def tamper(store: Storage, sql: str, params: tuple[Any, ...] = ()) -> None:
    other = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            other.execute(sql, params)
    finally:
        other.rollback()
        other.close()


async def test_only_a_recorded_tombstone_may_replace_an_actor(store):
    await season(store)
    tamper(store, "UPDATE entries SET actor_id = -1 WHERE actor_id = ?", (ALICE,))  # not recorded yet
    tamper(store, "UPDATE entries SET actor_id = ? WHERE actor_id = ?", (BOB, ALICE))  # not a tombstone
    await forget(store, guild_id=GUILD, user_id=BOB, at=NOW)  # records -1 for this guild
    tamper(store, "UPDATE entries SET actor_id = -1, reason = 'x' WHERE actor_id = ?", (ALICE,))
    tamper(store, "UPDATE entries SET actor_id = -1, created_at = 0 WHERE actor_id = ?", (ALICE,))
    tamper(store, "UPDATE entries SET actor_id = ? WHERE actor_id = -1", (BOB,))  # never back
    tamper(store, "UPDATE entries SET actor_id = -1 WHERE guild_id = ?", (OTHER_GUILD,))  # other guild
    tamper(store, "UPDATE transfers SET amount = amount WHERE id = 1")
    await assert_every_sum_holds(store)


async def test_no_ledger_key_or_queued_post_keeps_a_forgotten_creators_id(store):
    """Ids long enough to search for: after a refund clawed diamonds back from a creator,
    forgetting that creator leaves their id in no idempotency key and no outbox payload."""
    creator, buyer = 987_654_321_987_654_321, 123_456_789_123_456_789
    await store.set_guild_setting(
        guild_id=GUILD, key="audit_channel", value=str(AUDIT_CHANNEL), actor_id=MOD, at=NOW
    )
    await store.add_creator(guild_id=GUILD, user_id=creator, name="star", actor_id=MOD, at=NOW)
    (package, *_) = await store.packages(guild_id=GUILD)
    await store.map_package(
        guild_id=GUILD, package_id=package.id, sku_id=555, actor_id=MOD, key="map", at=NOW
    )
    facts = EntitlementFacts(((ms(NOW) - DISCORD_EPOCH_MS) << 22) | 1, buyer, 555)
    await store.credit_purchase(facts=facts, guild_id=GUILD, at=NOW)
    rose = await store.gift_by_name(guild_id=GUILD, name="Rose")
    assert rose is not None
    await store.send_gift(
        guild_id=GUILD,
        sender_id=buyer,
        sender_name="fan",
        creator_id=creator,
        creator_name="star",
        gift_id=rose.id,
        count=package.total,
        share_percent=50,
        key="all-in",
        at=at(1),
    )
    refund = await store.refund_purchase(facts=facts, at=at(2))
    assert refund.diamonds_recovered == package.total // 2  # taken back from the creator

    await forget(store, guild_id=GUILD, user_id=creator, at=at(3))

    texts = await rows(
        store,
        "SELECT idempotency_key FROM entries UNION ALL SELECT idempotency_key FROM transfers "
        "UNION ALL SELECT dedupe_key FROM outbox UNION ALL SELECT payload FROM outbox",
    )
    assert [text for (text,) in texts if str(creator) in text] == []
    await assert_every_sum_holds(store)

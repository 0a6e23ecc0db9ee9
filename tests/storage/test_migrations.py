"""Migrations: numbered consecutively, applied forward only, and upgrades keep every coin.

When you add migration N+1:
1. Copy `FrozenV1Books` (or the latest frozen writer) into `FrozenVNBooks`, written the way the
   code at version N writes, and add it to `FROZEN_WRITERS`. It must not call storage code.
2. `test_the_latest_frozen_writer_matches_the_live_code` then demands a frozen writer for N+1
   too: write it so it matches today's code.
Each entry of `FROZEN_WRITERS` is one upgrade case: built at that version, opened with today's code.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

import pytest

from bot.economy.catalogue import default_gifts
from bot.economy.models import Board, EntryKind
from bot.economy.periods import Period
from storage import budget_ops, catalogue_ops, migrate, money_ops, rollups, settings_ops
from storage.group_commit import apply_batch
from storage.migrate import Migration, apply_migrations, current_version, latest_version, migrations
from tests.storage.migration_harness import AFTER_UPGRADE, build_at, snapshot, upgraded

MOD, ALICE, BOB, CAROL, DAVE = 10, 11, 12, 13, 14
NAMES = {ALICE: "alice", BOB: "bob", CAROL: "carol", DAVE: "dave"}
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms


class Books(Protocol):
    """The writes a fixture needs, at the level of giftbot's operations."""

    def grant(self, guild: int, user: int, amount: int, key: str, at: int) -> None: ...
    def revoke(self, guild: int, user: int, amount: int, key: str, at: int) -> None: ...
    def add_creator(self, guild: int, user: int, at: int) -> None: ...
    def gift(
        self, guild: int, sender: int, creator: int, name: str, count: int, share: int, key: str, at: int
    ) -> None: ...
    def set_setting(self, guild: int, key: str, value: str | None, at: int) -> None: ...
    def add_gift(self, guild: int, name: str, emoji: str, price: int, at: int) -> None: ...


def a_season_of_activity(books: Books) -> None:
    """Every kind of row giftbot writes: grants, revokes, gifts at several shares, settings, creators."""
    g, other = 1, 2
    books.grant(g, ALICE, 50_000, "grant:1", T0)
    books.grant(g, BOB, 500, "grant:2", T0 + 1)
    books.add_creator(g, CAROL, T0 + 2)
    books.add_creator(g, DAVE, T0 + 3)
    books.set_setting(g, "creator_share", "60", T0 + 4)
    books.gift(g, ALICE, CAROL, "Corgi", 2, 60, "gift:1", T0 + 5)  # 598 coins: 358 diamonds
    books.gift(g, BOB, DAVE, "Rose", 15, 60, "gift:2", T0 + 6)
    books.gift(g, ALICE, DAVE, "Lion", 1, 100, "gift:3", T0 + 7)  # no platform leg
    books.gift(g, ALICE, CAROL, "Doughnut", 1, 0, "gift:4", T0 + 8)  # no diamond leg
    books.gift(g, ALICE, CAROL, "Rose", 1, 50, "gift:5", T0 + 9)  # floor(0.5): no diamond leg
    books.add_gift(g, "Kiss", "💋", 7, T0 + 10)
    books.gift(g, BOB, CAROL, "kiss", 3, 60, "gift:6", T0 + 11)
    books.revoke(g, BOB, 100, "revoke:1", T0 + 13)
    books.revoke(g, BOB, 10_000, "revoke:2", T0 + 14)  # takes what is left
    books.set_setting(g, "creator_share", "70", T0 + 15)
    books.set_setting(g, "moderator_role", None, T0 + 16)
    books.grant(other, ALICE, 7, "grant:3", T0 + 17)


class LiveBooks:
    """Today's storage code, run the way `Storage` runs it (one batch per operation)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _run(self, operation: Any) -> Any:
        ((ok, value),) = apply_batch(self.conn, [operation])
        if not ok:
            raise value
        return value

    def grant(self, guild: int, user: int, amount: int, key: str, at: int) -> None:
        self._run(
            partial(
                money_ops.promo_transfer,
                kind=EntryKind.GRANT,
                guild_id=guild,
                user_id=user,
                amount=amount,
                actor_id=MOD,
                reason="promo",
                key=key,
                at_ms=at,
            )
        )

    def revoke(self, guild: int, user: int, amount: int, key: str, at: int) -> None:
        self._run(
            partial(
                money_ops.promo_transfer,
                kind=EntryKind.REVOKE,
                guild_id=guild,
                user_id=user,
                amount=amount,
                actor_id=MOD,
                reason="refund",
                key=key,
                at_ms=at,
            )
        )

    def add_creator(self, guild: int, user: int, at: int) -> None:
        self._run(
            partial(
                catalogue_ops.add_creator,
                guild_id=guild,
                user_id=user,
                name=NAMES[user],
                actor_id=MOD,
                at_ms=at,
            )
        )

    def gift(
        self, guild: int, sender: int, creator: int, name: str, count: int, share: int, key: str, at: int
    ) -> None:
        item = catalogue_ops.gift_by_name(self.conn, guild, name)
        assert item is not None
        self._run(
            partial(
                money_ops.send_gift,
                guild_id=guild,
                sender_id=sender,
                sender_name=NAMES[sender],
                creator_id=creator,
                creator_name=NAMES[creator],
                gift_id=item.id,
                count=count,
                share_percent=share,
                channel_id=99,
                key=key,
                at_ms=at,
            )
        )

    def set_setting(self, guild: int, key: str, value: str | None, at: int) -> None:
        self._run(
            partial(settings_ops.set_setting, guild_id=guild, key=key, value=value, actor_id=MOD, at_ms=at)
        )

    def add_gift(self, guild: int, name: str, emoji: str, price: int, at: int) -> None:
        self._run(
            partial(
                catalogue_ops.add_gift,
                guild_id=guild,
                name=name,
                emoji=emoji,
                price=price,
                comboable=True,
                at_ms=at,
            )
        )


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


class FrozenV1Books:
    """How giftbot wrote schema version 1, spelled out in SQL. Never change it to follow new code."""

    SYSTEM = (
        ("promo_issuer", "coin", 0),
        ("gift_sink", "coin", 1),
        ("platform_fee", "coin", 1),
        ("diamond_issuer", "diamond", 0),
    )

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _guild(self, guild: int, at: int) -> None:
        created = self.conn.execute(
            "INSERT INTO guilds (guild_id, created_at, catalogue_seeded_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO NOTHING",
            (guild, at, at),
        ).rowcount
        if not created:
            return
        for code, currency, non_negative in self.SYSTEM:
            self.conn.execute(
                "INSERT INTO accounts (guild_id, owner_id, code, currency, non_negative, balance, "
                "created_at) "
                "VALUES (?, 0, ?, ?, ?, 0, ?)",
                (guild, code, currency, non_negative, at),
            )
        for gift in default_gifts():
            self.conn.execute(
                "INSERT INTO catalogue (guild_id, name, name_key, emoji, price, enabled, comboable, "
                "tiktok_id, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)",
                (
                    guild,
                    gift.name,
                    _key(gift.name),
                    gift.emoji,
                    gift.price,
                    int(gift.comboable),
                    gift.tiktok_id,
                    at,
                ),
            )

    def _account(self, guild: int, owner: int, code: str, at: int) -> int:
        row = self.conn.execute(
            "SELECT id FROM accounts WHERE guild_id = ? AND owner_id = ? AND code = ?", (guild, owner, code)
        ).fetchone()
        if row:
            return int(row[0])
        currency = {"coins": "coin", "diamonds": "diamond"}[code]
        return int(
            self.conn.execute(
                "INSERT INTO accounts (guild_id, owner_id, code, currency, non_negative, balance, "
                "created_at) "
                "VALUES (?, ?, ?, ?, 1, 0, ?)",
                (guild, owner, code, currency, at),
            ).lastrowid
            or 0
        )

    def _post(
        self,
        guild: int,
        key: str,
        kind: str,
        actor: int,
        reason: str | None,
        at: int,
        legs: list[tuple[str, int, int, int, str]],
    ) -> int:
        entry = int(
            self.conn.execute(
                "INSERT INTO entries (guild_id, idempotency_key, kind, actor_id, reason, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (guild, key, kind, actor, reason, at),
            ).lastrowid
            or 0
        )
        for name, debit, credit, amount, currency in legs:
            self.conn.execute("UPDATE accounts SET balance = balance - ? WHERE id = ?", (amount, debit))
            self.conn.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, credit))
            self.conn.execute(
                "INSERT INTO transfers (entry_id, idempotency_key, guild_id, currency, debit_account_id, "
                "credit_account_id, amount, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (entry, f"{key}#{name}", guild, currency, debit, credit, amount, at),
            )
        return entry

    def grant(self, guild: int, user: int, amount: int, key: str, at: int) -> None:
        self._guild(guild, at)
        wallet = self._account(guild, user, "coins", at)
        promo = self._account(guild, 0, "promo_issuer", at)
        self._post(guild, key, "grant", MOD, "promo", at, [("coins", promo, wallet, amount, "coin")])

    def revoke(self, guild: int, user: int, amount: int, key: str, at: int) -> None:
        self._guild(guild, at)
        wallet = self._account(guild, user, "coins", at)
        held = self.conn.execute("SELECT balance FROM accounts WHERE id = ?", (wallet,)).fetchone()[0]
        promo = self._account(guild, 0, "promo_issuer", at)
        self._post(
            guild, key, "revoke", MOD, "refund", at, [("coins", wallet, promo, min(amount, held), "coin")]
        )

    def add_creator(self, guild: int, user: int, at: int) -> None:
        self._guild(guild, at)
        self.conn.execute(
            "INSERT INTO creators (guild_id, user_id, added_by, added_at) VALUES (?, ?, ?, ?)",
            (guild, user, MOD, at),
        )

    def gift(
        self, guild: int, sender: int, creator: int, name: str, count: int, share: int, key: str, at: int
    ) -> None:
        self._guild(guild, at)
        gift_id, gift_name, emoji, price = self.conn.execute(
            "SELECT id, name, emoji, price FROM catalogue WHERE guild_id = ? AND name_key = ?",
            (guild, _key(name)),
        ).fetchone()
        coins = price * count
        diamonds = coins * share // 100
        wallet = self._account(guild, sender, "coins", at)
        earned = self._account(guild, creator, "diamonds", at)
        sink = self._account(guild, 0, "gift_sink", at)
        legs = [("coins", wallet, sink, coins, "coin")]
        if coins - diamonds:
            legs.append(
                ("platform", sink, self._account(guild, 0, "platform_fee", at), coins - diamonds, "coin")
            )
        if diamonds:
            legs.append(
                ("diamonds", self._account(guild, 0, "diamond_issuer", at), earned, diamonds, "diamond")
            )
        entry = self._post(guild, key, "gift", sender, None, at, legs)
        self.conn.execute(
            "INSERT INTO gift_events (entry_id, guild_id, sender_id, creator_id, gift_id, gift_name, "
            "gift_emoji, unit_price, count, coins, diamonds, channel_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (entry, guild, sender, creator, gift_id, gift_name, emoji, price, count, coins, diamonds, 99, at),
        )
        for user in (sender, creator):
            self.conn.execute(
                "INSERT INTO member_names (guild_id, user_id, name, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (guild_id, user_id) DO UPDATE SET name = excluded.name, "
                "updated_at = excluded.updated_at",
                (guild, user, NAMES[user], at),
            )

    def set_setting(self, guild: int, key: str, value: str | None, at: int) -> None:
        self._guild(guild, at)
        row = self.conn.execute(
            "SELECT value FROM guild_settings WHERE guild_id = ? AND key = ?", (guild, key)
        ).fetchone()
        if value is None:
            self.conn.execute("DELETE FROM guild_settings WHERE guild_id = ? AND key = ?", (guild, key))
        else:
            self.conn.execute(
                "INSERT INTO guild_settings (guild_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id, key) DO UPDATE SET value = excluded.value",
                (guild, key, value),
            )
        self.conn.execute(
            "INSERT INTO guild_setting_changes (guild_id, key, old_value, new_value, actor_id, changed_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (guild, key, row[0] if row else None, value, MOD, at),
        )

    def add_gift(self, guild: int, name: str, emoji: str, price: int, at: int) -> None:
        self._guild(guild, at)
        self.conn.execute(
            "INSERT INTO catalogue (guild_id, name, name_key, emoji, price, enabled, comboable, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 1, 1, ?)",
            (guild, name, _key(name), emoji, price, at),
        )


def _frozen_v2_bucket(period: str, at_ms: int, timezone: str) -> int:
    """Version 2's rollup bucket: the UTC ms the guild-local day/week/month/year began."""
    if period == "all":
        return 0
    local = datetime.fromtimestamp(at_ms / 1000, tz=UTC).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        start -= timedelta(days=start.weekday())
    elif period == "month":
        start = start.replace(day=1)
    elif period == "year":
        start = start.replace(month=1, day=1)
    return int(start.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC).timestamp() * 1000)


class FrozenV2Books(FrozenV1Books):
    """Version 2: as version 1, plus leaderboard rollups written with every gift."""

    def gift(
        self, guild: int, sender: int, creator: int, name: str, count: int, share: int, key: str, at: int
    ) -> None:
        super().gift(guild, sender, creator, name, count, share, key, at)
        entry, coins, diamonds = self.conn.execute(
            "SELECT e.id, g.coins, g.diamonds FROM entries e JOIN gift_events g ON g.entry_id = e.id "
            "WHERE e.idempotency_key = ?",
            (key,),
        ).fetchone()
        row = self.conn.execute(
            "SELECT value FROM guild_settings WHERE guild_id = ? AND key = 'timezone'", (guild,)
        ).fetchone()
        timezone = row[0] if row else "UTC"
        for period in ("day", "week", "month", "year", "all"):
            start = _frozen_v2_bucket(period, at, timezone)
            for board, scope, user, board_diamonds in (
                ("gifters", 0, sender, 0),
                ("creators", 0, creator, diamonds),
                ("supporters", creator, sender, 0),
            ):
                self.conn.execute(
                    "INSERT INTO leaderboard_totals (guild_id, board, creator_id, period, period_start, "
                    "user_id, score, diamonds, gifts, last_entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?) "
                    "ON CONFLICT (guild_id, board, creator_id, period, period_start, user_id) DO UPDATE SET "
                    "score = leaderboard_totals.score + excluded.score, "
                    "diamonds = leaderboard_totals.diamonds + excluded.diamonds, "
                    "gifts = leaderboard_totals.gifts + 1, last_entry_id = excluded.last_entry_id",
                    (guild, board, scope, period, start, user, coins, board_diamonds, entry),
                )


class FrozenV3Books(FrozenV2Books):
    """Version 3: as version 2, plus the sender's spend counters (day, week, month)."""

    def gift(
        self, guild: int, sender: int, creator: int, name: str, count: int, share: int, key: str, at: int
    ) -> None:
        super().gift(guild, sender, creator, name, count, share, key, at)
        (coins,) = self.conn.execute(
            "SELECT g.coins FROM entries e JOIN gift_events g ON g.entry_id = e.id "
            "WHERE e.idempotency_key = ?",
            (key,),
        ).fetchone()
        row = self.conn.execute(
            "SELECT value FROM guild_settings WHERE guild_id = ? AND key = 'timezone'", (guild,)
        ).fetchone()
        timezone = row[0] if row else "UTC"
        for period in ("day", "week", "month"):
            self.conn.execute(
                "INSERT INTO spend_counters (guild_id, user_id, period, period_start, spent) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id, user_id, period, period_start) DO UPDATE SET "
                "spent = spend_counters.spent + excluded.spent",
                (guild, sender, period, _frozen_v2_bucket(period, at, timezone), coins),
            )


class FrozenV4Books(FrozenV3Books):
    """Version 4: member accounts are tagged (promo coins and diamonds keep the old books'
    balances), two more system accounts, and each guild starts with the default coin packages.
    The season's coins are all granted, so no paid column or diamond hold is ever written."""

    SYSTEM = (
        *FrozenV3Books.SYSTEM,
        ("store", "coin", 0),
        ("cashout", "diamond", 1),
    )
    PACKAGES = ((70, 0), (350, 38), (700, 100), (1_400, 300), (3_500, 800), (7_000, 2_000))
    TAGGED: ClassVar[dict[str, tuple[str, str]]] = {
        "coins": ("coins_promo", "coin"),
        "diamonds": ("diamonds_promo", "diamond"),
    }

    def _guild(self, guild: int, at: int) -> None:
        fresh = not self.conn.execute("SELECT 1 FROM guilds WHERE guild_id = ?", (guild,)).fetchone()
        super()._guild(guild, at)
        if fresh:
            for coins, bonus in self.PACKAGES:
                self.conn.execute(
                    "INSERT INTO coin_packages (guild_id, coins, bonus, sku_id, enabled, updated_at) "
                    "VALUES (?, ?, ?, NULL, 1, ?)",
                    (guild, coins, bonus, at),
                )

    def _account(self, guild: int, owner: int, code: str, at: int) -> int:
        if owner == 0:
            return super()._account(guild, owner, code, at)
        tagged, currency = self.TAGGED[code]
        row = self.conn.execute(
            "SELECT id FROM accounts WHERE guild_id = ? AND owner_id = ? AND code = ?", (guild, owner, tagged)
        ).fetchone()
        if row:
            return int(row[0])
        return int(
            self.conn.execute(
                "INSERT INTO accounts (guild_id, owner_id, code, currency, non_negative, balance, "
                "created_at) VALUES (?, ?, ?, ?, 1, 0, ?)",
                (guild, owner, tagged, currency, at),
            ).lastrowid
            or 0
        )


class FrozenV5Books(FrozenV4Books):
    """Version 5: written exactly as version 4. It only added `forgotten_members` and let an
    entry's actor become a tombstone (`giftbot forget`), which no ordinary write does."""


class FrozenV6Books(FrozenV5Books):
    """Version 6: as version 5, but the boards are one board_current row per board and member
    (all five periods side by side), buckets left behind in board_closed, and the top 120 of
    each gifters bucket in board_top; leaderboard_totals is a view. Spend counters only for
    members with their own timezone, and a name's updated_at is when it last changed."""

    DATED = ("day", "week", "month", "year")

    def gift(
        self, guild: int, sender: int, creator: int, name: str, count: int, share: int, key: str, at: int
    ) -> None:
        named = {
            user: self.conn.execute(
                "SELECT name, updated_at FROM member_names WHERE guild_id = ? AND user_id = ?", (guild, user)
            ).fetchone()
            for user in (sender, creator)
        }
        FrozenV1Books.gift(self, guild, sender, creator, name, count, share, key, at)
        for user, before in named.items():  # a name's updated_at moves only when the name does
            if before is not None and before[0] == NAMES[user]:
                self.conn.execute(
                    "UPDATE member_names SET updated_at = ? WHERE guild_id = ? AND user_id = ?",
                    (before[1], guild, user),
                )
        entry, coins, diamonds = self.conn.execute(
            "SELECT e.id, g.coins, g.diamonds FROM entries e JOIN gift_events g ON g.entry_id = e.id "
            "WHERE e.idempotency_key = ?",
            (key,),
        ).fetchone()
        row = self.conn.execute(
            "SELECT value FROM guild_settings WHERE guild_id = ? AND key = 'timezone'", (guild,)
        ).fetchone()
        timezone = row[0] if row else "UTC"
        # No spend counters: nobody in the season keeps their own timezone, so everyone's
        # spending is their gifters score.
        starts = [_frozen_v2_bucket(period, at, timezone) for period in self.DATED]
        for board, scope, user, gained in (
            ("gifters", 0, sender, 0),
            ("creators", 0, creator, diamonds),
            ("supporters", creator, sender, 0),
        ):
            self._board_row(guild, board, scope, user, starts, coins, gained, entry)
            if board == "gifters":
                for period, start in (*zip(self.DATED, starts, strict=True), ("all", 0)):
                    self._top(guild, period, start)

    def _board_row(
        self,
        guild: int,
        board: str,
        scope: int,
        user: int,
        starts: list[int],
        coins: int,
        gained: int,
        entry: int,
    ) -> None:
        key = (guild, board, scope, user)
        found = self.conn.execute(
            "SELECT day_start, day_score, day_diamonds, day_gifts, day_last, "
            "week_start, week_score, week_diamonds, week_gifts, week_last, "
            "month_start, month_score, month_diamonds, month_gifts, month_last, "
            "year_start, year_score, year_diamonds, year_gifts, year_last, "
            "all_score, all_diamonds, all_gifts, all_last FROM board_current "
            "WHERE guild_id = ? AND board = ? AND creator_id = ? AND user_id = ?",
            key,
        ).fetchone()
        values = list(found) if found else [None, 0, 0, 0, 0] * 4 + [0, 0, 0, 0]
        for index, period in enumerate(self.DATED):
            held, start = values[5 * index], starts[index]
            if held == start:
                values[5 * index + 1 : 5 * index + 5] = [
                    values[5 * index + 1] + coins,
                    values[5 * index + 2] + gained,
                    values[5 * index + 3] + 1,
                    entry,
                ]
                continue
            assert held is None or held < start, "the season's gifts come in time order"
            if held is not None:
                self.conn.execute(
                    "INSERT INTO board_closed (guild_id, board, creator_id, period, period_start, user_id, "
                    "score, diamonds, gifts, last_entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (guild, board, scope, period, held, user, *values[5 * index + 1 : 5 * index + 5]),
                )
            values[5 * index : 5 * index + 5] = [start, coins, gained, 1, entry]
        values[20:24] = [values[20] + coins, values[21] + gained, values[22] + 1, entry]
        self._save_row(key, values)

    def _save_row(self, key: tuple[int, str, int, int], values: list[Any]) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO board_current VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*key, *values),
        )

    def _top(self, guild: int, period: str, start: int) -> None:
        bucket = (guild, "gifters", 0, period, start)
        self.conn.execute(
            "DELETE FROM board_top WHERE guild_id = ? AND board = ? AND creator_id = ? AND period = ? "
            "AND period_start = ?",
            bucket,
        )
        self.conn.execute(
            "INSERT INTO board_top SELECT guild_id, board, creator_id, period, period_start, user_id, score, "
            "last_entry_id FROM leaderboard_totals WHERE guild_id = ? AND board = ? AND creator_id = ? "
            "AND period = ? AND period_start = ? ORDER BY score DESC, last_entry_id ASC LIMIT 120",
            bucket,
        )


class FrozenV7Books(FrozenV6Books):
    """Version 7: as version 6, plus each board_current row's `ranked`: a creator's row and all
    their supporters' rows from the creator's 1,000th gift on (the season's never get there)."""

    def _save_row(self, key: tuple[int, str, int, int], values: list[Any]) -> None:
        guild, board, scope, user = key
        ranked = 0
        if board == "creators":
            ranked = int(values[22] >= 1000)
            if ranked:
                self.conn.execute(
                    "UPDATE board_current SET ranked = 1 WHERE guild_id = ? AND board = 'supporters' "
                    "AND creator_id = ?",
                    (guild, user),
                )
        elif board == "supporters":
            found = self.conn.execute(
                "SELECT ranked FROM board_current WHERE guild_id = ? AND board = 'creators' "
                "AND creator_id = 0 AND user_id = ?",
                (guild, scope),
            ).fetchone()
            ranked = found[0] if found else 0
        self.conn.execute(
            "INSERT OR REPLACE INTO board_current VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*key, *values, ranked),
        )


# schema version -> how that version wrote its books. One upgrade case each.
FROZEN_WRITERS: dict[int, Callable[[sqlite3.Connection], Books]] = {
    1: FrozenV1Books,
    2: FrozenV2Books,
    3: FrozenV3Books,
    4: FrozenV4Books,
    5: FrozenV5Books,
    6: FrozenV6Books,
    7: FrozenV7Books,
    8: FrozenV7Books,  # version 8 dropped an index only: the rows are version 7's
}


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {table: _rows(conn, table) for table in tables}


def _rows(conn: sqlite3.Connection, table: str) -> list[tuple[Any, ...]]:
    try:
        return conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
    except sqlite3.OperationalError:  # a WITHOUT ROWID table: its rows in key order
        return sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)


def write_with(writer: Callable[[sqlite3.Connection], Books]) -> Callable[[sqlite3.Connection], None]:
    return lambda conn: a_season_of_activity(writer(conn))


# -- the upgrade cases -------------------------------------------------------------------------


@pytest.mark.parametrize("version", sorted(FROZEN_WRITERS))
async def test_upgrading_keeps_every_balance(tmp_path, version):
    async with upgraded(
        tmp_path / "x.sqlite3", version=version, write=write_with(FROZEN_WRITERS[version])
    ) as store:
        assert (await store.balances(guild_id=1, user_id=ALICE)).coins == 50_000 - 598 - 29_999 - 30 - 1
        assert (await store.balances(guild_id=1, user_id=BOB)).coins == 0
        assert (await store.balances(guild_id=1, user_id=CAROL)).diamonds == 358 + 12
        assert (await store.balances(guild_id=1, user_id=DAVE)).diamonds == 9 + 29_999
        assert (await store.balances(guild_id=2, user_id=ALICE)).coins == 7
        # the upgraded books read and write as usual
        history = await store.history(guild_id=1, user_id=ALICE)
        assert history.total == 5 and history.items[0].gift_name == "Rose"
        # rollups (schema 2) were backfilled from the gifts and agree with a recomputation
        rolled, ranked = await store.board_page(
            guild_id=1, board=Board.GIFTERS, period=Period.ALL, period_start=0
        )
        assert [(row.user_id, row.score) for row in rolled] == [(ALICE, 30_628), (BOB, 36)] and ranked == 2
        assert await store.rollup_mismatches() == []
        # spend counters (schema 3) were backfilled from the ledger's gifts
        assert await store.db.read(budget_ops.counter_mismatches) == []
        monthly = await store.db.read(
            lambda conn: conn.execute(
                "SELECT user_id, SUM(score) FROM leaderboard_totals WHERE guild_id = 1 AND board = 'gifters' "
                "AND period = 'month' GROUP BY user_id ORDER BY user_id"
            ).fetchall()
        )
        assert monthly == [(ALICE, 30_628), (BOB, 36)]  # every coin ever gifted, in some month
        assert await store.db.read(
            lambda conn: conn.execute("SELECT COUNT(*) FROM spend_counters").fetchone()
        ) == (0,)  # nobody keeps their own timezone: spending is the gifters score
        assert await store.guild_settings(guild_id=1) == {"creator_share": "70"}
        kiss = await store.gift_by_name(guild_id=1, name="Kiss")
        assert kiss is not None
        receipt = await store.send_gift(
            guild_id=1,
            sender_id=ALICE,
            sender_name="alice",
            creator_id=CAROL,
            creator_name="carol",
            gift_id=kiss.id,
            count=2,
            share_percent=70,
            key="after-upgrade",
            at=AFTER_UPGRADE,
        )
        assert (receipt.coins, receipt.diamonds, receipt.replayed) == (14, 9, False)
        replay = await store.send_gift(
            guild_id=1,
            sender_id=ALICE,
            sender_name="alice",
            creator_id=CAROL,
            creator_name="carol",
            gift_id=kiss.id,
            count=1,
            share_percent=70,
            key="gift:1",
            at=AFTER_UPGRADE,
        )
        assert replay.replayed and replay.gift.name == "Corgi"


def test_0007_ranks_the_creators_with_a_thousand_gifts_and_all_their_supporters(tmp_path):
    """The backfill flags by the rule the writer keeps (storage/rollups.RANK_FROM): a creator's
    row from 1,000 gifts received, with every supporter row of theirs; nobody else."""
    conn = build_at(tmp_path / "x.sqlite3", 6)
    try:

        def row(board: str, scope: int, user: int, gifts: int) -> tuple[Any, ...]:
            return (1, board, scope, user, *[0, 1, 0, gifts, 1] * 4, 1, 0, gifts, 1)

        conn.executemany(
            "INSERT INTO board_current VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                row("creators", 0, 77, 1_000),
                row("supporters", 77, 5, 600),
                row("supporters", 77, 6, 400),
                row("creators", 0, 78, 999),
                row("supporters", 78, 5, 999),
                row("gifters", 0, 5, 1_599),
            ],
        )
        apply_migrations(conn)
        flagged = conn.execute(
            "SELECT board, creator_id, user_id FROM board_current WHERE ranked = 1 ORDER BY 1, 2, 3"
        ).fetchall()
        ranked_page = conn.execute(
            "SELECT user_id FROM board_current INDEXED BY board_current_supporters_all "
            "WHERE guild_id = 1 AND board = 'supporters' AND ranked = 1 AND creator_id = 77 "
            "ORDER BY all_score DESC"
        ).fetchall()
    finally:
        conn.close()
    assert flagged == [("creators", 0, 77), ("supporters", 77, 5), ("supporters", 77, 6)]
    assert rollups.RANK_FROM == 1_000  # the backfill's literal and the writer's rule agree
    assert ranked_page == [(5,), (6,)]


@pytest.mark.parametrize("version", [v for v in sorted(FROZEN_WRITERS) if v < 8])
def test_0008_finds_each_members_sent_gifts_without_their_own_index(tmp_path, version):
    """Upgraded from any earlier version, a database keeps every gift's sender after the index
    is gone: listing each member's gifts through their coin legs finds exactly the gifts that
    name them as the sender (coins renamed in 0004, tagged paid or promo, all included)."""
    conn = build_at(tmp_path / "x.sqlite3", version)
    try:
        a_season_of_activity(FROZEN_WRITERS[version](conn))
        apply_migrations(conn)
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        pairs = conn.execute("SELECT DISTINCT guild_id, sender_id FROM gift_events ORDER BY 1, 2").fetchall()
        by_column = {
            pair: conn.execute(
                "SELECT entry_id FROM gift_events WHERE guild_id = ? AND sender_id = ? ORDER BY entry_id",
                pair,
            ).fetchall()
            for pair in pairs
        }
        by_legs = {
            pair: conn.execute(
                "SELECT entry_id FROM gift_events WHERE entry_id IN (SELECT t.entry_id FROM accounts a "
                "JOIN transfers t ON t.debit_account_id = a.id "
                "WHERE a.guild_id = ? AND a.owner_id = ? AND a.currency = 'coin') ORDER BY entry_id",
                pair,
            ).fetchall()
            for pair in pairs
        }
    finally:
        conn.close()
    assert "gift_events_by_sender" not in indexes
    assert len(pairs) >= 2 and sum(map(len, by_column.values())) >= 5
    assert by_legs == by_column


def test_the_latest_frozen_writer_matches_the_live_code(tmp_path):
    """Today's code and the newest frozen writer must write identical rows, or the fixture lies."""
    writer = FROZEN_WRITERS.get(latest_version())
    assert writer is not None, f"add a frozen writer for schema version {latest_version()} to FROZEN_WRITERS"
    live = build_at(tmp_path / "live.sqlite3", latest_version())
    frozen = build_at(tmp_path / "frozen.sqlite3", latest_version())
    try:
        a_season_of_activity(LiveBooks(live))
        a_season_of_activity(writer(frozen))
        live_rows, frozen_rows = dump(live), dump(frozen)
        assert live_rows.keys() == frozen_rows.keys()
        for table in live_rows:
            assert frozen_rows[table] == live_rows[table], table
        assert snapshot(live) == snapshot(frozen)
    finally:
        live.close()
        frozen.close()


# -- the migration files and machinery ---------------------------------------------------------

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def packaged_sql_files() -> list[str]:
    folder = resources.files("storage").joinpath("migrations")
    return sorted(item.name for item in folder.iterdir() if item.name.endswith(".sql"))


def test_migration_files_are_numbered_consecutively_from_one():
    names = packaged_sql_files()
    assert names, "no migrations packaged"
    for name in names:
        assert MIGRATION_NAME.match(name), (
            f"{name} does not look like 0001_lower_snake.sql and would be skipped"
        )
    numbers = [int(name[:4]) for name in names]
    assert numbers == list(range(1, len(names) + 1))
    assert [m.name for m in migrations()] == names
    assert latest_version() == len(names)


@pytest.mark.parametrize("migration", migrations(), ids=lambda m: m.name)
def test_each_migration_splits_into_complete_statements(migration):
    statements = migrate._statements(migration.sql)
    assert statements
    assert all(sqlite3.complete_statement(statement) for statement in statements)
    assert not any("user_version" in s.lower() for s in statements), "the runner sets user_version itself"


def fake_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name, sql in files.items():
        (folder / name).write_text(sql, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "names",
    [["0001_a.sql", "0003_c.sql"], ["0002_b.sql"], ["0001_a.sql", "0001_again.sql"]],
)
def test_gaps_and_duplicates_in_numbering_are_refused(tmp_path, monkeypatch, names):
    root = fake_folder(tmp_path, {name: "CREATE TABLE t (x INTEGER);" for name in names})
    monkeypatch.setattr(migrate.resources, "files", lambda package: root)
    with pytest.raises(RuntimeError, match="consecutive"):
        migrate.migrations.__wrapped__()


def test_migrations_stop_at_the_target(tmp_path):
    conn = build_at(tmp_path / "x.sqlite3", 0)
    try:
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
        assert apply_migrations(conn, target=1) == ["0001_initial.sql"]
        assert current_version(conn) == 1
        assert apply_migrations(conn) == [m.name for m in migrations()[1:]]
        assert apply_migrations(conn) == []
    finally:
        conn.close()


def test_a_failing_migration_leaves_the_previous_version_intact(tmp_path, monkeypatch):
    good = Migration(1, "0001_good.sql", "CREATE TABLE kept (x INTEGER);")
    bad = Migration(2, "0002_bad.sql", "CREATE TABLE half_done (x INTEGER);\nINSERT INTO nowhere VALUES (1);")
    monkeypatch.setattr(migrate, "migrations", lambda: (good, bad))
    conn = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError):
            apply_migrations(conn)
        assert current_version(conn) == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"kept"}
        assert not conn.in_transaction
    finally:
        conn.close()


def test_a_newer_database_is_not_touched(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    try:
        conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
        with pytest.raises(RuntimeError, match="upgrade giftbot"):
            apply_migrations(conn)
        assert current_version(conn) == latest_version() + 1
    finally:
        conn.close()

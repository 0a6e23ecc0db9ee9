"""The budget half of `Storage`: limits, preferences, counters. Plain ids in, domain objects out."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from bot.economy.budget import Budget, BudgetState
from bot.economy.clock import to_millis
from bot.economy.periods import Period

from . import budget_ops, ledger, rollups
from .budget_ops import MemberPrefs, StoredBudget

if TYPE_CHECKING:
    from .database import Database


class BudgetStore:
    db: Database

    async def budget(self, *, guild_id: int, user_id: int, default: Budget | None) -> StoredBudget:
        return await self.db.read(lambda conn: budget_ops.load_budget(conn, guild_id, user_id, default))

    async def save_budget(
        self, *, guild_id: int, user_id: int, state: BudgetState, thresholds: tuple[int, ...], at: datetime
    ) -> None:
        def save(conn):  # type: ignore[no-untyped-def]
            ledger.ensure_guild(conn, guild_id, to_millis(at))
            budget_ops.save_budget(
                conn,
                guild_id=guild_id,
                user_id=user_id,
                state=state,
                thresholds=thresholds,
                at_ms=to_millis(at),
            )

        await self.db.write(save)

    async def spent(self, *, guild_id: int, user_id: int, period: Period, at: datetime) -> int:
        """Coins the member spent on gifts in the `period` containing `at`, in their timezone."""

        def read(conn):  # type: ignore[no-untyped-def]
            own = budget_ops.prefs(conn, guild_id, user_id).timezone
            timezone = own or rollups.guild_timezone(conn, guild_id)
            bucket = rollups.period_start(period, to_millis(at), timezone)
            return budget_ops.spent(conn, guild_id, user_id, period, bucket, own_timezone=own is not None)

        return await self.db.read(read)

    async def daily_spending(
        self, *, guild_id: int, user_id: int, start: datetime, end: datetime
    ) -> list[tuple[int, int]]:
        """(UTC ms of each local day start, coins) for the days in [start, end) with spending."""
        return await self.db.read(
            lambda conn: budget_ops.daily_spent(conn, guild_id, user_id, to_millis(start), to_millis(end))
        )

    async def prefs(self, *, guild_id: int, user_id: int) -> MemberPrefs:
        return await self.db.read(lambda conn: budget_ops.prefs(conn, guild_id, user_id))

    async def update_prefs(
        self, *, guild_id: int, user_id: int, at: datetime, **changes: object
    ) -> MemberPrefs:
        def update(conn):  # type: ignore[no-untyped-def]
            ledger.ensure_guild(conn, guild_id, to_millis(at))
            result = budget_ops.update_prefs(
                conn, guild_id=guild_id, user_id=user_id, at_ms=to_millis(at), **changes
            )
            if "timezone" in changes:  # counters follow the member's timezone
                budget_ops.rebuild_counters(conn, guild_id, user_id)
            return result

        return await self.db.write(update)

    async def member_timezone(self, *, guild_id: int, user_id: int) -> str:
        return await self.db.read(lambda conn: budget_ops.member_timezone(conn, guild_id, user_id))

    async def counter_mismatches(self) -> list[tuple[object, ...]]:
        return await self.db.read(budget_ops.counter_mismatches)

    async def owe(
        self,
        *,
        guild_id: int,
        user_id: int,
        kind: str,
        dedupe_key: str,
        payload: dict[str, object],
        at: datetime,
    ) -> bool:
        """Record a DM owed to a member, once per dedupe key (digests, for instance)."""
        return await self.db.write(
            partial(
                budget_ops.owe_reminder,
                guild_id=guild_id,
                user_id=user_id,
                kind=kind,
                dedupe_key=dedupe_key,
                payload=payload,
                at_ms=to_millis(at),
            )
        )

    async def digest_members(self) -> list[tuple[int, int, str]]:
        """(guild, member, timezone) of every member who asked for the weekly digest."""
        return await self.db.read(budget_ops.digest_members)

    async def gifted_by_creator(
        self, *, guild_id: int, user_id: int, start: datetime, end: datetime
    ) -> list[tuple[int, str | None, int]]:
        """(creator, name, coins) the member gifted in [start, end), most coins first."""
        return await self.db.read(
            lambda conn: budget_ops.gifted_by_creator(
                conn, guild_id, user_id, to_millis(start), to_millis(end)
            )
        )

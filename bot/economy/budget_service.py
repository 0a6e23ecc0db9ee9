"""Members' spending limits and preferences: the rules behind /budget and the age gate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .budget import Budget, BudgetChange, BudgetState, Mode, change_budget, parse_thresholds
from .clock import Now, from_millis
from .errors import InvalidSetting
from .periods import Period, Window, window, zone

if TYPE_CHECKING:
    from storage import Storage

    from .service import EconomyService, Party


class BudgetLocksTimezone(InvalidSetting):
    def __init__(self) -> None:
        super().__init__(
            "You can't move your budget to another timezone while a spending limit is in force: it "
            "would restart the count. Clear the limit first (/budget clear; that waits out the "
            "cooling-off), then change the timezone and set the limit again."
        )


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    budget: Budget | None
    own: bool
    """False when the guild's default budget applies."""
    state: BudgetState
    spent: int
    window: Window | None
    thresholds: tuple[int, ...]
    timezone: str
    daily: list[tuple[datetime, int]]
    """Coins spent per local day of the current period (days with spending only)."""

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None else max(0, self.budget.limit - self.spent)


class BudgetService:
    def __init__(self, storage: Storage, economy: EconomyService, *, now: Now) -> None:
        self.storage = storage
        self.economy = economy
        self.now = now

    async def _cooling_off(self, guild_id: int) -> timedelta:
        return timedelta(hours=(await self.economy.config(guild_id)).budget_cooling_off_hours)

    async def _default(self, guild_id: int) -> Budget | None:
        return (await self.economy.config(guild_id)).default_budget

    async def change(self, guild_id: int, member: Party, new: Budget | None) -> BudgetChange:
        """Set or clear (None) a budget: lowering is instant, raising or clearing waits."""
        stored = await self.storage.budget(
            guild_id=guild_id, user_id=member.id, default=await self._default(guild_id)
        )
        now = self.now()
        change = change_budget(stored.state, new, now=now, cooling_off=await self._cooling_off(guild_id))
        await self.storage.save_budget(
            guild_id=guild_id, user_id=member.id, state=change.state, thresholds=stored.thresholds, at=now
        )
        return change

    async def set(
        self, guild_id: int, member: Party, *, limit: int, period: Period, mode: Mode
    ) -> BudgetChange:
        return await self.change(guild_id, member, Budget(limit, period, mode))

    async def set_thresholds(self, guild_id: int, member: Party, raw: str) -> tuple[int, ...]:
        thresholds = parse_thresholds(raw)
        stored = await self.storage.budget(
            guild_id=guild_id, user_id=member.id, default=await self._default(guild_id)
        )
        await self.storage.save_budget(
            guild_id=guild_id, user_id=member.id, state=stored.state, thresholds=thresholds, at=self.now()
        )
        return thresholds

    async def status(self, guild_id: int, member_id: int) -> BudgetStatus:
        now = self.now()
        stored = await self.storage.budget(
            guild_id=guild_id, user_id=member_id, default=await self._default(guild_id)
        )
        budget = stored.state.effective(now)
        timezone = await self.storage.member_timezone(guild_id=guild_id, user_id=member_id)
        if budget is None:
            return BudgetStatus(None, stored.own, stored.state, 0, None, stored.thresholds, timezone, [])
        span = window(budget.period, now, zone(timezone))
        assert span.start is not None and span.end is not None
        spent = await self.storage.spent(guild_id=guild_id, user_id=member_id, period=budget.period, at=now)
        days = await self.storage.daily_spending(
            guild_id=guild_id, user_id=member_id, start=span.start, end=span.end
        )
        daily = [(from_millis(start), coins) for start, coins in days]
        return BudgetStatus(budget, stored.own, stored.state, spent, span, stored.thresholds, timezone, daily)

    async def set_timezone(self, guild_id: int, member: Party, name: str | None) -> str:
        """The member's own timezone for budget periods (None: follow the server's).

        Refused while a budget is in force: moving to a zone where a new day has just begun would
        reset the count at once, a way round a hard limit. Clearing first waits out the cooling-off.
        """
        if name is not None:
            zone(name)
        stored = await self.storage.budget(
            guild_id=guild_id, user_id=member.id, default=await self._default(guild_id)
        )
        state = stored.state
        if state.effective(self.now()) is not None or state.pending is not None:
            raise BudgetLocksTimezone()
        await self.storage.update_prefs(guild_id=guild_id, user_id=member.id, at=self.now(), timezone=name)
        return await self.storage.member_timezone(guild_id=guild_id, user_id=member.id)

    async def set_digest(self, guild_id: int, member: Party, on: bool) -> None:
        await self.storage.update_prefs(guild_id=guild_id, user_id=member.id, at=self.now(), weekly_digest=on)

    async def set_low_balance(self, guild_id: int, member: Party, below: int | None) -> None:
        if below is not None and not 1 <= below <= 1_000_000:
            raise InvalidSetting("Pick a low-balance reminder between 1 and 1,000,000 coins, or turn it off.")
        await self.storage.update_prefs(
            guild_id=guild_id, user_id=member.id, at=self.now(), low_balance_below=below
        )

    async def age_confirmed(self, guild_id: int, member_id: int) -> datetime | None:
        prefs = await self.storage.prefs(guild_id=guild_id, user_id=member_id)
        return from_millis(prefs.age_confirmed_at) if prefs.age_confirmed_at is not None else None

    async def confirm_age(self, guild_id: int, member: Party) -> datetime:
        """Record, once, that the member confirmed being 18 or older; returns when."""
        already = await self.age_confirmed(guild_id, member.id)
        if already is not None:
            return already
        now = self.now()
        await self.storage.update_prefs(
            guild_id=guild_id, user_id=member.id, at=now, age_confirmed_at=int(now.timestamp() * 1000)
        )
        return now

    async def needs_age_confirmation(
        self, guild_id: int, member_id: int, *, sells_coins: bool = False, allows_cashouts: bool = False
    ) -> bool:
        config = await self.economy.config(guild_id)
        reason = config.age_gate_reason(sells_coins=sells_coins, allows_cashouts=allows_cashouts)
        return reason is not None and await self.age_confirmed(guild_id, member_id) is None

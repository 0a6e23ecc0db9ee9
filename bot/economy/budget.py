"""Spending limits, as regulated spending works elsewhere: tightening is instant, loosening waits.

A member's budget caps what they spend on gifts per day, week or month (in their timezone).
A hard budget refuses the gift that would go past it; a soft one lets it through with a
warning. Reminders fire once per threshold per period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import EconomyError, InvalidSetting
from .periods import Period

BUDGET_PERIODS = (Period.DAY, Period.WEEK, Period.MONTH)
DEFAULT_THRESHOLDS = (50, 80, 100)
MAX_LIMIT = 100_000_000
ADJECTIVES = {Period.DAY: "daily", Period.WEEK: "weekly", Period.MONTH: "monthly"}


class Mode(StrEnum):
    HARD = "hard"
    SOFT = "soft"


@dataclass(frozen=True, slots=True)
class Budget:
    limit: int
    period: Period
    mode: Mode

    def __post_init__(self) -> None:
        if self.period not in BUDGET_PERIODS:
            raise InvalidSetting("Budgets run per day, week or month.")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidSetting(f"A budget is between 1 and {MAX_LIMIT:,} coins.")

    def is_at_least_as_strict_as(self, other: Budget) -> bool:
        """Same period, no higher limit, and no softer mode: safe to apply at once."""
        softer = self.mode is Mode.SOFT and other.mode is Mode.HARD
        return self.period is other.period and self.limit <= other.limit and not softer


@dataclass(frozen=True, slots=True)
class BudgetState:
    """What a member has set: the budget in force and a loosening change waiting to apply."""

    current: Budget | None
    pending: Budget | None = None
    pending_clear: bool = False
    pending_from: datetime | None = None

    def effective(self, now: datetime) -> Budget | None:
        """The budget that applies at `now`, with any due change folded in."""
        if self.pending_from is not None and now >= self.pending_from:
            return None if self.pending_clear else self.pending
        return self.current

    def settle(self, now: datetime) -> BudgetState:
        """The same state with a due change applied (so it can be stored)."""
        if self.pending_from is not None and now >= self.pending_from:
            return BudgetState(current=self.effective(now))
        return self


@dataclass(frozen=True, slots=True)
class BudgetChange:
    state: BudgetState
    immediate: bool
    takes_effect: datetime


def change_budget(
    state: BudgetState, new: Budget | None, *, now: datetime, cooling_off: timedelta
) -> BudgetChange:
    """Set (or, with None, clear) a budget. Tightening applies now; loosening after `cooling_off`.

    A new change replaces any change still waiting, so a member can always tighten at once.
    """
    in_force = state.effective(now)
    tighter = new is not None and (in_force is None or new.is_at_least_as_strict_as(in_force))
    if tighter:
        return BudgetChange(BudgetState(current=new), immediate=True, takes_effect=now)
    if in_force is None and new is None:
        return BudgetChange(BudgetState(current=None), immediate=True, takes_effect=now)
    when = now + cooling_off
    waiting = BudgetState(current=in_force, pending=new, pending_clear=new is None, pending_from=when)
    return BudgetChange(waiting, immediate=False, takes_effect=when)


@dataclass(frozen=True, slots=True)
class SpendPolicy:
    """A guild's spending rules for members: a default budget and a cap on one gift."""

    default_budget: Budget | None = None
    max_gift_coins: int | None = None


class BudgetExceeded(EconomyError):
    def __init__(self, *, remaining: int, limit: int, period: Period, needed: int) -> None:
        self.remaining = remaining
        self.limit = limit
        self.period = period
        super().__init__(
            f"This gift costs {needed:,} coin{'' if needed == 1 else 's'}, "
            f"but your {ADJECTIVES[period]} budget of {limit:,} has "
            f"{remaining:,} left. Change it with /budget set (raising it takes effect after a cooling-off)."
        )


class GiftTooLarge(EconomyError):
    def __init__(self, *, coins: int, maximum: int) -> None:
        super().__init__(
            f"This server allows gifts of at most {maximum:,} coins at once; this one is {coins:,}."
        )


@dataclass(frozen=True, slots=True)
class SpendCheck:
    """The outcome of checking a spend against a budget."""

    allowed: bool
    over_soft_limit: bool
    crossed: tuple[int, ...]
    """Reminder thresholds (percent) this spend crossed, lowest first."""


def check_spend(
    budget: Budget | None, *, spent_before: int, coins: int, thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
) -> SpendCheck:
    if budget is None:
        return SpendCheck(allowed=True, over_soft_limit=False, crossed=())
    after = spent_before + coins
    if after > budget.limit and budget.mode is Mode.HARD:
        return SpendCheck(allowed=False, over_soft_limit=False, crossed=())
    crossed = tuple(t for t in sorted(thresholds) if spent_before * 100 < t * budget.limit <= after * 100)
    return SpendCheck(allowed=True, over_soft_limit=after > budget.limit, crossed=crossed)


def parse_thresholds(raw: str) -> tuple[int, ...]:
    """ "50, 80, 100" → (50, 80, 100): whole percents from 1 to 100, at most five."""
    try:
        values = sorted({int(part.strip().rstrip("%")) for part in raw.split(",") if part.strip()})
    except ValueError as exc:
        raise InvalidSetting("Give reminder thresholds as percents, like `50, 80, 100`.") from exc
    if not values or len(values) > 5 or values[0] < 1 or values[-1] > 100:
        raise InvalidSetting("Give one to five reminder thresholds between 1% and 100%.")
    return tuple(values)

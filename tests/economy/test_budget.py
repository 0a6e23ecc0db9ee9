"""Budget rules: tightening is instant, loosening waits; hard refuses, soft warns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.economy.budget import (
    Budget,
    BudgetState,
    Mode,
    change_budget,
    check_spend,
    parse_thresholds,
)
from bot.economy.errors import InvalidSetting
from bot.economy.periods import Period

NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)
DAY = timedelta(hours=24)
WEEKLY_HARD_1000 = Budget(1_000, Period.WEEK, Mode.HARD)


def test_a_first_budget_applies_at_once():
    change = change_budget(BudgetState(current=None), WEEKLY_HARD_1000, now=NOW, cooling_off=DAY)
    assert change.immediate and change.takes_effect == NOW
    assert change.state.effective(NOW) == WEEKLY_HARD_1000


@pytest.mark.parametrize(
    "tighter",
    [Budget(500, Period.WEEK, Mode.HARD), Budget(1_000, Period.WEEK, Mode.HARD)],
)
def test_lowering_a_limit_is_instant(tighter):
    change = change_budget(BudgetState(WEEKLY_HARD_1000), tighter, now=NOW, cooling_off=DAY)
    assert change.immediate
    assert change.state.effective(NOW) == tighter


@pytest.mark.parametrize(
    "looser",
    [
        Budget(2_000, Period.WEEK, Mode.HARD),  # higher
        Budget(1_000, Period.WEEK, Mode.SOFT),  # softer
        Budget(500, Period.MONTH, Mode.HARD),  # another period: not comparable, so it waits
        None,  # clearing
    ],
)
def test_raising_softening_or_clearing_waits_out_the_cooling_off(looser):
    change = change_budget(BudgetState(WEEKLY_HARD_1000), looser, now=NOW, cooling_off=DAY)
    assert not change.immediate and change.takes_effect == NOW + DAY
    assert change.state.effective(NOW + DAY - timedelta(seconds=1)) == WEEKLY_HARD_1000
    assert change.state.effective(NOW + DAY) == looser
    assert change.state.settle(NOW + DAY) == BudgetState(current=looser)


def test_tightening_during_a_cooling_off_replaces_the_waiting_raise():
    raised = change_budget(
        BudgetState(WEEKLY_HARD_1000), Budget(5_000, Period.WEEK, Mode.HARD), now=NOW, cooling_off=DAY
    )
    lowered = change_budget(
        raised.state, Budget(300, Period.WEEK, Mode.HARD), now=NOW + timedelta(hours=1), cooling_off=DAY
    )
    assert lowered.immediate
    assert lowered.state.effective(NOW + 2 * DAY).limit == 300


def test_hard_limit_refuses_the_spend_that_would_pass_it():
    assert check_spend(WEEKLY_HARD_1000, spent_before=900, coins=100).allowed
    assert not check_spend(WEEKLY_HARD_1000, spent_before=900, coins=101).allowed


def test_soft_limit_lets_it_through_with_a_warning():
    soft = Budget(1_000, Period.WEEK, Mode.SOFT)
    result = check_spend(soft, spent_before=900, coins=500)
    assert result.allowed and result.over_soft_limit
    assert result.crossed == (100,)


@pytest.mark.parametrize(
    ("before", "coins", "crossed"),
    [
        (0, 499, ()),
        (0, 500, (50,)),
        (499, 1, (50,)),
        (500, 1, ()),
        (0, 1_000, (50, 80, 100)),
        (790, 20, (80,)),
    ],
)
def test_each_threshold_is_crossed_exactly_once(before, coins, crossed):
    assert check_spend(WEEKLY_HARD_1000, spent_before=before, coins=coins).crossed == crossed


def test_no_budget_allows_anything():
    result = check_spend(None, spent_before=10**9, coins=10**6)
    assert result.allowed and not result.crossed


def test_thresholds_parse_and_validate():
    assert parse_thresholds("100, 50,80%") == (50, 80, 100)
    for bad in ("", "0", "101", "a,b", "1,2,3,4,5,6"):
        with pytest.raises(InvalidSetting):
            parse_thresholds(bad)


@pytest.mark.parametrize("limit", [0, -5, 100_000_001])
def test_budget_limits_are_bounded(limit):
    with pytest.raises(InvalidSetting):
        Budget(limit, Period.WEEK, Mode.HARD)


def test_budgets_run_per_day_week_or_month_only():
    with pytest.raises(InvalidSetting):
        Budget(10, Period.YEAR, Mode.HARD)

"""Stored times are integer milliseconds; pages and ledger totals compute their own summaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.economy.clock import from_millis, to_millis
from bot.economy.models import Currency, LedgerTotals, Page


def test_millis_round_trip():
    moment = datetime(2026, 3, 8, 7, 30, 15, 123000, tzinfo=UTC)
    assert to_millis(moment) == 1_772_955_015_123
    assert from_millis(to_millis(moment)) == moment
    assert from_millis(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_millis_are_the_same_instant_in_any_offset():
    new_york = datetime(2026, 3, 8, 2, 30, 15, 123000, tzinfo=timezone(timedelta(hours=-5)))
    assert to_millis(new_york) == 1_772_955_015_123


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        to_millis(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize(
    ("total", "offset", "limit", "number", "count"),
    [
        (0, 0, 10, 1, 1),
        (1, 0, 10, 1, 1),
        (10, 0, 10, 1, 1),
        (11, 10, 10, 2, 2),
        (25, 20, 10, 3, 3),
        (5, 0, 0, 1, 1),
    ],
)
def test_page_numbers(total, offset, limit, number, count):
    page: Page[int] = Page([], total, offset, limit)
    assert (page.page_number, page.page_count) == (number, count)


def test_ledger_totals_balance_only_when_every_currency_sums_to_zero():
    assert LedgerTotals({Currency.COIN: 0, Currency.DIAMOND: 0}).balanced
    assert not LedgerTotals({Currency.COIN: 0, Currency.DIAMOND: -1}).balanced

"""Amounts are whole, bounded numbers; a gift's coins split into diamonds and the platform's keep."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from bot.economy.errors import AmountOutOfRange
from bot.economy.money import MAX_OPERATION_AMOUNT, check_amount, gift_cost, split_gift


@pytest.mark.parametrize("amount", [1, 2, 299, 29_999, 999_999, 1_000_000])
def test_amounts_from_one_to_a_million_are_accepted(amount):
    assert check_amount(amount) == amount


def test_the_limit_is_one_million():
    assert MAX_OPERATION_AMOUNT == 1_000_000


@pytest.mark.parametrize("amount", [0, -1, -1_000_000, 1_000_001, 10**18])
def test_amounts_outside_the_range_are_refused(amount):
    with pytest.raises(AmountOutOfRange) as refused:
        check_amount(amount)
    assert refused.value.amount == amount
    assert refused.value.maximum == MAX_OPERATION_AMOUNT


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "The amount must be at least 1."),
        (-5, "The amount must be at least 1."),
        (1_000_001, "1,000,001 is more than the 1,000,000 allowed in one operation."),
    ],
)
def test_out_of_range_messages_are_readable(amount, message):
    with pytest.raises(AmountOutOfRange) as refused:
        check_amount(amount)
    assert refused.value.user_message == message


@pytest.mark.parametrize("amount", [True, False, 1.0, 5.5, Decimal(3), Fraction(3, 1), "5", None])
def test_only_real_ints_are_amounts(amount):
    with pytest.raises(TypeError):
        check_amount(amount)


# (coins, share %) -> (diamonds, platform coins)
SPLITS = [
    (1, 50, 0, 1),
    (2, 50, 1, 1),
    (3, 50, 1, 2),
    (299, 50, 149, 150),
    (29_999, 50, 14_999, 15_000),
    (1_000_000, 50, 500_000, 500_000),
    (1, 0, 0, 1),
    (100, 0, 0, 100),
    (1, 100, 1, 0),
    (29_999, 100, 29_999, 0),
    (1, 99, 0, 1),
    (99, 1, 0, 99),
    (100, 1, 1, 99),
    (199, 1, 1, 198),
    (10, 33, 3, 7),
    (3, 33, 0, 3),
    (7, 70, 4, 3),
    (1_000_000, 99, 990_000, 10_000),
    (999_999, 37, 369_999, 630_000),
]


@pytest.mark.parametrize(("coins", "share", "diamonds", "platform"), SPLITS)
def test_split_floors_diamonds_and_the_platform_keeps_the_rest(coins, share, diamonds, platform):
    split = split_gift(coins, share)
    assert (split.coins, split.diamonds, split.platform_coins) == (coins, diamonds, platform)


@pytest.mark.parametrize("share", range(0, 101))
@pytest.mark.parametrize("coins", [1, 5, 99, 299, 4_888, 44_999, 1_000_000])
def test_split_never_invents_or_loses_a_coin(coins, share):
    split = split_gift(coins, share)
    assert split.diamonds + split.platform_coins == coins
    assert 0 <= split.diamonds <= coins
    assert split.diamonds * 100 <= coins * share < (split.diamonds + 1) * 100


@pytest.mark.parametrize("share", [-1, 101, 1000])
def test_split_refuses_shares_outside_0_to_100(share):
    with pytest.raises(ValueError):
        split_gift(100, share)


@pytest.mark.parametrize(
    ("price", "count", "cost"),
    [
        (1, 1, 1),
        (1, 15, 15),
        (299, 3, 897),
        (29_999, 33, 989_967),
        (1_000_000, 1, 1_000_000),
        (1, 1_000_000, 1_000_000),
    ],
)
def test_gift_cost_is_price_times_count(price, count, cost):
    assert gift_cost(price, count) == cost


@pytest.mark.parametrize(("price", "count"), [(29_999, 34), (1_000_000, 2), (1, 1_000_001)])
def test_gift_cost_over_the_limit_is_refused(price, count):
    with pytest.raises(AmountOutOfRange):
        gift_cost(price, count)


@pytest.mark.parametrize("count", [0, -1, -100])
def test_gift_count_must_be_positive(count):
    with pytest.raises(AmountOutOfRange) as refused:
        gift_cost(1, count)
    assert refused.value.user_message == "The amount must be at least 1."

"""Amounts and the diamond split, in whole numbers only."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import AmountOutOfRange

MAX_OPERATION_AMOUNT = 1_000_000
"""No single grant, revoke or gift moves more coins than this."""


def check_amount(amount: int) -> int:
    """Return `amount` if one operation may move it, else raise AmountOutOfRange."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amounts are whole numbers")
    if amount <= 0 or amount > MAX_OPERATION_AMOUNT:
        raise AmountOutOfRange(amount=amount, maximum=MAX_OPERATION_AMOUNT)
    return amount


@dataclass(frozen=True, slots=True)
class GiftSplit:
    """Where the coins of one gift go: the creator's diamonds and the platform's keep."""

    coins: int
    diamonds: int
    platform_coins: int


def split_gift(coins: int, share_percent: int) -> GiftSplit:
    """The creator gets floor(coins × share) diamonds; the platform keeps the rest.

    The floor means the platform absorbs fractions, so no diamond is ever invented.
    """
    if not 0 <= share_percent <= 100:
        raise ValueError("share_percent must be between 0 and 100")
    diamonds = coins * share_percent // 100
    return GiftSplit(coins=coins, diamonds=diamonds, platform_coins=coins - diamonds)


@dataclass(frozen=True, slots=True)
class TaggedSplit:
    """A gift's coins and diamonds divided into promo and paid parts."""

    promo_coins: int
    paid_coins: int
    promo_diamonds: int
    paid_diamonds: int


def tag_gift(split: GiftSplit, *, promo_available: int, share_percent: int) -> TaggedSplit:
    """Promo coins are spent first. Paid diamonds are floor(paid coins × share), so promo coins
    can never round up into a cashable diamond; the promo part takes the remainder."""
    promo = min(split.coins, max(0, promo_available))
    paid = split.coins - promo
    paid_diamonds = paid * share_percent // 100
    return TaggedSplit(promo, paid, split.diamonds - paid_diamonds, paid_diamonds)


def gift_cost(price: int, count: int) -> int:
    """Coins for `count` of a gift, checked against the per-operation range."""
    if count <= 0:
        raise AmountOutOfRange(amount=count, maximum=MAX_OPERATION_AMOUNT)
    return check_amount(price * count)

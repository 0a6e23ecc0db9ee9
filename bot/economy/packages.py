"""Coin packages: what a purchase is worth, and what a running promotion adds to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# TikTok's packages (US app, see the project's reference notes): (coins, bonus coins).
DEFAULT_PACKAGES: tuple[tuple[int, int], ...] = (
    (70, 0),
    (350, 38),
    (700, 100),
    (1_400, 300),
    (3_500, 800),
    (7_000, 2_000),
)

MAX_PROMOTION_PERCENT = 500


@dataclass(frozen=True, slots=True)
class CoinPackage:
    id: int
    guild_id: int
    coins: int
    bonus: int
    sku_id: int | None
    enabled: bool

    @property
    def total(self) -> int:
        """Coins the buyer receives, package bonus included: all of them are paid coins."""
        return self.coins + self.bonus


@dataclass(frozen=True, slots=True)
class Promotion:
    id: int
    guild_id: int
    percent: int
    starts_at: datetime
    ends_at: datetime
    created_by: int
    cancelled_at: datetime | None = None

    def running_at(self, moment: datetime) -> bool:
        """A cancelled promotion ran until it was cancelled: a purchase made before that (and
        credited later, say after a restart) still gets its bonus."""
        if self.cancelled_at is not None and moment >= self.cancelled_at:
            return False
        return self.starts_at <= moment < self.ends_at


def promotion_bonus(
    total: int, promotions: Iterable[Promotion], purchased_at: datetime
) -> tuple[int, int | None]:
    """(bonus coins, promotion id) for a purchase of `total` coins: the best running promotion
    applies, floored to whole coins; overlapping promotions never stack."""
    best: Promotion | None = None
    for promotion in promotions:
        if promotion.running_at(purchased_at) and (best is None or promotion.percent > best.percent):
            best = promotion
    if best is None:
        return 0, None
    return total * best.percent // 100, best.id

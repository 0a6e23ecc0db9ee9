"""Purchases of coin packages, as the economy sees them: plain facts about a Discord entitlement
in, credits and refunds out. Which guild gets the coins is decided in storage, in the credit's
own transaction: the interaction's guild, else the guild of the buyer's latest purchase intent
for that SKU, else the buyer's inbox (each only if that guild sells the SKU).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .clock import from_millis
from .errors import EconomyError
from .money import MAX_OPERATION_AMOUNT
from .packages import CoinPackage, Promotion

DISCORD_EPOCH_MS = 1_420_070_400_000
MAX_SNOWFLAKE = 2**64 - 1


def snowflake_time(snowflake: int) -> datetime:
    """When Discord made an id: an entitlement's id dates its purchase."""
    return from_millis((snowflake >> 22) + DISCORD_EPOCH_MS)


def parse_snowflake(text: str, what: str = "SKU id") -> int:
    """A Discord id typed by a moderator (17 to 20 digits)."""
    digits = text.strip()
    if not digits.isdigit() or not 15 <= len(digits) <= 20 or not 0 < int(digits) <= MAX_SNOWFLAKE:
        raise InvalidSku(
            f"That is not a {what}: copy it from the developer portal (Monetization → SKUs), "
            "a number of 17 to 20 digits."
        )
    return int(digits)


class PurchaseStatus(StrEnum):
    INBOX = "inbox"  # consumed, coins waiting for /store claim in a guild of the buyer's choice
    CREDITED = "credited"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class EntitlementFacts:
    """What giftbot needs from a Discord entitlement."""

    id: int
    user_id: int
    sku_id: int

    @property
    def purchased_at(self) -> datetime:
        return snowflake_time(self.id)


@dataclass(frozen=True, slots=True)
class Purchase:
    entitlement_id: int
    user_id: int
    sku_id: int
    guild_id: int | None
    package_id: int | None
    coins: int
    """Paid coins credited: the package's coins and its own bonus."""
    bonus_coins: int
    """A promotion's extra coins, credited as promo coins in their own entry."""
    promotion_id: int | None
    entry_id: int | None
    bonus_entry_id: int | None
    status: PurchaseStatus
    purchased_at: datetime
    credited_at: datetime | None
    consumed_at: datetime | None
    refunded_at: datetime | None
    refund_entry_id: int | None
    unrecovered: int


@dataclass(frozen=True, slots=True)
class Credit:
    """The outcome of crediting an entitlement (or finding it already handled)."""

    purchase: Purchase
    fresh: bool
    """True when this call decided it; False for a replay (nothing moved, no receipt owed)."""
    balance: int | None = None
    """The buyer's coins in that guild afterwards (None when the coins wait in the inbox)."""
    package: CoinPackage | None = None
    promotion: Promotion | None = None

    @property
    def in_inbox(self) -> bool:
        return self.purchase.status is PurchaseStatus.INBOX


@dataclass(frozen=True, slots=True)
class Refund:
    purchase: Purchase
    fresh: bool
    coins_recovered: int = 0
    bonus_recovered: int = 0
    diamonds_recovered: int = 0
    diamonds_unrecovered: int = 0
    entry_id: int | None = None

    @property
    def coins_unrecovered(self) -> int:
        return self.purchase.unrecovered


@dataclass(frozen=True, slots=True)
class StoreShelf:
    """What /store view shows one member: the packages on sale here and any promotion."""

    packages: list[CoinPackage]
    running: Promotion | None
    upcoming: Promotion | None


def check_package(coins: int, bonus: int) -> tuple[int, int]:
    if coins <= 0 or bonus < 0:
        raise EconomyError("A package needs at least 1 coin, and its bonus can't be negative.")
    if coins + bonus > MAX_OPERATION_AMOUNT:
        raise EconomyError(f"A package can hold at most {MAX_OPERATION_AMOUNT:,} coins, bonus included.")
    return coins, bonus


class InvalidSku(EconomyError):
    pass


class UnknownPackage(EconomyError):
    user_message = "There is no such package here. Pick one from the list (/mod store list)."


class PackageConflict(EconomyError):
    def __init__(self, coins: int, bonus: int) -> None:
        super().__init__(f"This server already sells a package of {coins:,} + {bonus:,} bonus coins.")


class SkuInUse(EconomyError):
    def __init__(self, sku_id: int, package: CoinPackage) -> None:
        super().__init__(
            f"SKU {sku_id} already sells the {package.coins:,} + {package.bonus:,} package here. "
            "Unmap it there first."
        )


class NothingToClaim(EconomyError):
    user_message = "You have no purchases waiting to be claimed."


class NotSoldHere(EconomyError):
    user_message = (
        "This server doesn't sell that package, so it can't take those coins. Claim them in a "
        "server that does (its /store view lists it)."
    )


class UnknownPromotion(EconomyError):
    user_message = "There is no such promotion here. Pick one from the list (/mod promo list)."


class PromotionOver(EconomyError):
    user_message = "That promotion has already ended or was cancelled."

"""The plain objects that storage returns and cogs render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Currency(StrEnum):
    COIN = "coin"
    DIAMOND = "diamond"


class EntryKind(StrEnum):
    GRANT = "grant"
    REVOKE = "revoke"
    GIFT = "gift"
    PURCHASE = "purchase"
    PURCHASE_BONUS = "purchase_bonus"  # a promotion's extra coins on a purchase: promo coins
    REFUND = "refund"
    CASHOUT_REQUEST = "cashout_request"
    CASHOUT_APPROVE = "cashout_approve"
    CASHOUT_REJECT = "cashout_reject"


@dataclass(frozen=True, slots=True)
class GiftItem:
    id: int
    guild_id: int
    name: str
    emoji: str
    price: int
    enabled: bool
    comboable: bool


@dataclass(frozen=True, slots=True)
class Balances:
    """A member's wallet. `coins` and `diamonds` are totals; the rest says where they came from.

    Paid coins were bought; promo coins were granted. Paid diamonds came from paid coins and can
    be cashed out once out of the refund window (`held_diamonds` are still inside it); pending
    diamonds wait on a cash-out decision and count in neither total.
    """

    coins: int
    diamonds: int
    paid_coins: int = 0
    paid_diamonds: int = 0
    held_diamonds: int = 0
    pending_diamonds: int = 0

    @property
    def promo_coins(self) -> int:
        return self.coins - self.paid_coins

    @property
    def promo_diamonds(self) -> int:
        return self.diamonds - self.paid_diamonds

    @property
    def cashable_diamonds(self) -> int:
        return max(0, self.paid_diamonds - self.held_diamonds)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A grant or revoke as recorded; `replayed` means the key was seen before."""

    entry_id: int
    amount: int
    balance: int
    created_at: datetime
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class GiftReceipt:
    entry_id: int
    gift: GiftItem
    count: int
    coins: int
    diamonds: int
    platform_coins: int
    sender_id: int
    creator_id: int
    sender_balance: int
    created_at: datetime
    replayed: bool = False
    over_budget: bool = False
    """The sender's soft budget is exceeded: the gift went through, and they should be told."""
    paid_coins: int = 0
    """Of `coins`, how many were bought ones: a gift spends promo coins first."""
    paid_diamonds: int = 0


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One ledger entry from a member's point of view."""

    entry_id: int
    kind: EntryKind
    coins: int
    diamonds: int
    created_at: datetime
    reason: str | None
    counterparty_id: int | None = None
    gift_name: str | None = None
    gift_emoji: str | None = None
    count: int | None = None
    pending: int = 0
    """Change to the member's diamonds set aside for a cash-out (not part of `diamonds`)."""


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    rank: int
    user_id: int
    name: str
    score: int


@dataclass(frozen=True, slots=True)
class Creator:
    guild_id: int
    user_id: int
    added_by: int
    added_at: datetime


@dataclass(frozen=True, slots=True)
class SettingChange:
    key: str
    old_value: str | None
    new_value: str | None
    actor_id: int
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    limit: int = 10
    more: bool = False
    """`total` is a lower bound: counting stopped there, a fixed way past this page (a count of
    everything would grow with the server), and goes further as one pages on."""

    @property
    def page_number(self) -> int:
        return self.offset // self.limit + 1 if self.limit else 1

    @property
    def page_count(self) -> int:
        counted = max(1, -(-self.total // self.limit)) if self.limit else 1
        return max(counted, self.page_number + 1) if self.more else counted  # more: a next page


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """Each currency's sum over every account; zero when the books balance."""

    sums: dict[Currency, int]

    @property
    def balanced(self) -> bool:
        return all(total == 0 for total in self.sums.values())


class Board(StrEnum):
    GIFTERS = "gifters"  # coins sent
    CREATORS = "creators"  # coins received
    SUPPORTERS = "supporters"  # coins sent to one creator


@dataclass(frozen=True, slots=True)
class BestGift:
    sender_id: int
    sender_name: str
    gift_name: str
    gift_emoji: str
    count: int
    coins: int


@dataclass(frozen=True, slots=True)
class CreatorStats:
    coins: int
    diamonds: int
    gifts: int
    gifters: int
    top_supporters: list[LeaderboardRow]
    best_gift: BestGift | None

"""Ledger entries as moderators read them in /mod audit: each entry with all its transfers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .models import Currency

SYSTEM_OWNER = 0
COIN_CODES = frozenset({"coins_promo", "coins_paid"})
DIAMOND_CODES = frozenset({"diamonds_promo", "diamonds_paid"})
PENDING_CODE = "diamonds_pending"


@dataclass(frozen=True, slots=True)
class LedgerLeg:
    """One transfer: `amount` of `currency` from the debit account to the credit account; an
    account is its owner (0 for the guild's own accounts) and its code."""

    transfer_id: int
    currency: Currency
    amount: int
    debit_owner: int
    debit_code: str
    credit_owner: int
    credit_code: str


@dataclass(frozen=True, slots=True)
class MemberDelta:
    """What one entry did to one member's wallet. Pending diamonds wait on a cash-out decision
    and count in neither coins nor diamonds."""

    coins: int = 0
    diamonds: int = 0
    pending: int = 0

    @property
    def empty(self) -> bool:
        return not (self.coins or self.diamonds or self.pending)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    kind: str
    actor_id: int
    reason: str | None
    created_at: datetime
    legs: tuple[LedgerLeg, ...]

    def members(self) -> list[int]:
        """The members whose wallets the entry touched, in the order its transfers name them."""
        seen: dict[int, None] = {}
        for leg in self.legs:
            for owner in (leg.debit_owner, leg.credit_owner):
                if owner != SYSTEM_OWNER:
                    seen.setdefault(owner)
        return list(seen)

    def delta(self, member_id: int) -> MemberDelta:
        coins = diamonds = pending = 0
        for leg in self.legs:
            for owner, code, sign in (
                (leg.debit_owner, leg.debit_code, -1),
                (leg.credit_owner, leg.credit_code, 1),
            ):
                if owner != member_id:
                    continue
                if code in COIN_CODES:
                    coins += sign * leg.amount
                elif code in DIAMOND_CODES:
                    diamonds += sign * leg.amount
                elif code == PENDING_CODE:
                    pending += sign * leg.amount
        return MemberDelta(coins, diamonds, pending)

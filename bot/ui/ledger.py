"""Ledger entries in words: the label of each kind, and signed amounts, for /history and /mod audit."""

from __future__ import annotations

from typing import Protocol

from bot.economy.ledger_entries import SYSTEM_OWNER, LedgerEntry
from bot.economy.models import Currency

from . import format as fmt
from . import theme

PENDING = "⏳"
MAX_MEMBERS_SHOWN = 5

KIND_LABELS = {
    "grant": "Promo grant",
    "revoke": "Revoke",
    "gift": "Gift",
    "purchase": "Purchase",
    "purchase_bonus": "Promotion bonus",
    "refund": "Refund",
    "cashout_request": "Cash-out requested",
    "cashout_approve": "Cash-out paid",
    "cashout_reject": "Cash-out rejected",
}


def kind_label(kind: str) -> str:
    """A readable name for an entry kind, including kinds added after this table."""
    return KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


class WalletChange(Protocol):
    """What an entry did to one wallet: a MemberDelta, or a /history HistoryEntry."""

    @property
    def coins(self) -> int: ...
    @property
    def diamonds(self) -> int: ...
    @property
    def pending(self) -> int: ...


def signed_amounts(delta: WalletChange) -> str:
    """`🪙 -15 · 💎 +7 · ⏳ +1,000 pending`: what an entry did to one wallet."""
    parts = []
    if delta.coins:
        parts.append(f"{theme.COIN} {fmt.signed(delta.coins)}")
    if delta.diamonds:
        parts.append(f"{theme.DIAMOND} {fmt.signed(delta.diamonds)}")
    if delta.pending:
        parts.append(f"{PENDING} {fmt.signed(delta.pending)} pending")
    return " · ".join(parts) or "—"


def moved(entry: LedgerEntry) -> str:
    """Per currency, what the entry moved in or out of members' wallets (each transfer once)."""
    totals = {Currency.COIN: 0, Currency.DIAMOND: 0}
    for leg in entry.legs:
        if leg.debit_owner == SYSTEM_OWNER and leg.credit_owner == SYSTEM_OWNER:
            continue  # the guild's own accounts among themselves (a gift's platform fee)
        totals[leg.currency] += leg.amount
    parts = []
    if totals[Currency.COIN]:
        parts.append(fmt.coins(totals[Currency.COIN]))
    if totals[Currency.DIAMOND]:
        parts.append(fmt.diamonds(totals[Currency.DIAMOND]))
    return " · ".join(parts) or "—"


def actor(user_id: int) -> str:
    return "giftbot" if user_id == SYSTEM_OWNER else fmt.person(user_id)


def members(entry: LedgerEntry) -> str:
    found = entry.members()
    shown = ", ".join(fmt.person(member) for member in found[:MAX_MEMBERS_SHOWN])
    more = len(found) - MAX_MEMBERS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")

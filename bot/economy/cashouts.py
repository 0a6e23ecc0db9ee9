"""Diamond cash-outs: the request a creator makes, the decision a moderator records, and the
refusals on the way. No real money moves through giftbot: moderators pay outside Discord.

Only paid diamonds out of the refund window are cashable. A request parks them in the creator's
pending account at once, so the same diamonds can never be asked for twice; approval sends them
to the guild's cash-out account, rejection returns them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .errors import EconomyError
from .models import Balances

MAX_REFERENCE = 200
MAX_REASON = 200


class CashoutStatus(StrEnum):
    PENDING = "pending"
    FROZEN = "frozen"  # the creator left the server: waits for a moderator, nothing is lost
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Cashout:
    id: int
    guild_id: int
    creator_id: int
    amount: int
    status: CashoutStatus
    request_entry_id: int
    requested_at: datetime
    decided_by: int | None = None
    decided_at: datetime | None = None
    decision_entry_id: int | None = None
    reference: str | None = None
    reason: str | None = None

    @property
    def open(self) -> bool:
        """Still waiting for a moderator's decision."""
        return self.status in (CashoutStatus.PENDING, CashoutStatus.FROZEN)


@dataclass(frozen=True, slots=True)
class CashoutReceipt:
    """A request as recorded, with the creator's wallet right after it."""

    cashout: Cashout
    balances: Balances
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """An approval or rejection as recorded. `replayed`: this very decision was already recorded."""

    cashout: Cashout
    replayed: bool = False


# -- refusals ----------------------------------------------------------------------------------


class CashoutsOff(EconomyError):
    user_message = (
        "Cash-outs are off in this server. A manager can turn them on with "
        "`/config set setting:cashouts value:on`."
    )


class BelowMinimum(EconomyError):
    def __init__(self, *, amount: int, minimum: int) -> None:
        self.amount, self.minimum = amount, minimum
        super().__init__(f"The smallest cash-out here is {minimum:,} diamonds; you asked for {amount:,}.")


class NotCashable(EconomyError):
    """More diamonds asked for than are cashable right now; `balances` says where they are."""

    def __init__(self, *, amount: int, balances: Balances) -> None:
        self.amount, self.balances = amount, balances
        super().__init__(
            f"You can cash out {balances.cashable_diamonds:,} diamonds right now, not {amount:,}. "
            "Only diamonds from bought coins can be cashed out, once the refund window has passed."
        )


class SelfApproval(EconomyError):
    user_message = "You can't approve your own cash-out: another moderator has to decide it."


class UnknownCashout(EconomyError):
    user_message = "There is no such cash-out request in this server."


class AlreadyDecided(EconomyError):
    """Someone decided this request first (a double click, or two moderators at once)."""

    def __init__(self, cashout: Cashout) -> None:
        self.cashout = cashout
        super().__init__(f"That cash-out was already {cashout.status.value}; nothing was changed.")


class BadText(EconomyError):
    """A payment reference or a rejection reason that is empty or too long."""


def clean_text(text: str, *, what: str, limit: int) -> str:
    """One line of free text for the ledger: spaces collapsed, not empty, not too long."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise BadText(f"Give a {what}; it is kept in the ledger.")
    if len(cleaned) > limit:
        raise BadText(f"Keep the {what} under {limit} characters.")
    return cleaned

"""The rules behind /creator cashout and /mod cashouts: what a request must pass, and who decides.

Storage re-checks what is cashable and whether a request is still open inside the transaction
that moves the diamonds; this layer checks the server's settings and cleans the free text.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .cashouts import (
    MAX_REASON,
    MAX_REFERENCE,
    BelowMinimum,
    Cashout,
    CashoutReceipt,
    CashoutsOff,
    clean_text,
)
from .clock import Now
from .models import Page
from .money import check_amount

if TYPE_CHECKING:
    from storage import Storage

    from .service import EconomyService, Party


class CashoutService:
    def __init__(self, storage: Storage, economy: EconomyService, *, now: Now) -> None:
        self.storage = storage
        self.economy = economy
        self.now = now

    async def request(self, guild_id: int, creator: Party, diamonds: int, *, key: str) -> CashoutReceipt:
        """Set `diamonds` aside for a cash-out, if the server allows them and they are cashable."""
        config = await self.economy.config(guild_id)
        if not config.cashouts:
            raise CashoutsOff()
        check_amount(diamonds)
        if diamonds < config.cashout_minimum:
            raise BelowMinimum(amount=diamonds, minimum=config.cashout_minimum)
        return await self.storage.request_cashout(
            guild_id=guild_id,
            creator_id=creator.id,
            amount=diamonds,
            minimum=config.cashout_minimum,
            key=key,
            at=self.now(),
        )

    async def approve(self, guild_id: int, cashout_id: int, moderator: Party, reference: str) -> Cashout:
        """Record the request as paid, with the moderator's payment reference. Decisions stay
        possible when cash-outs were turned off since: the diamonds are already set aside."""
        return await self.storage.approve_cashout(
            guild_id=guild_id,
            cashout_id=cashout_id,
            moderator_id=moderator.id,
            reference=clean_text(reference, what="payment reference", limit=MAX_REFERENCE),
            at=self.now(),
        )

    async def reject(self, guild_id: int, cashout_id: int, moderator: Party, reason: str) -> Cashout:
        """Refuse the request; the diamonds go back to the creator."""
        return await self.storage.reject_cashout(
            guild_id=guild_id,
            cashout_id=cashout_id,
            moderator_id=moderator.id,
            reason=clean_text(reason, what="reason", limit=MAX_REASON),
            at=self.now(),
        )

    async def freeze(self, guild_id: int, cashout_id: int, *, actor_id: int) -> bool:
        """The creator left the server: their request waits, frozen, for a moderator."""
        return await self.storage.freeze_cashout(
            guild_id=guild_id, cashout_id=cashout_id, actor_id=actor_id, at=self.now()
        )

    async def get(self, guild_id: int, cashout_id: int) -> Cashout | None:
        return await self.storage.cashout(guild_id=guild_id, cashout_id=cashout_id)

    async def open_requests(self, guild_id: int, *, page: int, per_page: int) -> Page[Cashout]:
        return await self.storage.open_cashouts(guild_id=guild_id, offset=page * per_page, limit=per_page)

    async def next_maturity(self, guild_id: int, user_id: int) -> datetime | None:
        """When the member's next held diamonds become cashable (None when none are held)."""
        return await self.storage.next_hold_maturity(guild_id=guild_id, user_id=user_id, at=self.now())

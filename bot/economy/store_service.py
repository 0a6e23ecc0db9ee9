"""The coin store's rules: packages and their SKUs, promotions, purchases, refunds, the inbox.

Discord-free like the rest of bot/economy: the Discord side (bot/purchases.py) hands in plain
entitlement facts and renders what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import InvalidSetting
from .moments import promotion_span
from .packages import MAX_PROMOTION_PERCENT, CoinPackage, Promotion
from .periods import zone
from .purchases import (
    Credit,
    EntitlementFacts,
    Purchase,
    Refund,
    StoreShelf,
    check_package,
)

if TYPE_CHECKING:
    from storage import Storage

    from .clock import Now
    from .service import EconomyService, Party


@dataclass(frozen=True, slots=True)
class AgeGate:
    """Why a guild's members may have to confirm their age, besides the manual setting."""

    sells_coins: bool
    allows_cashouts: bool


class StoreService:
    def __init__(self, storage: Storage, economy: EconomyService, *, now: Now) -> None:
        self.storage = storage
        self.economy = economy
        self.now = now
        self._sells: dict[int, bool] = {}

    # -- what a guild sells --------------------------------------------------------------------

    async def packages(self, guild_id: int, *, include_disabled: bool = False) -> list[CoinPackage]:
        await self.storage.ensure_guild(guild_id=guild_id, at=self.now())
        return await self.storage.packages(guild_id=guild_id, include_disabled=include_disabled)

    async def sells_coins(self, guild_id: int) -> bool:
        """Whether any package here is mapped to an SKU. Cached: /gift asks on every use."""
        cached = self._sells.get(guild_id)
        if cached is None:
            cached = self._sells[guild_id] = await self.storage.sells_coins(guild_id=guild_id)
        return cached

    async def age_gate(self, guild_id: int) -> AgeGate:
        config = await self.economy.config(guild_id)
        return AgeGate(sells_coins=await self.sells_coins(guild_id), allows_cashouts=config.cashouts)

    async def add_package(
        self, guild_id: int, *, coins: int, bonus: int, actor: Party, key: str
    ) -> CoinPackage:
        coins, bonus = check_package(coins, bonus)
        return await self.storage.add_package(
            guild_id=guild_id, coins=coins, bonus=bonus, actor_id=actor.id, key=key, at=self.now()
        )

    async def remove_package(self, guild_id: int, package_id: int, *, actor: Party, key: str) -> CoinPackage:
        try:
            return await self.storage.remove_package(
                guild_id=guild_id, package_id=package_id, actor_id=actor.id, key=key, at=self.now()
            )
        finally:
            self._sells.pop(guild_id, None)

    async def map_package(
        self, guild_id: int, package_id: int, sku_id: int | None, *, actor: Party, key: str
    ) -> tuple[CoinPackage, CoinPackage]:
        """Sell a package as a Discord SKU (None: stop selling it)."""
        try:
            return await self.storage.map_package(
                guild_id=guild_id,
                package_id=package_id,
                sku_id=sku_id,
                actor_id=actor.id,
                key=key,
                at=self.now(),
            )
        finally:
            self._sells.pop(guild_id, None)

    async def shelf(self, guild_id: int, member: Party) -> StoreShelf:
        """What /store view shows: the packages for sale and any promotion. Showing them records
        the member's purchase intent for each SKU here, in the same step."""
        packages = [p for p in await self.packages(guild_id) if p.sku_id is not None]
        if packages:
            await self.storage.record_intents(
                user_id=member.id,
                guild_id=guild_id,
                sku_ids=[p.sku_id for p in packages if p.sku_id is not None],
                at=self.now(),
            )
        running, upcoming = await self.promotion_now(guild_id)
        return StoreShelf(packages, running, upcoming)

    # -- promotions -----------------------------------------------------------------------------

    async def promotions(self, guild_id: int) -> list[Promotion]:
        return await self.storage.promotions(guild_id=guild_id)

    async def promotion_now(self, guild_id: int) -> tuple[Promotion | None, Promotion | None]:
        """(the best promotion running now, the next one to start)."""
        now = self.now()
        promotions = await self.promotions(guild_id)
        running = [p for p in promotions if p.running_at(now)]
        upcoming = [p for p in promotions if p.starts_at > now and p.cancelled_at is None]
        best = max(running, key=lambda p: p.percent, default=None)
        return best, min(upcoming, key=lambda p: p.starts_at, default=None)

    async def create_promotion(
        self, guild_id: int, *, percent: int, starts: str, ends: str, actor: Party, key: str
    ) -> Promotion:
        if not 1 <= percent <= MAX_PROMOTION_PERCENT:
            raise InvalidSetting(f"A promotion adds 1 to {MAX_PROMOTION_PERCENT}% more coins.")
        config = await self.economy.config(guild_id)
        now = self.now()
        span = promotion_span(starts, ends, now=now, tz=zone(config.timezone))
        promotion, _ = await self.storage.create_promotion(
            guild_id=guild_id,
            percent=percent,
            starts=span.start,
            ends=span.end,
            actor_id=actor.id,
            key=key,
            at=now,
        )
        return promotion

    async def cancel_promotion(
        self, guild_id: int, promotion_id: int, *, actor: Party, key: str
    ) -> Promotion:
        return await self.storage.cancel_promotion(
            guild_id=guild_id, promotion_id=promotion_id, actor_id=actor.id, key=key, at=self.now()
        )

    # -- purchases ------------------------------------------------------------------------------

    async def credit(self, facts: EntitlementFacts, *, guild_id: int | None = None) -> Credit:
        """Credit an entitlement once: in `guild_id` (the interaction it rode on), else where the
        buyer last saw its buy button, else into their inbox."""
        return await self.storage.credit_purchase(facts=facts, guild_id=guild_id, at=self.now())

    async def refund(self, facts: EntitlementFacts) -> Refund:
        return await self.storage.refund_purchase(facts=facts, at=self.now())

    async def is_ours(self, sku_id: int) -> bool:
        """Whether some guild sells this SKU as a coin package."""
        return await self.storage.sku_sold_anywhere(sku_id=sku_id)

    async def inbox(self, member: Party) -> list[Purchase]:
        return await self.storage.inbox(user_id=member.id)

    async def claim(
        self, guild_id: int, member: Party, entitlement_id: int | None = None
    ) -> tuple[list[Credit], list[Purchase]]:
        """Credit the member's waiting purchases (one, or all) in this guild."""
        await self.storage.ensure_guild(guild_id=guild_id, at=self.now())
        return await self.storage.claim_purchases(
            user_id=member.id, guild_id=guild_id, entitlement_id=entitlement_id, at=self.now()
        )

    async def consumed(self, entitlement_id: int) -> None:
        await self.storage.mark_consumed(entitlement_id=entitlement_id, at=self.now())

    async def unconsumed(self) -> list[Purchase]:
        return await self.storage.unconsumed_purchases()

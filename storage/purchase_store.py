"""The store half of `Storage`: packages, promotions, purchases and refunds. Plain ids in, domain
objects out; each money operation is one transaction through group commit."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from bot.economy.clock import to_millis
from bot.economy.packages import CoinPackage, Promotion
from bot.economy.purchases import Credit, EntitlementFacts, Purchase, Refund

from . import package_ops, purchase_ops

if TYPE_CHECKING:
    from .database import Database


class PurchaseStore:
    db: Database

    # -- packages ----------------------------------------------------------------------------

    async def packages(self, *, guild_id: int, include_disabled: bool = False) -> list[CoinPackage]:
        return await self.db.read(
            lambda conn: package_ops.list_packages(conn, guild_id, include_disabled=include_disabled)
        )

    async def sells_coins(self, *, guild_id: int) -> bool:
        return await self.db.read(lambda conn: package_ops.sells_coins(conn, guild_id))

    async def sku_sold_anywhere(self, *, sku_id: int) -> bool:
        return await self.db.read(lambda conn: package_ops.sku_sold_anywhere(conn, sku_id))

    async def add_package(
        self, *, guild_id: int, coins: int, bonus: int, actor_id: int, key: str, at: datetime
    ) -> CoinPackage:
        return await self.db.write(
            partial(
                package_ops.add_package,
                guild_id=guild_id,
                coins=coins,
                bonus=bonus,
                actor_id=actor_id,
                key=key,
                at_ms=to_millis(at),
            )
        )

    async def remove_package(
        self, *, guild_id: int, package_id: int, actor_id: int, key: str, at: datetime
    ) -> CoinPackage:
        return await self.db.write(
            partial(
                package_ops.remove_package,
                guild_id=guild_id,
                package_id=package_id,
                actor_id=actor_id,
                key=key,
                at_ms=to_millis(at),
            )
        )

    async def map_package(
        self, *, guild_id: int, package_id: int, sku_id: int | None, actor_id: int, key: str, at: datetime
    ) -> tuple[CoinPackage, CoinPackage]:
        return await self.db.write(
            partial(
                package_ops.map_package,
                guild_id=guild_id,
                package_id=package_id,
                sku_id=sku_id,
                actor_id=actor_id,
                key=key,
                at_ms=to_millis(at),
            )
        )

    # -- promotions --------------------------------------------------------------------------

    async def promotions(self, *, guild_id: int, limit: int = 50) -> list[Promotion]:
        return await self.db.read(lambda conn: package_ops.promotions(conn, guild_id, limit=limit))

    async def create_promotion(
        self,
        *,
        guild_id: int,
        percent: int,
        starts: datetime,
        ends: datetime,
        actor_id: int,
        key: str,
        at: datetime,
    ) -> tuple[Promotion, bool]:
        return await self.db.write(
            partial(
                package_ops.create_promotion,
                guild_id=guild_id,
                percent=percent,
                starts_ms=to_millis(starts),
                ends_ms=to_millis(ends),
                actor_id=actor_id,
                key=key,
                at_ms=to_millis(at),
            )
        )

    async def cancel_promotion(
        self, *, guild_id: int, promotion_id: int, actor_id: int, key: str, at: datetime
    ) -> Promotion:
        return await self.db.write(
            partial(
                package_ops.cancel_promotion,
                guild_id=guild_id,
                promotion_id=promotion_id,
                actor_id=actor_id,
                key=key,
                at_ms=to_millis(at),
            )
        )

    # -- purchases ---------------------------------------------------------------------------

    async def record_intents(self, *, user_id: int, guild_id: int, sku_ids: list[int], at: datetime) -> None:
        await self.db.write(
            partial(
                purchase_ops.record_intents,
                user_id=user_id,
                guild_id=guild_id,
                sku_ids=sku_ids,
                at_ms=to_millis(at),
            )
        )

    async def credit_purchase(self, *, facts: EntitlementFacts, guild_id: int | None, at: datetime) -> Credit:
        return await self.db.write(
            partial(
                purchase_ops.credit_purchase,
                entitlement_id=facts.id,
                user_id=facts.user_id,
                sku_id=facts.sku_id,
                purchased_at_ms=to_millis(facts.purchased_at),
                guild_id=guild_id,
                at_ms=to_millis(at),
            )
        )

    async def refund_purchase(self, *, facts: EntitlementFacts, at: datetime) -> Refund:
        return await self.db.write(
            partial(
                purchase_ops.refund_purchase,
                entitlement_id=facts.id,
                user_id=facts.user_id,
                sku_id=facts.sku_id,
                purchased_at_ms=to_millis(facts.purchased_at),
                at_ms=to_millis(at),
            )
        )

    async def purchase(self, *, entitlement_id: int) -> Purchase | None:
        return await self.db.read(lambda conn: purchase_ops.purchase(conn, entitlement_id))

    async def inbox(self, *, user_id: int) -> list[Purchase]:
        return await self.db.read(lambda conn: purchase_ops.inbox(conn, user_id))

    async def claim_purchases(
        self, *, user_id: int, guild_id: int, entitlement_id: int | None, at: datetime
    ) -> tuple[list[Credit], list[Purchase]]:
        return await self.db.write(
            partial(
                purchase_ops.claim,
                user_id=user_id,
                guild_id=guild_id,
                entitlement_id=entitlement_id,
                at_ms=to_millis(at),
            )
        )

    async def mark_consumed(self, *, entitlement_id: int, at: datetime) -> None:
        await self.db.write(
            partial(purchase_ops.mark_consumed, entitlement_id=entitlement_id, at_ms=to_millis(at))
        )

    async def unconsumed_purchases(self) -> list[Purchase]:
        return await self.db.read(lambda conn: purchase_ops.unconsumed(conn))

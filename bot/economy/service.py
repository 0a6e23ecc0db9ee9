"""The economy service: the rules a command must pass before money moves.

Cogs call this; it validates, takes "now" from the injected clock and hands storage one atomic
unit of work. It never imports discord: callers pass plain ids and names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .catalogue import check_price, clean_emoji, clean_gift_name
from .clock import Now
from .errors import (
    GiftDisabled,
    InsufficientCoins,
    InvalidSetting,
    NotACreator,
    RecipientIsBot,
    SelfGift,
    UnknownGift,
)
from .guild_config import SPECS, GuildConfig, parse_setting
from .models import (
    Balances,
    Creator,
    GiftItem,
    GiftReceipt,
    HistoryEntry,
    LeaderboardRow,
    Page,
    Receipt,
    SettingChange,
)
from .money import check_amount, gift_cost
from .periods import Period, Window, window, zone

if TYPE_CHECKING:
    from storage import Storage

MAX_REASON = 200


@dataclass(frozen=True, slots=True)
class Party:
    """Someone taking part in an operation, as the economy needs to know them."""

    id: int
    name: str
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class GiftQuote:
    gift: GiftItem
    count: int
    coins: int
    needs_confirmation: bool


@dataclass(frozen=True, slots=True)
class Leaderboard:
    period: Period
    window: Window
    gifters: list[LeaderboardRow]
    creators: list[LeaderboardRow]


def clean_reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise InvalidSetting("Give a reason; it is kept in the ledger.")
    if len(text) > MAX_REASON:
        raise InvalidSetting(f"Keep the reason under {MAX_REASON} characters.")
    return text


class EconomyService:
    def __init__(self, storage: Storage, *, now: Now, default_share: int = 50) -> None:
        self.storage = storage
        self.now = now
        self.default_share = default_share
        self._configs: dict[int, GuildConfig] = {}

    # -- configuration -------------------------------------------------------------------

    async def config(self, guild_id: int) -> GuildConfig:
        cached = self._configs.get(guild_id)
        if cached is None:
            stored = await self.storage.guild_settings(guild_id=guild_id)
            cached = GuildConfig.from_stored(stored, default_share=self.default_share)
            self._configs[guild_id] = cached
        return cached

    async def set_config(self, guild_id: int, key: str, raw: str, *, actor_id: int) -> SettingChange:
        value = parse_setting(key, raw)
        change = await self.storage.set_guild_setting(
            guild_id=guild_id, key=key, value=value, actor_id=actor_id, at=self.now()
        )
        self._configs.pop(guild_id, None)
        return change

    async def stored_settings(self, guild_id: int) -> dict[str, str]:
        return await self.storage.guild_settings(guild_id=guild_id)

    async def setting_changes(self, guild_id: int, limit: int = 10) -> list[SettingChange]:
        return await self.storage.setting_changes(guild_id=guild_id, limit=limit)

    @staticmethod
    def setting_keys() -> list[str]:
        return list(SPECS)

    # -- money ---------------------------------------------------------------------------

    async def grant(
        self, guild_id: int, member: Party, amount: int, *, actor: Party, reason: str, key: str
    ) -> Receipt:
        if member.is_bot:
            raise RecipientIsBot("Bots can't hold coins.")
        return await self.storage.grant(
            guild_id=guild_id,
            user_id=member.id,
            amount=check_amount(amount),
            actor_id=actor.id,
            reason=clean_reason(reason),
            key=key,
            at=self.now(),
        )

    async def revoke(
        self, guild_id: int, member: Party, amount: int, *, actor: Party, reason: str, key: str
    ) -> Receipt:
        return await self.storage.revoke(
            guild_id=guild_id,
            user_id=member.id,
            amount=check_amount(amount),
            actor_id=actor.id,
            reason=clean_reason(reason),
            key=key,
            at=self.now(),
        )

    async def find_gift(self, guild_id: int, name: str) -> GiftItem:
        await self.storage.ensure_guild(guild_id=guild_id, at=self.now())
        gift = await self.storage.gift_by_name(guild_id=guild_id, name=name)
        if gift is None:
            raise UnknownGift(name)
        if not gift.enabled:
            raise GiftDisabled(gift.name)
        return gift

    async def quote(
        self, guild_id: int, sender: Party, creator: Party, gift_name: str, count: int
    ) -> GiftQuote:
        """Check a gift before sending it: who, what, how much, and whether to confirm first."""
        if creator.is_bot:
            raise RecipientIsBot()
        if sender.id == creator.id:
            raise SelfGift()
        gift = await self.find_gift(guild_id, gift_name)
        coins = gift_cost(gift.price, count)
        config = await self.config(guild_id)
        quote = GiftQuote(gift, count, coins, needs_confirmation=coins >= config.confirm_threshold)
        if quote.needs_confirmation:
            # Spare the member a confirmation that would only end in a refusal. Sending
            # re-checks both atomically; this is a courtesy, not the guard.
            if not await self.storage.is_creator(guild_id=guild_id, user_id=creator.id):
                raise NotACreator(creator.name)
            held = await self.storage.balances(guild_id=guild_id, user_id=sender.id)
            if held.coins < coins:
                raise InsufficientCoins(balance=held.coins, needed=coins)
        return quote

    async def send_gift(
        self,
        guild_id: int,
        sender: Party,
        creator: Party,
        gift: GiftItem,
        count: int,
        *,
        key: str,
        channel_id: int | None = None,
    ) -> GiftReceipt:
        """Move the coins. Price, availability and creator status are re-checked atomically."""
        if creator.is_bot:
            raise RecipientIsBot()
        if sender.id == creator.id:
            raise SelfGift()
        gift_cost(gift.price, count)
        config = await self.config(guild_id)
        return await self.storage.send_gift(
            guild_id=guild_id,
            sender_id=sender.id,
            sender_name=sender.name,
            creator_id=creator.id,
            creator_name=creator.name,
            gift_id=gift.id,
            count=count,
            share_percent=config.creator_share,
            channel_id=channel_id,
            key=key,
            at=self.now(),
        )

    async def balances(self, guild_id: int, user_id: int) -> Balances:
        return await self.storage.balances(guild_id=guild_id, user_id=user_id)

    async def history(
        self, guild_id: int, user_id: int, *, page: int, per_page: int = 10
    ) -> Page[HistoryEntry]:
        return await self.storage.history(
            guild_id=guild_id, user_id=user_id, offset=max(page, 0) * per_page, limit=per_page
        )

    async def leaderboard(self, guild_id: int, period: Period, *, limit: int = 10) -> Leaderboard:
        config = await self.config(guild_id)
        span = window(period, self.now(), zone(config.timezone))
        gifters = await self.storage.top_gifters(
            guild_id=guild_id, start=span.start, end=span.end, limit=limit
        )
        creators = await self.storage.top_creators(
            guild_id=guild_id, start=span.start, end=span.end, limit=limit
        )
        return Leaderboard(period, span, gifters, creators)

    # -- catalogue and creators ----------------------------------------------------------

    async def catalogue(self, guild_id: int, *, include_disabled: bool = False) -> list[GiftItem]:
        await self.storage.ensure_guild(guild_id=guild_id, at=self.now())
        return await self.storage.gifts(guild_id=guild_id, include_disabled=include_disabled)

    async def search_gifts(self, guild_id: int, text: str, limit: int = 25) -> list[GiftItem]:
        await self.storage.ensure_guild(guild_id=guild_id, at=self.now())
        return await self.storage.search_gifts(guild_id=guild_id, text=text, limit=limit)

    async def add_gift(
        self, guild_id: int, *, name: str, emoji: str, price: int, comboable: bool
    ) -> GiftItem:
        return await self.storage.add_gift(
            guild_id=guild_id,
            name=clean_gift_name(name),
            emoji=clean_emoji(emoji),
            price=check_price(price),
            comboable=comboable,
            at=self.now(),
        )

    async def edit_gift(
        self,
        guild_id: int,
        name: str,
        *,
        new_name: str | None = None,
        emoji: str | None = None,
        price: int | None = None,
        enabled: bool | None = None,
    ) -> tuple[GiftItem, GiftItem]:
        await self.storage.ensure_guild(guild_id=guild_id, at=self.now())
        return await self.storage.edit_gift(
            guild_id=guild_id,
            name=name,
            new_name=clean_gift_name(new_name) if new_name is not None else None,
            emoji=clean_emoji(emoji) if emoji is not None else None,
            price=check_price(price) if price is not None else None,
            enabled=enabled,
            at=self.now(),
        )

    async def add_creator(self, guild_id: int, member: Party, *, actor: Party) -> Creator:
        if member.is_bot:
            raise RecipientIsBot()
        return await self.storage.add_creator(
            guild_id=guild_id, user_id=member.id, name=member.name, actor_id=actor.id, at=self.now()
        )

    async def remove_creator(self, guild_id: int, member: Party) -> None:
        await self.storage.remove_creator(guild_id=guild_id, user_id=member.id, name=member.name)

    async def creators(self, guild_id: int) -> list[Creator]:
        return await self.storage.creators(guild_id=guild_id)

    def moment(self) -> datetime:
        return self.now()

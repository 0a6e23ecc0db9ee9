"""The economy service: the rules a command must pass before money moves.

Cogs call this; it validates, takes "now" from the injected clock and hands storage one atomic
unit of work. It never imports discord: callers pass plain ids and names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .budget import SpendPolicy
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
from .guild_config import GuildConfig, parse_setting
from .models import (
    Balances,
    Board,
    Creator,
    CreatorStats,
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
from .thanks import DEFAULT_TEMPLATE, check_template

if TYPE_CHECKING:
    from storage import Storage

PromoMove = Callable[..., Awaitable[Receipt]]

MAX_REASON = 200
MAX_BOARD_RANK = 100


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
class BoardPage:
    period: Period
    window: Window
    board: Board
    creator_id: int
    rows: list[LeaderboardRow]
    total: int
    """How many members the board ranks (at most MAX_BOARD_RANK)."""
    page: int
    per_page: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.per_page))


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

    # -- money ---------------------------------------------------------------------------

    async def grant(
        self, guild_id: int, member: Party, amount: int, *, actor: Party, reason: str, key: str
    ) -> Receipt:
        if member.is_bot:
            raise RecipientIsBot("Bots can't hold coins.")
        return await self._promo(self.storage.grant, guild_id, member, amount, actor, reason, key)

    async def revoke(
        self, guild_id: int, member: Party, amount: int, *, actor: Party, reason: str, key: str
    ) -> Receipt:
        return await self._promo(self.storage.revoke, guild_id, member, amount, actor, reason, key)

    async def _promo(
        self, move: PromoMove, guild_id: int, member: Party, amount: int, actor: Party, reason: str, key: str
    ) -> Receipt:
        return await move(
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
            policy=SpendPolicy(default_budget=config.default_budget, max_gift_coins=config.max_gift_coins),
            hold_days=config.refund_window_days,
        )

    async def balances(self, guild_id: int, user_id: int) -> Balances:
        return await self.storage.balances(guild_id=guild_id, user_id=user_id, at=self.now())

    async def history(
        self, guild_id: int, user_id: int, *, page: int, per_page: int = 10
    ) -> Page[HistoryEntry]:
        return await self.storage.history(
            guild_id=guild_id, user_id=user_id, offset=max(page, 0) * per_page, limit=per_page
        )

    async def span(self, guild_id: int, period: Period) -> tuple[Window, int]:
        """The current period in the guild's timezone, and its rollup bucket."""
        config = await self.config(guild_id)
        now = self.now()
        return window(period, now, zone(config.timezone)), self.storage.period_start(
            period, now, config.timezone
        )

    async def board(
        self,
        guild_id: int,
        period: Period,
        board: Board = Board.GIFTERS,
        *,
        creator_id: int = 0,
        page: int = 0,
        per_page: int = 10,
        limit_to: int = MAX_BOARD_RANK,
    ) -> BoardPage:
        """One page of a public board; pages stop at the top `limit_to` (100)."""
        span, bucket = await self.span(guild_id, period)
        offset = max(page, 0) * per_page
        rows, total = await self.storage.board_page(
            guild_id=guild_id,
            board=board,
            period=period,
            period_start=bucket,
            creator_id=creator_id,
            limit=max(0, min(per_page, limit_to - offset)),
            offset=offset,
        )
        return BoardPage(period, span, board, creator_id, rows, min(total, limit_to), page, per_page)

    async def standing(
        self, guild_id: int, period: Period, board: Board, user_id: int, *, creator_id: int = 0
    ) -> LeaderboardRow | None:
        """A member's own rank and score on a board, even outside the top 100."""
        _, bucket = await self.span(guild_id, period)
        return await self.storage.board_standing(
            guild_id=guild_id,
            board=board,
            period=period,
            period_start=bucket,
            user_id=user_id,
            creator_id=creator_id,
        )

    async def creator_stats(self, guild_id: int, creator_id: int, period: Period) -> CreatorStats:
        span, bucket = await self.span(guild_id, period)
        return await self.storage.creator_stats(
            guild_id=guild_id,
            creator_id=creator_id,
            period=period,
            period_start=bucket,
            start=span.start,
            end=span.end,
        )

    # -- members' choices ----------------------------------------------------------------

    async def set_privacy(self, guild_id: int, member: Party, *, hidden: bool) -> bool:
        """Leave (or rejoin) the public leaderboards and announcements."""
        return await self.storage.set_hidden(
            guild_id=guild_id, user_id=member.id, name=member.name, hidden=hidden, at=self.now()
        )

    async def is_hidden(self, guild_id: int, user_id: int) -> bool:
        return await self.storage.is_hidden(guild_id=guild_id, user_id=user_id)

    async def visible(self, guild_id: int, user_ids: list[int]) -> list[int]:
        """The ids of members who may be named and pinged in public, in the order given."""
        hidden = await self.storage.hidden_among(guild_id=guild_id, user_ids=user_ids)
        return [user_id for user_id in user_ids if user_id not in hidden]

    async def set_thanks(self, guild_id: int, creator: Party, template: str | None) -> str:
        """Save a creator's thank-you line (None restores the default); returns the line in use."""
        checked = check_template(template) if template is not None else None
        await self.storage.set_thanks(
            guild_id=guild_id, creator_id=creator.id, name=creator.name, template=checked
        )
        return checked or DEFAULT_TEMPLATE

    async def thanks_template(self, guild_id: int, creator_id: int) -> str:
        stored = await self.storage.thanks_template(guild_id=guild_id, creator_id=creator_id)
        return stored or DEFAULT_TEMPLATE

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

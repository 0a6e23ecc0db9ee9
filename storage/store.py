"""`Storage`: the async API the rest of giftbot uses. Plain ids in, domain objects out.

Every method is one unit of work: reads run in one hop to the database thread, writes go
through group commit and return only after their transaction has committed.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path

from bot.economy.budget import SpendPolicy
from bot.economy.clock import from_millis, to_millis
from bot.economy.models import (
    Balances,
    Board,
    Creator,
    CreatorStats,
    EntryKind,
    GiftItem,
    GiftReceipt,
    HistoryEntry,
    LeaderboardRow,
    LedgerTotals,
    Page,
    Receipt,
    SettingChange,
)
from bot.economy.periods import Period

from . import catalogue_ops, ledger, member_ops, money_ops, outbox_ops, reads, rollups, settings_ops
from .budget_store import BudgetStore
from .cashout_store import CashoutStore
from .database import Database, Synchronous
from .outbox_ops import Decision, OutboxItem, Schedule
from .purchase_store import PurchaseStore


def _ms(moment: datetime | None) -> int | None:
    return to_millis(moment) if moment is not None else None


class Storage(BudgetStore, CashoutStore, PurchaseStore):
    def __init__(
        self, path: str | Path, *, synchronous: Synchronous = "NORMAL", writer_process: bool = True
    ) -> None:
        self.db = Database(path, synchronous=synchronous, writer_process=writer_process)
        self._known_guilds: set[int] = set()

    @property
    def path(self) -> Path:
        return self.db.path

    async def open(self) -> list[str]:
        return await self.db.open()

    async def close(self) -> None:
        await self.db.close()

    # -- guilds and settings -------------------------------------------------------------

    async def ensure_guild(self, *, guild_id: int, at: datetime) -> None:
        """Open the guild's books and seed its catalogue the first time it is used."""
        if guild_id in self._known_guilds:
            return
        await self.db.write(lambda conn: ledger.ensure_guild(conn, guild_id, to_millis(at)))
        self._known_guilds.add(guild_id)

    async def guild_settings(self, *, guild_id: int) -> dict[str, str]:
        return await self.db.read(lambda conn: reads.guild_settings(conn, guild_id))

    async def set_guild_setting(
        self, *, guild_id: int, key: str, value: str | None, actor_id: int, at: datetime
    ) -> SettingChange:
        return await self.db.write(
            partial(
                settings_ops.set_setting,
                guild_id=guild_id,
                key=key,
                value=value,
                actor_id=actor_id,
                at_ms=to_millis(at),
            )
        )

    async def setting_changes(self, *, guild_id: int, limit: int = 10) -> list[SettingChange]:
        return await self.db.read(lambda conn: reads.setting_changes(conn, guild_id, limit))

    # -- money ---------------------------------------------------------------------------

    async def grant(
        self, *, guild_id: int, user_id: int, amount: int, actor_id: int, reason: str, key: str, at: datetime
    ) -> Receipt:
        """Promo coins: promo issuer → member."""
        return await self._promo(EntryKind.GRANT, guild_id, user_id, amount, actor_id, reason, key, at)

    async def revoke(
        self, *, guild_id: int, user_id: int, amount: int, actor_id: int, reason: str, key: str, at: datetime
    ) -> Receipt:
        """Coins back to the promo issuer: at most the member's balance."""
        return await self._promo(EntryKind.REVOKE, guild_id, user_id, amount, actor_id, reason, key, at)

    async def _promo(
        self,
        kind: EntryKind,
        guild_id: int,
        user_id: int,
        amount: int,
        actor_id: int,
        reason: str,
        key: str,
        at: datetime,
    ) -> Receipt:
        return await self.db.write(
            partial(
                money_ops.promo_transfer,
                kind=kind,
                guild_id=guild_id,
                user_id=user_id,
                amount=amount,
                actor_id=actor_id,
                reason=reason,
                key=key,
                at_ms=to_millis(at),
            )
        )

    async def send_gift(
        self,
        *,
        guild_id: int,
        sender_id: int,
        sender_name: str,
        creator_id: int,
        creator_name: str,
        gift_id: int,
        count: int,
        share_percent: int,
        key: str,
        at: datetime,
        channel_id: int | None = None,
        policy: SpendPolicy | None = None,
        hold_days: int = 14,
    ) -> GiftReceipt:
        return await self.db.write(
            partial(
                money_ops.send_gift,
                guild_id=guild_id,
                sender_id=sender_id,
                sender_name=sender_name,
                creator_id=creator_id,
                creator_name=creator_name,
                gift_id=gift_id,
                count=count,
                share_percent=share_percent,
                channel_id=channel_id,
                key=key,
                at_ms=to_millis(at),
                policy=policy,
                hold_days=hold_days,
            )
        )

    async def balances(self, *, guild_id: int, user_id: int, at: datetime | None = None) -> Balances:
        """The member's wallet; `at` decides which paid diamonds are still in the refund window."""
        at_ms = None if at is None else to_millis(at)
        return await self.db.read(lambda conn: reads.balances(conn, guild_id, user_id, at_ms))

    async def history(
        self, *, guild_id: int, user_id: int, offset: int = 0, limit: int = 10
    ) -> Page[HistoryEntry]:
        return await self.db.read(lambda conn: reads.history(conn, guild_id, user_id, offset, limit))

    # -- leaderboards (rollups) ----------------------------------------------------------

    async def board_page(
        self,
        *,
        guild_id: int,
        board: Board,
        period: Period,
        period_start: int,
        creator_id: int = 0,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[LeaderboardRow], int]:
        """A page of a public board (opted-out members left out) and how many it ranks."""
        return await self.db.read(
            lambda conn: reads.board_page(
                conn,
                guild_id=guild_id,
                board=board.value,
                creator_id=creator_id,
                period=period.value,
                period_start=period_start,
                limit=limit,
                offset=offset,
            )
        )

    async def board_standing(
        self,
        *,
        guild_id: int,
        board: Board,
        period: Period,
        period_start: int,
        user_id: int,
        creator_id: int = 0,
    ) -> LeaderboardRow | None:
        return await self.db.read(
            lambda conn: reads.board_standing(
                conn,
                guild_id=guild_id,
                board=board.value,
                creator_id=creator_id,
                period=period.value,
                period_start=period_start,
                user_id=user_id,
            )
        )

    async def creator_stats(
        self,
        *,
        guild_id: int,
        creator_id: int,
        period: Period,
        period_start: int,
        start: datetime | None,
        end: datetime | None,
        top: int = 5,
    ) -> CreatorStats:
        return await self.db.read(
            lambda conn: reads.creator_stats(
                conn,
                guild_id=guild_id,
                creator_id=creator_id,
                period=period.value,
                period_start=period_start,
                start_ms=_ms(start),
                end_ms=_ms(end),
                top=top,
            )
        )

    @staticmethod
    def period_start(period: Period, at: datetime, timezone: str) -> int:
        """The rollup bucket of `at` for `period` in `timezone`."""
        return rollups.period_start(period, to_millis(at), timezone)

    async def rollup_mismatches(self) -> list[tuple[object, ...]]:
        return await self.db.read(reads.rollup_mismatches)

    # -- members' choices ----------------------------------------------------------------

    async def set_hidden(self, *, guild_id: int, user_id: int, name: str, hidden: bool, at: datetime) -> bool:
        return await self.db.write(
            partial(
                member_ops.set_hidden,
                guild_id=guild_id,
                user_id=user_id,
                name=name,
                hidden=hidden,
                at_ms=to_millis(at),
            )
        )

    async def is_hidden(self, *, guild_id: int, user_id: int) -> bool:
        return await self.db.read(lambda conn: member_ops.is_hidden(conn, guild_id, user_id))

    async def hidden_among(self, *, guild_id: int, user_ids: list[int]) -> set[int]:
        return await self.db.read(lambda conn: member_ops.hidden_among(conn, guild_id, user_ids))

    async def set_thanks(self, *, guild_id: int, creator_id: int, name: str, template: str | None) -> None:
        await self.db.write(
            partial(
                member_ops.set_thanks, guild_id=guild_id, creator_id=creator_id, name=name, template=template
            )
        )

    async def thanks_template(self, *, guild_id: int, creator_id: int) -> str | None:
        return await self.db.read(lambda conn: member_ops.thanks_template(conn, guild_id, creator_id))

    # -- catalogue and creators ----------------------------------------------------------

    async def gifts(self, *, guild_id: int, include_disabled: bool = False) -> list[GiftItem]:
        return await self.db.read(
            lambda conn: catalogue_ops.list_gifts(conn, guild_id, include_disabled=include_disabled)
        )

    async def gift_by_name(self, *, guild_id: int, name: str) -> GiftItem | None:
        return await self.db.read(lambda conn: catalogue_ops.gift_by_name(conn, guild_id, name))

    async def search_gifts(self, *, guild_id: int, text: str, limit: int = 25) -> list[GiftItem]:
        return await self.db.read(lambda conn: catalogue_ops.search_gifts(conn, guild_id, text, limit))

    async def add_gift(
        self, *, guild_id: int, name: str, emoji: str, price: int, comboable: bool, at: datetime
    ) -> GiftItem:
        return await self.db.write(
            partial(
                catalogue_ops.add_gift,
                guild_id=guild_id,
                name=name,
                emoji=emoji,
                price=price,
                comboable=comboable,
                at_ms=to_millis(at),
            )
        )

    async def edit_gift(
        self,
        *,
        guild_id: int,
        name: str,
        at: datetime,
        new_name: str | None = None,
        emoji: str | None = None,
        price: int | None = None,
        enabled: bool | None = None,
    ) -> tuple[GiftItem, GiftItem]:
        return await self.db.write(
            partial(
                catalogue_ops.edit_gift,
                guild_id=guild_id,
                name=name,
                new_name=new_name,
                emoji=emoji,
                price=price,
                enabled=enabled,
                at_ms=to_millis(at),
            )
        )

    async def add_creator(
        self, *, guild_id: int, user_id: int, name: str, actor_id: int, at: datetime
    ) -> Creator:
        return await self.db.write(
            partial(
                catalogue_ops.add_creator,
                guild_id=guild_id,
                user_id=user_id,
                name=name,
                actor_id=actor_id,
                at_ms=to_millis(at),
            )
        )

    async def remove_creator(self, *, guild_id: int, user_id: int, name: str) -> None:
        await self.db.write(
            partial(catalogue_ops.remove_creator, guild_id=guild_id, user_id=user_id, name=name)
        )

    async def creators(self, *, guild_id: int) -> list[Creator]:
        return await self.db.read(lambda conn: catalogue_ops.list_creators(conn, guild_id))

    async def is_creator(self, *, guild_id: int, user_id: int) -> bool:
        return await self.db.read(lambda conn: catalogue_ops.is_creator(conn, guild_id, user_id))

    # -- audit ---------------------------------------------------------------------------

    async def ledger_totals(self, *, guild_id: int | None = None) -> LedgerTotals:
        return await self.db.read(lambda conn: reads.ledger_totals(conn, guild_id))

    async def balance_mismatches(self) -> list[tuple[int, int, int]]:
        return await self.db.read(reads.balance_mismatches)

    # == outbox and announcement schedules (storage/outbox_ops.py) ============================
    # Messages owed are decided once (unique dedupe key) and recorded as sent once.

    async def enqueue_outbox(
        self,
        *,
        guild_id: int,
        kind: str,
        dedupe_key: str,
        payload: dict[str, object],
        at: datetime,
        due: datetime | None = None,
        channel_id: int | None = None,
        user_id: int | None = None,
    ) -> tuple[OutboxItem, bool]:
        """The row under `dedupe_key`, and whether this call created it."""
        return await self.db.write(
            partial(
                outbox_ops.enqueue,
                guild_id=guild_id,
                kind=kind,
                dedupe_key=dedupe_key,
                payload=payload,
                at_ms=to_millis(at),
                due_ms=_ms(due),
                channel_id=channel_id,
                user_id=user_id,
            )
        )

    async def outbox_item(self, *, item_id: int) -> OutboxItem | None:
        return await self.db.read(lambda conn: outbox_ops.by_id(conn, item_id))

    async def outbox_by_key(self, *, dedupe_key: str) -> OutboxItem | None:
        return await self.db.read(lambda conn: outbox_ops.by_key(conn, dedupe_key))

    async def pending_outbox(
        self, *, now: datetime, kind: str | None = None, limit: int = 20
    ) -> list[OutboxItem]:
        """Unsent rows that are due, oldest decision first."""
        return await self.db.read(
            lambda conn: outbox_ops.pending(conn, now_ms=to_millis(now), kind=kind, limit=limit)
        )

    async def next_outbox_due(self, *, kind: str | None = None) -> datetime | None:
        due = await self.db.read(lambda conn: outbox_ops.next_due(conn, kind))
        return from_millis(due) if due is not None else None

    async def given_up_outbox(self, *, guild_id: int | None = None) -> list[OutboxItem]:
        return await self.db.read(lambda conn: outbox_ops.given_up(conn, guild_id=guild_id))

    async def begin_outbox_attempt(self, *, item_id: int) -> int:
        return await self.db.write(partial(outbox_ops.begin_attempt, item_id=item_id))

    async def mark_outbox_sent(self, *, item_id: int, message_id: int | None, at: datetime) -> bool:
        return await self.db.write(
            partial(outbox_ops.mark_sent, item_id=item_id, message_id=message_id, at_ms=to_millis(at))
        )

    async def record_outbox_failure(self, *, item_id: int, error: str, retry_at: datetime | None) -> None:
        await self.db.write(
            partial(outbox_ops.record_failure, item_id=item_id, error=error, retry_at_ms=_ms(retry_at))
        )

    async def set_announcement_schedule(
        self,
        *,
        guild_id: int,
        creator_id: int,
        name: str,
        period: Period,
        channel_id: int,
        top: int,
        at: datetime,
    ) -> Schedule:
        return await self.db.write(
            partial(
                outbox_ops.set_schedule,
                guild_id=guild_id,
                creator_id=creator_id,
                name=name,
                period=period.value,
                channel_id=channel_id,
                top=top,
                at_ms=to_millis(at),
            )
        )

    async def clear_announcement_schedule(self, *, guild_id: int, creator_id: int, period: Period) -> bool:
        return await self.db.write(
            partial(outbox_ops.clear_schedule, guild_id=guild_id, creator_id=creator_id, period=period.value)
        )

    async def announcement_schedules(self, *, guild_id: int | None = None) -> list[Schedule]:
        return await self.db.read(lambda conn: outbox_ops.schedules(conn, guild_id=guild_id))

    async def known_outbox_keys(self, *, keys: list[str]) -> set[str]:
        return await self.db.read(lambda conn: outbox_ops.known_keys(conn, keys))

    async def decide_announcements(self, *, decisions: list[Decision], at: datetime) -> list[OutboxItem]:
        return await self.db.write(
            partial(outbox_ops.decide_announcements, decisions=decisions, at_ms=to_millis(at))
        )

    async def member_name(self, *, guild_id: int, user_id: int) -> str | None:
        return await self.db.read(lambda conn: outbox_ops.member_name(conn, guild_id, user_id))

    # == end of outbox and announcement schedules =============================================

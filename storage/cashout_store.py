"""The cash-out and audit-trail half of `Storage`: requests, decisions, ledger pages and CSV exports."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from bot.economy import exports
from bot.economy.cashouts import Cashout, CashoutReceipt
from bot.economy.clock import from_millis, to_millis
from bot.economy.ledger_entries import LedgerEntry
from bot.economy.models import Page

from . import cashout_ops, ledger_reads

if TYPE_CHECKING:
    from .database import Database


class CashoutStore:
    db: Database

    # -- cash-outs -------------------------------------------------------------------------

    async def request_cashout(
        self, *, guild_id: int, creator_id: int, amount: int, minimum: int, key: str, at: datetime
    ) -> CashoutReceipt:
        return await self.db.write(
            partial(
                cashout_ops.request,
                guild_id=guild_id,
                creator_id=creator_id,
                amount=amount,
                minimum=minimum,
                key=key,
                at_ms=to_millis(at),
            )
        )

    async def approve_cashout(
        self, *, guild_id: int, cashout_id: int, moderator_id: int, reference: str, at: datetime
    ) -> Cashout:
        return await self.db.write(
            partial(
                cashout_ops.approve,
                guild_id=guild_id,
                cashout_id=cashout_id,
                moderator_id=moderator_id,
                reference=reference,
                at_ms=to_millis(at),
            )
        )

    async def reject_cashout(
        self, *, guild_id: int, cashout_id: int, moderator_id: int, reason: str, at: datetime
    ) -> Cashout:
        return await self.db.write(
            partial(
                cashout_ops.reject,
                guild_id=guild_id,
                cashout_id=cashout_id,
                moderator_id=moderator_id,
                reason=reason,
                at_ms=to_millis(at),
            )
        )

    async def freeze_cashout(self, *, guild_id: int, cashout_id: int, actor_id: int, at: datetime) -> bool:
        return await self.db.write(
            partial(
                cashout_ops.freeze,
                guild_id=guild_id,
                cashout_id=cashout_id,
                actor_id=actor_id,
                at_ms=to_millis(at),
            )
        )

    async def cashout(self, *, guild_id: int, cashout_id: int) -> Cashout | None:
        return await self.db.read(lambda conn: cashout_ops.by_id(conn, guild_id, cashout_id))

    async def open_cashouts(self, *, guild_id: int, offset: int = 0, limit: int = 4) -> Page[Cashout]:
        return await self.db.read(lambda conn: cashout_ops.open_page(conn, guild_id, offset, limit))

    async def next_hold_maturity(self, *, guild_id: int, user_id: int, at: datetime) -> datetime | None:
        """When the member's next held diamonds become cashable."""
        found = await self.db.read(
            lambda conn: cashout_ops.next_maturity(conn, guild_id, user_id, to_millis(at))
        )
        return from_millis(found) if found is not None else None

    # -- the ledger, for the audit trail ---------------------------------------------------

    async def ledger_page(
        self, *, guild_id: int, member_id: int | None = None, offset: int = 0, limit: int = 10
    ) -> Page[LedgerEntry]:
        return await self.db.read(
            lambda conn: ledger_reads.entries_page(conn, guild_id, member_id, offset, limit)
        )

    async def ledger_entry(self, *, entry_id: int) -> LedgerEntry | None:
        return await self.db.read(lambda conn: ledger_reads.entry(conn, entry_id))

    async def export_member_ledger(
        self,
        *,
        guild_id: int,
        user_id: int,
        max_rows: int = exports.MAX_ROWS,
        max_bytes: int = exports.MAX_BYTES,
    ) -> exports.Export:
        """The member's own entries as CSV, streamed from the cursor on the database thread."""
        return await self._export_in_one_hop(
            exports.MEMBER_HEADER,
            lambda conn, limit: ledger_reads.member_rows(conn, guild_id, user_id, limit),
            max_rows=max_rows,
            max_bytes=max_bytes,
        )

    async def export_guild_ledger(
        self,
        *,
        guild_id: int,
        member_id: int | None = None,
        max_rows: int = exports.MAX_ROWS,
        max_bytes: int = exports.MAX_BYTES,
    ) -> exports.Export:
        """The guild's transfers (or those of entries touching one member) as CSV. The whole
        guild's are read a chunk of entries at a time, writes going on between the chunks."""
        if member_id is not None:
            return await self._export_in_one_hop(
                exports.GUILD_HEADER,
                lambda conn, limit: ledger_reads.member_transfer_rows(conn, guild_id, member_id, limit),
                max_rows=max_rows,
                max_bytes=max_bytes,
            )
        builder = exports.CsvBuilder(exports.GUILD_HEADER, max_rows=max_rows, max_bytes=max_bytes)
        below: int | None = None
        while True:
            below = await self.db.read(
                partial(ledger_reads.export_chunk, guild_id=guild_id, below=below, builder=builder)
            )
            if below is None:
                return builder.export()

    async def _export_in_one_hop(
        self,
        header: Sequence[str],
        rows: Callable[[sqlite3.Connection, int], Iterable[Sequence[object]]],
        *,
        max_rows: int,
        max_bytes: int,
    ) -> exports.Export:
        """A member-sized export, read and written in one database hop: `rows(conn, limit)`
        gives one row more than the cap, so the CSV can tell that it was cut."""
        return await self.db.read(
            lambda conn: exports.write_csv(
                header, rows(conn, max_rows + 1), max_rows=max_rows, max_bytes=max_bytes
            )
        )

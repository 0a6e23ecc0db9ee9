"""The audit channel and cash-out notices: the sender for outbox rows of kind `audit` and
`cashout_notice`.

Each money decision (grant, revoke, purchase, refund, promotion, cash-out request and decision)
owes one post in the guild's audit channel, queued in the decision's own transaction
(storage/audit_trail.py); a cash-out decision also owes the creator a DM. Here they are sent
exactly once: an attempt is counted before it is made, a retry first looks for its post in the
channel's recent messages (the footer carries a reference) and sends with a nonce, and the row is
marked sent once Discord accepts. Failures are retried with backoff; a channel that is gone or
closed to the bot is given up after a few tries, with the error kept in the outbox row.

The sender runs when poked (right after an audited command), on a `discord.ext.tasks` loop for
retries, and once at start-up for whatever was left over. Audit posts show the moderator's
mention but never ping anyone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from bot.economy.cashouts import CashoutStatus
from bot.economy.clock import from_millis
from bot.loop_timing import PassLoop
from bot.outbox_posts import failure, nonce, postable_channel, reference
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS
from storage.audit_trail import KIND as AUDIT
from storage.cashout_ops import NOTICE_KIND as NOTICE
from storage.outbox_ops import OutboxItem

if TYPE_CHECKING:
    from bot.app import GiftBot

log = logging.getLogger("giftbot.audit")

KINDS = (AUDIT, NOTICE)
BATCH = 20
HISTORY_LOOKBACK = 25  # recent messages a retry searches for the post an earlier attempt made
TICK = timedelta(minutes=1)
IDLE = timedelta(days=1)  # the longest the loop sleeps (a safety net): pokes wake it sooner
REASON_LIMIT = 300

NEEDED = {"view_channel": "View Channel", "send_messages": "Send Messages", "embed_links": "Embed Links"}

# event → (title, colour). Events added later get a title made from their name.
EVENTS: dict[str, tuple[str, discord.Colour]] = {
    "grant": ("🪙 Promo coins granted", theme.SUCCESS),
    "revoke": ("↩️ Promo coins revoked", theme.WARNING),
    "purchase": ("🛒 Coins bought", theme.INFO),
    "purchase_bonus": ("🎉 Promotion bonus", theme.INFO),
    "refund": ("💸 Purchase refunded", theme.WARNING),
    "promotion_created": ("📣 Promotion created", theme.INFO),
    "promotion_cancelled": ("🚫 Promotion cancelled", theme.WARNING),
    "package_added": ("📦 Coin package added", theme.INFO),
    "package_removed": ("📦 Coin package removed", theme.WARNING),
    "package_mapped": ("📦 Coin package mapped to a SKU", theme.INFO),
    "package_unmapped": ("📦 Coin package unmapped", theme.WARNING),
    "cashout_request": ("💎 Cash-out requested", theme.INFO),
    "cashout_approve": ("✅ Cash-out approved", theme.SUCCESS),
    "cashout_reject": ("❌ Cash-out rejected", theme.ERROR),
    "cashout_freeze": ("❄️ Cash-out frozen", theme.WARNING),
}
# Events a member's own action causes; every other event names the moderator who acted.
MEMBER_EVENTS = {"purchase", "purchase_bonus", "refund", "cashout_request"}
SHOWN_DETAILS = {"cashout_id", "was_frozen", "request_entry_id"}
MAX_DETAILS = 8
MAX_FIELD = 1024


class Undeliverable(Exception):
    """The DM cannot reach the member (DMs closed, or no server in common any more)."""


def _amount(amount: int, currency: str | None) -> str:
    if currency == "coin":
        return fmt.coins(amount)
    if currency == "diamond":
        return fmt.diamonds(amount)
    if currency == "percent":
        return f"{amount:,}%"
    return fmt.number(amount)


def _detail(key: str, value: object) -> str:
    """A detail's value as a moderator reads it: ids plain, entries as #id, times as timestamps."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        if key.endswith("entry_id"):
            return f"#{value}"
        if key.endswith("_id"):
            return str(value)
        if key.endswith("_at"):
            return fmt.when(from_millis(value), "f")
        return fmt.number(value)
    if isinstance(value, Mapping):  # {member id: amount}, such as diamonds taken back per creator
        parts = [
            f"{fmt.person(int(k)) if str(k).isdigit() else fmt.safe(str(k), 40)} {_detail('', v)}"
            for k, v in list(value.items())[:MAX_DETAILS]
        ]
        return ", ".join(parts) or "—"
    return fmt.safe(str(value), 80)


def audit_embed(payload: Mapping[str, Any], *, ref: str, at: datetime) -> discord.Embed:
    """One audit post: who acted, for whom, how much, why, and the ledger entry."""
    event = str(payload.get("event") or "event")
    title, colour = EVENTS.get(event, (event.replace("_", " ").capitalize(), theme.INFO))
    embed = discord.Embed(title=title, colour=colour, timestamp=at)
    actor_id = int(payload.get("actor_id") or 0)
    who = "giftbot" if actor_id == 0 else fmt.person(actor_id)
    embed.add_field(name="By" if event in MEMBER_EVENTS else "Moderator", value=who)
    if payload.get("subject_id"):
        embed.add_field(name="Member", value=fmt.person(int(payload["subject_id"])))
    if payload.get("amount") is not None:
        embed.add_field(name="Amount", value=_amount(int(payload["amount"]), payload.get("currency")))
    if payload.get("reason"):
        name = "Payment reference" if event == "cashout_approve" else "Reason"
        embed.add_field(name=name, value=fmt.safe(str(payload["reason"]), REASON_LIMIT), inline=False)
    if payload.get("entry_id"):
        embed.add_field(name="Ledger entry", value=f"#{int(payload['entry_id'])}")
    details: Mapping[str, Any] = payload.get("details") or {}
    if "cashout_id" in details:
        frozen = " (was frozen: the creator left)" if details.get("was_frozen") else ""
        embed.add_field(name="Cash-out", value=f"#{int(details['cashout_id'])}{frozen}")
    if "request_entry_id" in details:
        embed.add_field(name="Requested in entry", value=f"#{int(details['request_entry_id'])}")
    extra = [(k, v) for k, v in details.items() if k not in SHOWN_DETAILS and v is not None]
    if extra:
        lines = [f"{fmt.safe(k.replace('_', ' '), 40)}: {_detail(k, v)}" for k, v in extra[:MAX_DETAILS]]
        embed.add_field(name="Details", value="\n".join(lines)[:MAX_FIELD], inline=False)
    embed.set_footer(text=ref)
    return embed


def notice_embed(
    status: CashoutStatus, *, amount: int, guild: str, text: str | None, cashout_id: int
) -> discord.Embed:
    """The creator's DM about a decision on their cash-out."""
    if status is CashoutStatus.APPROVED:
        embed = discord.Embed(
            title="💎 Your cash-out was approved",
            description=(
                f"A moderator in **{guild}** approved your cash-out of {fmt.diamonds(amount)} and recorded "
                "it as paid. The payment itself happens outside Discord: ask the moderators if it has "
                "not reached you."
            ),
            colour=theme.SUCCESS,
        )
        embed.add_field(name="Payment reference", value=fmt.safe(text or "—", REASON_LIMIT), inline=False)
    else:
        embed = discord.Embed(
            title="Your cash-out was not approved",
            description=(
                f"A moderator in **{guild}** rejected your cash-out of {fmt.diamonds(amount)}. "
                "The diamonds are back in your wallet there."
            ),
            colour=theme.WARNING,
        )
        embed.add_field(name="Reason", value=fmt.safe(text or "—", REASON_LIMIT), inline=False)
    embed.set_footer(text=f"Cash-out #{cashout_id} · /balance in that server shows your diamonds")
    return embed


class AuditSender(PassLoop):
    """Sends audit posts and cash-out notices from the outbox, one pass at a time."""

    name = "giftbot-audit-pass"
    tick = TICK
    log = log

    def __init__(self, bot: GiftBot) -> None:
        super().__init__(bot)
        self._lock = asyncio.Lock()
        self._again = False
        self._drain: asyncio.Task[None] | None = None
        self._first_pass = True

    def stop(self) -> None:
        super().stop()
        if self._drain is not None:
            self._drain.cancel()  # the database closes next: no pass may be left running

    # -- waking up -----------------------------------------------------------------------------

    def poke(self) -> None:
        """An audited operation committed: send what it owes now, in a task of its own."""
        if not self.bot.storage.db.is_open:
            return
        if self._drain is not None and not self._drain.done():
            self._again = True  # the pass under way looks once more when it ends
            return
        self._drain = asyncio.create_task(self._send_now(), name="giftbot-audit")

    async def _send_now(self) -> None:
        try:
            while True:
                self._again = False
                await self.send_due()
                if not self._again:
                    break
            due = await self._next_due()
            if due is not None:
                self.wake_by(due)
        except Exception:
            log.exception("audit pass after a poke failed")

    async def run_pass(self) -> datetime:
        """Send what is due; sleep until the earliest row left waiting falls due, or IDLE."""
        started = self._base or self.bot.now()
        await self.send_due()
        due = await self._next_due()
        upcoming = min(due, started + IDLE) if due is not None else started + IDLE
        if self._first_pass:  # start-up work elsewhere (reconciling purchases) may owe posts too
            self._first_pass = False
            upcoming = min(upcoming, started + TICK)
        return upcoming

    async def _next_due(self) -> datetime | None:
        found = [due for kind in KINDS if (due := await self.bot.storage.next_outbox_due(kind=kind))]
        return min(found) if found else None

    # -- sending -------------------------------------------------------------------------------

    async def send_due(self) -> int:
        """Try every due row once; returns how many were recorded as sent."""
        async with self._lock:
            done = 0
            for kind in KINDS:
                while True:
                    items = await self.bot.storage.pending_outbox(now=self.bot.now(), kind=kind, limit=BATCH)
                    for item in items:
                        done += await self.deliver(item)
                    if len(items) < BATCH:
                        break
            return done

    async def deliver(self, item: OutboxItem) -> bool:
        storage = self.bot.storage
        attempt = await storage.begin_outbox_attempt(item_id=item.id)
        if attempt == 0:
            return False  # recorded as sent meanwhile
        try:
            message_id = await (self._post(item, attempt) if item.kind == AUDIT else self._notify(item))
        except Undeliverable as exc:
            log.info("cash-out notice %s not delivered: %s", item.dedupe_key, exc)
            await storage.record_outbox_failure(item_id=item.id, error=str(exc), retry_at=None)
            return False
        except Exception as exc:  # recorded and retried; one bad row never stops the others
            failed = failure(exc, attempt, self.bot.now())
            log.warning(
                "%s %s (outbox %s) attempt %d failed: %s; %s",
                item.kind,
                item.dedupe_key,
                item.id,
                attempt,
                failed.error,
                f"retrying at {failed.retry_at.isoformat()}" if failed.retry_at else "giving up",
                exc_info=not (failed.permanent or isinstance(exc, discord.HTTPException)),
            )
            await storage.record_outbox_failure(item_id=item.id, error=failed.error, retry_at=failed.retry_at)
            return False
        await storage.mark_outbox_sent(item_id=item.id, message_id=message_id, at=self.bot.now())
        return True

    async def _post(self, item: OutboxItem, attempt: int) -> int:
        channel = await self._channel(item)
        ref = reference(item.dedupe_key)
        if attempt > 1:  # an earlier attempt may have been accepted just before a failure
            earlier = await self._find_posted(channel, ref)
            if earlier is not None:
                return earlier.id
        await self.bot.channel_writes.acquire(channel.id)
        message = await channel.send(
            embed=audit_embed(item.payload, ref=ref, at=from_millis(item.created_at)),
            allowed_mentions=NO_PINGS,
            nonce=nonce("ga", item.dedupe_key),
        )
        return message.id

    async def _channel(self, item: OutboxItem) -> discord.TextChannel | discord.Thread:
        return await postable_channel(
            self.bot, item.channel_id, what="audit channel", needed=NEEDED, threads=True
        )

    async def _find_posted(
        self, channel: discord.TextChannel | discord.Thread, ref: str
    ) -> discord.Message | None:
        me = self.bot.user
        try:
            async for message in channel.history(limit=HISTORY_LOOKBACK):
                mine = me is not None and message.author.id == me.id
                if mine and any(ref == (e.footer.text or "") for e in message.embeds):
                    return message
        except discord.Forbidden:
            return None  # no Read Message History: the nonce still guards a quick resend
        return None

    async def _notify(self, item: OutboxItem) -> int | None:
        """DM the creator the decision on their cash-out (None: nothing to tell any more)."""
        cashout = await self.bot.cashouts.get(item.guild_id, int(item.payload["cashout_id"]))
        if cashout is None or cashout.open or item.user_id is None:
            return None
        guild = self.bot.get_guild(item.guild_id)
        text = cashout.reference if cashout.status is CashoutStatus.APPROVED else cashout.reason
        embed = notice_embed(
            cashout.status,
            amount=cashout.amount,
            guild=fmt.safe(guild.name) if guild is not None else "a server",
            text=text,
            cashout_id=cashout.id,
        )
        try:
            user = self.bot.get_user(item.user_id) or await self.bot.fetch_user(item.user_id)
            message = await user.send(embed=embed, allowed_mentions=NO_PINGS)
        except discord.NotFound as exc:
            raise Undeliverable(f"user {item.user_id} not found") from exc
        except discord.Forbidden as exc:
            raise Undeliverable(f"DMs closed ({exc.code})") from exc
        return message.id

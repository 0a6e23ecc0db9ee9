"""Coin purchases on the Discord side: entitlements in, coins credited once, entitlements
consumed, receipts out.

A purchase arrives as ENTITLEMENT_CREATE, riding on an interaction, or (made while the bot was
down) in the start-up reconciliation. Each path runs the same steps: credit (one transaction,
keyed by the entitlement id, so a second delivery or a crash before consuming credits nothing
twice), then consume, then a receipt. A consume that fails is retried on the entitlement's next
delivery and at the next start-up; "already consumed" counts as done. The receipt goes by DM;
when the member's DMs are closed it rides, privately, on their next slash command instead.
Receipts never hold up or undo a credit: the ledger is the truth.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.economy.purchases import Credit, EntitlementFacts, Refund
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS

if TYPE_CHECKING:
    from bot.app import GiftBot

log = logging.getLogger("giftbot.purchases")

ALREADY_CONSUMED = 40022
UNKNOWN_ENTITLEMENT = 10029
SKU_REFRESH = timedelta(minutes=10)
MAX_HELD = 10  # receipts kept per member for their next command when DMs are closed


def entitlement_facts(entitlement: discord.Entitlement) -> EntitlementFacts | None:
    """A member's one-time purchase, or None (a subscription, a guild's entitlement, ...)."""
    if entitlement.user_id is None or entitlement.guild_id is not None:
        return None
    if entitlement.type is not discord.EntitlementType.purchase:
        return None
    return EntitlementFacts(id=entitlement.id, user_id=entitlement.user_id, sku_id=entitlement.sku_id)


class SkuCatalog:
    """The application's SKUs, fetched on demand and refreshed when an unknown one shows up."""

    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot
        self._skus: dict[int, discord.SKU] = {}
        self._fetched_at: datetime | None = None

    async def all(self, *, refresh: bool = False) -> list[discord.SKU]:
        now = self.bot.now()
        stale = self._fetched_at is None or now - self._fetched_at > SKU_REFRESH
        if refresh or stale:
            try:
                skus = await self.bot.fetch_skus()
            except (discord.HTTPException, discord.MissingApplicationID) as exc:
                log.warning("could not list the application's SKUs: %s", exc)
                return list(self._skus.values())
            self._skus = {sku.id: sku for sku in skus}
            self._fetched_at = now
        return list(self._skus.values())

    async def get(self, sku_id: int) -> discord.SKU | None:
        if sku_id not in self._skus:
            await self.all()
        return self._skus.get(sku_id)

    async def consumables(self) -> list[discord.SKU]:
        return [sku for sku in await self.all() if sku.type is discord.SKUType.consumable]


def receipt_embed(credit: Credit, guild_name: str | None) -> discord.Embed:
    """What a buyer is told about a credit: coins, bonus, promotion, ledger entries, balance."""
    bought = credit.purchase
    if credit.in_inbox:
        embed = discord.Embed(
            title="🧾 Your coins are waiting",
            description=(
                "Thanks for your purchase! Discord didn't say which server it was for, so the coins "
                "are kept for you: run `/store claim` in the server where you want them."
            ),
            colour=theme.INFO,
        )
        embed.set_footer(text=f"Purchase {bought.entitlement_id}")
        return embed
    package = credit.package
    where = f" in **{fmt.safe(guild_name)}**" if guild_name else ""
    lines = [f"You bought {fmt.coins(bought.coins)}{where}."]
    if package is not None and package.bonus:
        lines[0] = (
            f"You bought {fmt.coins(bought.coins)}{where}: "
            f"{fmt.number(package.coins)} + {fmt.number(package.bonus)} bonus."
        )
    if bought.bonus_coins:
        percent = f" +{credit.promotion.percent}%" if credit.promotion is not None else ""
        lines.append(f"🎉 Promotion{percent}: {fmt.coins(bought.bonus_coins)} extra (promo coins).")
    embed = discord.Embed(title="🧾 Receipt", description="\n".join(lines), colour=theme.SUCCESS)
    entries = f"#{bought.entry_id}"
    if bought.bonus_entry_id is not None:
        entries += f" · bonus #{bought.bonus_entry_id}"
    embed.add_field(name="Ledger entry", value=entries)
    if credit.balance is not None:
        embed.add_field(name="New balance", value=fmt.coins(credit.balance))
    embed.set_footer(text=f"Purchase {bought.entitlement_id} · /history shows every change")
    return embed


class PurchaseDesk:
    """Credits, consumes and acknowledges entitlements; one at a time per entitlement."""

    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot
        self.skus = SkuCatalog(bot)
        self._slots: dict[int, _Slot] = {}
        self._held: dict[int, list[discord.Embed]] = defaultdict(list)
        self._sending: dict[int, set[asyncio.Task[None]]] = defaultdict(set)

    # -- taking purchases ---------------------------------------------------------------------

    async def _ours(self, facts: EntitlementFacts) -> bool:
        """A coin package: some guild sells its SKU, or the SKU is one of our consumables."""
        if await self.bot.coin_store.is_ours(facts.sku_id):
            return True
        sku = await self.skus.get(facts.sku_id)
        return sku is not None and sku.type is discord.SKUType.consumable

    async def take(self, entitlement: discord.Entitlement, *, guild_id: int | None = None) -> Credit | None:
        """Credit the entitlement (in `guild_id` when it rode on an interaction there), consume
        it, and send the receipt of a fresh credit. None when it isn't a coin purchase."""
        facts = entitlement_facts(entitlement)
        if facts is None or entitlement.deleted or not await self._ours(facts):
            return None
        async with self._exclusive(facts.id):
            credit = await self.bot.coin_store.credit(facts, guild_id=guild_id)
            if credit.purchase.consumed_at is None:
                await self.consume(facts.id)
        if credit.fresh:
            log.info(
                "entitlement %s of user %s: %s",
                facts.id,
                facts.user_id,
                "into the inbox" if credit.in_inbox else f"credited in guild {credit.purchase.guild_id}",
            )
            self._send_receipt(credit)
            if not credit.in_inbox:
                self.bot.audit.poke()  # the credit owes its audit post
        return credit

    async def ride(self, interaction: discord.Interaction) -> None:
        """Credit entitlements riding on an interaction in its guild. Never raises: a failure
        leaves the entitlement unconsumed, so it rides again and is reconciled at start-up."""
        for entitlement in interaction.entitlements:
            if entitlement.consumed or entitlement.user_id != interaction.user.id:
                continue
            try:
                await self.take(entitlement, guild_id=interaction.guild_id)
            except Exception:
                log.exception("could not credit entitlement %s riding on %s", entitlement.id, interaction.id)

    async def consume(self, entitlement_id: int) -> bool:
        """Tell Discord the purchase is used up (so the member can buy that SKU again)."""
        try:
            await self.bot.http.consume_entitlement(self.bot.application_id or 0, entitlement_id)
        except discord.HTTPException as exc:
            if exc.code not in (ALREADY_CONSUMED, UNKNOWN_ENTITLEMENT):
                log.warning("could not consume entitlement %s (%s); retrying later", entitlement_id, exc)
                return False
        await self.bot.coin_store.consumed(entitlement_id)
        return True

    async def refund(self, entitlement: discord.Entitlement) -> Refund | None:
        facts = entitlement_facts(entitlement)
        if facts is None:
            return None
        known = await self.bot.storage.purchase(entitlement_id=facts.id)
        if known is None and not await self._ours(facts):
            return None
        async with self._exclusive(facts.id):
            refund = await self.bot.coin_store.refund(facts)
        if refund.fresh:
            self.bot.audit.poke()
            log.info(
                "entitlement %s refunded: %s coins and %s diamonds taken back, %s coins not recovered",
                facts.id,
                refund.coins_recovered + refund.bonus_recovered,
                refund.diamonds_recovered,
                refund.coins_unrecovered,
            )
        return refund

    async def reconcile(self) -> None:
        """At start-up: credit every unconsumed purchase not yet credited, then consume them all,
        and take back purchases refunded while the bot was down."""
        try:
            async for entitlement in self.bot.entitlements(
                limit=None, exclude_ended=True, exclude_deleted=False
            ):
                try:
                    if entitlement.deleted:
                        await self._refund_if_known(entitlement)
                    elif not entitlement.consumed:
                        await self.take(entitlement)
                except Exception:
                    log.exception("could not reconcile entitlement %s", entitlement.id)
        except (discord.HTTPException, discord.MissingApplicationID) as exc:
            log.warning("could not list entitlements to reconcile (%s); trying again at next start-up", exc)
        for waiting in await self.bot.coin_store.unconsumed():
            await self.consume(waiting.entitlement_id)

    async def _refund_if_known(self, entitlement: discord.Entitlement) -> None:
        known = await self.bot.storage.purchase(entitlement_id=entitlement.id)
        if known is not None and known.refunded_at is None:
            await self.refund(entitlement)

    def _exclusive(self, entitlement_id: int) -> _Exclusive:
        return _Exclusive(self._slots, entitlement_id)

    # -- receipts -----------------------------------------------------------------------------

    def _send_receipt(self, credit: Credit) -> None:
        user_id = credit.purchase.user_id
        task = asyncio.create_task(self._dm_receipt(credit))
        self._sending[user_id].add(task)

        def forget(done: asyncio.Task[None]) -> None:
            sending = self._sending.get(user_id)
            if sending is not None:
                sending.discard(done)
                if not sending:
                    del self._sending[user_id]

        task.add_done_callback(forget)

    async def _dm_receipt(self, credit: Credit) -> None:
        guild_id = credit.purchase.guild_id
        guild = self.bot.get_guild(guild_id) if guild_id is not None else None
        embed = receipt_embed(credit, guild.name if guild is not None else None)
        user_id = credit.purchase.user_id
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(embed=embed, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.info(
                "receipt for entitlement %s not sent by DM (%s); holding it",
                credit.purchase.entitlement_id,
                exc,
            )
            held = self._held[user_id]
            held.append(embed)
            del held[:-MAX_HELD]
        except Exception:
            log.exception("receipt for entitlement %s failed", credit.purchase.entitlement_id)

    async def deliver_held(self, interaction: discord.Interaction) -> None:
        """After a member's slash command: receipts their DMs refused, privately, once."""
        user_id = interaction.user.id
        pending = list(self._sending.get(user_id, ()))
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        held = self._held.pop(user_id, None)
        if not held:
            return
        try:
            await interaction.followup.send(
                "🧾 Receipts I couldn't send you by DM:",
                embeds=held[:MAX_HELD],
                ephemeral=True,
                allowed_mentions=NO_PINGS,
            )
        except discord.HTTPException as exc:
            log.info("could not show held receipts on interaction %s: %s", interaction.id, exc)
            self._held[user_id].extend(held)


@dataclass
class _Slot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class _Exclusive:
    """One handler at a time per entitlement; the slot is forgotten when nobody needs it."""

    def __init__(self, slots: dict[int, _Slot], key: int) -> None:
        self.slots = slots
        self.key = key

    async def __aenter__(self) -> None:
        slot = self.slots.setdefault(self.key, _Slot())
        slot.users += 1
        await slot.lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        slot = self.slots[self.key]
        slot.lock.release()
        slot.users -= 1
        if not slot.users:
            del self.slots[self.key]

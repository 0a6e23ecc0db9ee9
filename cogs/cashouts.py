"""Cash-outs and the audit trail: /creator cashout, /mod cashouts and /mod audit.

The commands attach to the /creator and /mod groups that other cogs own (so this extension loads
after them). Every moderator action checks permissions in code, buttons included: Discord's
default permissions only hide commands. Approve and Reject are persistent buttons (their custom
id names the request), so a list keeps working after a restart; a decision is recorded once
whoever clicks first, and the others are told who decided. Replies are private.
"""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.age_gate import require_age_confirmation
from bot.app import GiftBot
from bot.economy.cashouts import (
    MAX_REASON,
    MAX_REFERENCE,
    AlreadyDecided,
    BelowMinimum,
    Cashout,
    CashoutsOff,
    CashoutStatus,
    NotCashable,
    SelfApproval,
    UnknownCashout,
)
from bot.economy.models import Balances
from bot.interactions import idempotency_key, party
from bot.permissions import NotModerator, is_moderator, require_moderator
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.errors import send_error
from bot.ui.export import send_export, send_pages_with_export
from bot.ui.ledger import actor, kind_label, members, moved, signed_amounts
from bot.ui.mentions import NO_PINGS
from bot.ui.views import OwnedView
from cogs.creator import require_creator

log = logging.getLogger("giftbot.cashouts")

REQUESTS_PER_PAGE = 4  # two buttons each, one row per request, and a row for paging
ENTRIES_PER_PAGE = 10
AUDITED_ROOTS = {"mod", "creator", "store"}  # commands whose completion may owe an audit post


def bot_of(interaction: discord.Interaction) -> GiftBot:
    return interaction.client  # type: ignore[return-value]


async def reply(interaction: discord.Interaction, embed: discord.Embed) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)


# -- /creator cashout ------------------------------------------------------------------------------


def add_wallet_fields(embed: discord.Embed, wallet: Balances, matures: datetime | None) -> None:
    """Where the creator's diamonds are: which can be cashed out now, and why the rest can't."""
    embed.add_field(name="Cashable now", value=fmt.diamonds(wallet.cashable_diamonds))
    embed.add_field(name="Paid diamonds", value=fmt.diamonds(wallet.paid_diamonds))
    held = fmt.diamonds(wallet.held_diamonds)
    if wallet.held_diamonds and matures is not None:
        held += f"\nnext ones cashable {fmt.when(matures)}"
    embed.add_field(name="Held (refund window)", value=held)
    embed.add_field(name="Promo diamonds", value=f"{fmt.diamonds(wallet.promo_diamonds)}\nnever cashable")
    if wallet.pending_diamonds:
        embed.add_field(name="Pending cash-outs", value=fmt.diamonds(wallet.pending_diamonds))


async def request_cashout(interaction: discord.Interaction, diamonds: int) -> None:
    bot = bot_of(interaction)
    assert interaction.guild_id is not None
    guild_id = interaction.guild_id
    if not (await bot.economy.config(guild_id)).cashouts:
        raise CashoutsOff()
    if not await require_age_confirmation(interaction, bot, allows_cashouts=True):
        return
    try:
        receipt = await bot.cashouts.request(
            guild_id, party(interaction.user), diamonds, key=idempotency_key(interaction)
        )
    except (NotCashable, BelowMinimum) as refused:
        wallet = await bot.economy.balances(guild_id, interaction.user.id)
        embed = discord.Embed(
            title="Cash-out not requested", description=refused.user_message, colour=theme.ERROR
        )
        add_wallet_fields(embed, wallet, await bot.cashouts.next_maturity(guild_id, interaction.user.id))
        await reply(interaction, embed)
        return
    if receipt.replayed:
        log.info("interaction %s already requested cash-out %s", interaction.id, receipt.cashout.id)
        return
    cashout = receipt.cashout
    embed = discord.Embed(
        title="Cash-out requested",
        description=(
            f"{fmt.diamonds(cashout.amount)} are set aside for cash-out request #{cashout.id}. "
            "A moderator will review it and pay you outside Discord; I'll DM you their decision."
        ),
        colour=theme.SUCCESS,
    )
    add_wallet_fields(
        embed, receipt.balances, await bot.cashouts.next_maturity(guild_id, interaction.user.id)
    )
    embed.set_footer(text=f"Ledger entry #{cashout.request_entry_id}")
    await reply(interaction, embed)


async def require_earner(interaction: discord.Interaction) -> bool:
    """Creators, and former creators who still hold paid diamonds: removing a creator must not
    strand what they earned."""
    bot = bot_of(interaction)
    if interaction.guild_id is not None:
        held = await bot.storage.balances(guild_id=interaction.guild_id, user_id=interaction.user.id)
        if held.paid_diamonds > 0:
            return True
    return await require_creator(interaction)


def cashout_command() -> app_commands.Command[Any, ..., None]:
    @app_commands.command(name="cashout", description="Ask to cash out paid diamonds; a moderator decides.")
    @app_commands.describe(diamonds="How many cashable diamonds to cash out")
    @app_commands.guild_only()
    @app_commands.check(require_earner)
    async def cashout(interaction: discord.Interaction, diamonds: app_commands.Range[int, 1, None]) -> None:
        """Ask to cash out paid diamonds; a moderator decides."""
        await request_cashout(interaction, diamonds)

    return cashout


# -- /mod cashouts: the list, its buttons and the decision modals -----------------------------------


def decided_embed(cashout: Cashout) -> discord.Embed:
    """What a moderator sees when someone else decided first."""
    word = "approved" if cashout.status is CashoutStatus.APPROVED else "rejected"
    who = fmt.person(cashout.decided_by) if cashout.decided_by else "a moderator"
    when = f" {fmt.when(cashout.decided_at)}" if cashout.decided_at else ""
    embed = discord.Embed(
        description=f"Cash-out #{cashout.id} was already {word} by {who}{when}. Nothing was changed.",
        colour=theme.INFO,
    )
    text = cashout.reference if cashout.status is CashoutStatus.APPROVED else cashout.reason
    if text:
        label = "Payment reference" if cashout.status is CashoutStatus.APPROVED else "Reason"
        embed.add_field(name=label, value=fmt.safe(text, MAX_REASON), inline=False)
    return embed


async def check_moderator(interaction: discord.Interaction) -> GiftBot:
    bot = bot_of(interaction)
    if interaction.guild_id is None or not is_moderator(
        interaction.user, await bot.economy.config(interaction.guild_id)
    ):
        raise NotModerator()
    return bot


class DecisionModal(discord.ui.Modal):
    """Asks for the payment reference (approve) or the reason (reject), then records the decision."""

    def __init__(self, cashout: Cashout, *, approve: bool) -> None:
        verb = "Approve" if approve else "Reject"
        super().__init__(
            title=f"{verb} cash-out #{cashout.id}"[:45],
            timeout=600,
            custom_id=f"cashout:{verb.lower()}-modal:{cashout.id}",
        )
        self.cashout = cashout
        self.approve = approve
        self.text: discord.ui.TextInput[DecisionModal] = discord.ui.TextInput(
            label="Payment reference" if approve else "Reason (the creator sees it)",
            custom_id="text",
            placeholder="How you paid, e.g. a transfer id" if approve else "Why the request is refused",
            style=discord.TextStyle.short if approve else discord.TextStyle.paragraph,
            max_length=MAX_REFERENCE if approve else MAX_REASON,
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot = await check_moderator(interaction)
        assert interaction.guild_id is not None
        moderator = party(interaction.user)
        try:
            if self.approve:
                decided = await bot.cashouts.approve(
                    interaction.guild_id, self.cashout.id, moderator, self.text.value
                )
            else:
                decided = await bot.cashouts.reject(
                    interaction.guild_id, self.cashout.id, moderator, self.text.value
                )
        except AlreadyDecided as first:
            await reply(interaction, decided_embed(first.cashout))
            return
        bot.audit.poke()
        creator, amount = fmt.person(decided.creator_id), fmt.diamonds(decided.amount)
        if self.approve:
            embed = discord.Embed(
                title=f"Cash-out #{decided.id} approved",
                description=(
                    f"Recorded {amount} to {creator} as paid. giftbot moves no money: pay them outside "
                    "Discord if you haven't yet. They get a DM with your reference."
                ),
                colour=theme.SUCCESS,
            )
            embed.add_field(name="Payment reference", value=fmt.safe(decided.reference or "", MAX_REFERENCE))
        else:
            embed = discord.Embed(
                title=f"Cash-out #{decided.id} rejected",
                description=f"{amount} went back to {creator}. They get a DM with your reason.",
                colour=theme.SUCCESS,
            )
            embed.add_field(name="Reason", value=fmt.safe(decided.reason or "", MAX_REASON))
        embed.set_footer(text=f"Ledger entry #{decided.decision_entry_id}")
        await reply(interaction, embed)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await send_error(interaction, error)


async def open_decision(interaction: discord.Interaction, cashout_id: int, *, approve: bool) -> None:
    """A click on Approve or Reject: permissions again, then the modal (or who decided first)."""
    bot = await check_moderator(interaction)
    assert interaction.guild_id is not None
    cashout = await bot.cashouts.get(interaction.guild_id, cashout_id)
    if cashout is None:
        raise UnknownCashout()
    if not cashout.open:
        await reply(interaction, decided_embed(cashout))
        return
    if approve and cashout.creator_id == interaction.user.id:
        raise SelfApproval()
    await interaction.response.send_modal(DecisionModal(cashout, approve=approve))


class ApproveCashout(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cashout:approve:(?P<id>[0-9]{1,20})",
):
    def __init__(self, cashout_id: int, *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Approve #{cashout_id}",
                style=discord.ButtonStyle.success,
                custom_id=f"cashout:approve:{cashout_id}",
                row=row,
            )
        )
        self.cashout_id = cashout_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ApproveCashout:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        # Refusals are answered here: a dynamic item's errors never reach tree.on_error.
        try:
            await open_decision(interaction, self.cashout_id, approve=True)
        except Exception as error:
            await send_error(interaction, error)


class RejectCashout(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cashout:reject:(?P<id>[0-9]{1,20})",
):
    def __init__(self, cashout_id: int, *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Reject #{cashout_id}",
                style=discord.ButtonStyle.danger,
                custom_id=f"cashout:reject:{cashout_id}",
                row=row,
            )
        )
        self.cashout_id = cashout_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RejectCashout:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await open_decision(interaction, self.cashout_id, approve=False)
        except Exception as error:
            await send_error(interaction, error)


def request_field(cashout: Cashout) -> tuple[str, str]:
    frozen = cashout.status is CashoutStatus.FROZEN
    name = f"#{cashout.id} · {fmt.diamonds(cashout.amount)}" + (" · ❄️ frozen" if frozen else "")
    value = (
        f"{fmt.person(cashout.creator_id)} · requested {fmt.when(cashout.requested_at)} · "
        f"ledger #{cashout.request_entry_id}"
    )
    if frozen:
        value += "\nThe creator left the server. You can still approve or reject it."
    return name, value


class CashoutList(OwnedView):
    """Open requests, a page at a time, with Approve and Reject for each."""

    def __init__(self, bot: GiftBot, owner_id: int, guild: discord.Guild) -> None:
        super().__init__(owner_id)
        self.bot = bot
        self.guild = guild
        self.page = 0

    async def render(self, page: int) -> discord.Embed:
        result = await self.bot.cashouts.open_requests(self.guild.id, page=page, per_page=REQUESTS_PER_PAGE)
        if page > 0 and page >= result.page_count:  # the last page emptied meanwhile
            return await self.render(result.page_count - 1)
        if await self.freeze_departed(result.items):
            result = await self.bot.cashouts.open_requests(
                self.guild.id, page=page, per_page=REQUESTS_PER_PAGE
            )
        self.page = page
        embed = discord.Embed(title="Cash-out requests", colour=theme.INFO)
        if not result.items:
            embed.description = "No cash-out requests are waiting."
        for cashout in result.items:
            name, value = request_field(cashout)
            embed.add_field(name=name, value=value, inline=False)
        embed.set_footer(
            text=f"Page {result.page_number} of {result.page_count} · {result.total:,} open · "
            "approving records a payment you make outside Discord"
        )
        self.clear_items()
        for row, cashout in enumerate(result.items):
            self.add_item(ApproveCashout(cashout.id, row=row))
            self.add_item(RejectCashout(cashout.id, row=row))
        if result.page_count > 1:
            self._paging(result.page_count)
        return embed

    def _paging(self, page_count: int) -> None:
        for label, step, disabled in (
            ("◀ Previous", -1, self.page <= 0),
            ("Next ▶", 1, self.page >= page_count - 1),
        ):
            button: discord.ui.Button[CashoutList] = discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, row=4, disabled=disabled
            )
            button.callback = self._turn(step)  # type: ignore[method-assign]
            self.add_item(button)

    def _turn(self, step: int) -> Any:
        async def turn(interaction: discord.Interaction) -> None:
            await check_moderator(interaction)  # paging may freeze requests: moderators only
            embed = await self.render(self.page + step)
            await interaction.response.edit_message(embed=embed, view=self, allowed_mentions=NO_PINGS)

        return turn

    async def freeze_departed(self, cashouts: list[Cashout]) -> bool:
        """Freeze the pending requests of creators who left (nothing is lost; a moderator decides).
        Without the members intent, only asking Discord tells who is still here."""
        froze = False
        for cashout in cashouts:
            if cashout.status is not CashoutStatus.PENDING:
                continue
            try:
                await self.guild.fetch_member(cashout.creator_id)
            except discord.NotFound:
                froze |= await self.bot.cashouts.freeze(self.guild.id, cashout.id, actor_id=self.owner_id)
            except discord.HTTPException as exc:
                log.warning("could not check whether creator %s is still here: %s", cashout.creator_id, exc)
        if froze:
            self.bot.audit.poke()
        return froze

    async def on_timeout(self) -> None:
        # The Approve and Reject buttons keep working (they are persistent); paging stops.
        self.stop()
        for child in self.children:
            if isinstance(child, discord.ui.Button):
                child.disabled = True
        if self.interaction is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.interaction.edit_original_response(view=self, allowed_mentions=NO_PINGS)


def cashouts_command() -> app_commands.Command[Any, ..., None]:
    @app_commands.command(name="cashouts", description="Open cash-out requests, with Approve and Reject.")
    @app_commands.check(require_moderator)
    async def cashouts(interaction: discord.Interaction) -> None:
        """Open cash-out requests, with Approve and Reject."""
        assert interaction.guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = CashoutList(bot_of(interaction), interaction.user.id, interaction.guild)
        embed = await view.render(0)
        view.interaction = interaction
        await interaction.followup.send(embed=embed, view=view, ephemeral=True, allowed_mentions=NO_PINGS)

    return cashouts


# -- /mod audit ------------------------------------------------------------------------------------


def audit_command() -> app_commands.Command[Any, ..., None]:
    @app_commands.command(name="audit", description="The ledger, newest first, with a CSV export.")
    @app_commands.describe(member="Only the entries touching this member's wallet")
    @app_commands.check(require_moderator)
    async def audit(interaction: discord.Interaction, member: discord.User | None = None) -> None:
        """The ledger, newest first, with a CSV export."""
        bot = bot_of(interaction)
        assert interaction.guild_id is not None
        guild_id, member_id = interaction.guild_id, member.id if member is not None else None
        await interaction.response.defer(ephemeral=True, thinking=True)

        async def render(page: int) -> tuple[discord.Embed, int]:
            result = await bot.storage.ledger_page(
                guild_id=guild_id, member_id=member_id, offset=page * ENTRIES_PER_PAGE, limit=ENTRIES_PER_PAGE
            )
            whose = (
                f"touching {fmt.person(member_id)}'s wallet" if member_id is not None else "in this server"
            )
            embed = discord.Embed(
                title="Ledger", description=f"Every entry {whose}, newest first.", colour=theme.INFO
            )
            if not result.items:
                embed.description = f"No entries {whose} yet."
            for entry in result.items:
                amounts = signed_amounts(entry.delta(member_id)) if member_id is not None else moved(entry)
                parts = [f"by {actor(entry.actor_id)}"]
                if member_id is None and (who := members(entry)):
                    parts.append(f"for {who}")
                if entry.reason:
                    parts.append(fmt.safe(entry.reason, 120))
                parts.append(fmt.when(entry.created_at))
                embed.add_field(
                    name=f"#{entry.id} · {kind_label(entry.kind)} · {amounts}"[:256],
                    value=" · ".join(parts),
                    inline=False,
                )
            more = "+" if result.more else ""  # a big server's entries are counted only so far
            pages, entries = f"{result.page_count}{more}", f"{result.total:,}{more}"
            embed.set_footer(text=f"Page {result.page_number} of {pages} · {entries} entries")
            return embed, result.page_count

        async def export(click: discord.Interaction) -> None:
            await check_moderator(click)  # whoever holds the buttons must still be a moderator
            suffix = f"-member-{member_id}" if member_id is not None else ""
            await send_export(
                click,
                lambda: bot.storage.export_guild_ledger(guild_id=guild_id, member_id=member_id),
                what="The ledger, one row per transfer",
                filename=f"giftbot-ledger-{guild_id}{suffix}.csv",
            )

        await send_pages_with_export(interaction, render, export)

    return audit


# -- wiring --------------------------------------------------------------------------------------


class Cashouts(commands.Cog):
    """Registers the persistent buttons and runs the audit sender while the extension is loaded."""

    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ApproveCashout, RejectCashout)
        self.bot.audit.start()

    async def cog_unload(self) -> None:
        self.bot.audit.stop()
        self.bot.remove_dynamic_items(ApproveCashout, RejectCashout)

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: app_commands.Command | app_commands.ContextMenu
    ) -> None:
        if command.qualified_name.split()[0] in AUDITED_ROOTS:
            self.bot.audit.poke()  # a grant, a revoke, a promotion or a request may owe a post


def _group(bot: GiftBot, name: str) -> app_commands.Group:
    group = bot.tree.get_command(name)
    if not isinstance(group, app_commands.Group):
        raise RuntimeError(f"/{name} must be loaded before cogs.cashouts")
    return group


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(Cashouts(bot))
    _group(bot, "creator").add_command(cashout_command())
    mod = _group(bot, "mod")
    mod.add_command(cashouts_command())
    mod.add_command(audit_command())


async def teardown(bot: GiftBot) -> None:
    for group_name, name in (("creator", "cashout"), ("mod", "cashouts"), ("mod", "audit")):
        group = bot.tree.get_command(group_name)
        if isinstance(group, app_commands.Group):
            group.remove_command(name)

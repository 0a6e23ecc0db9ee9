"""The coin store: /store view and /store claim for members; /mod store and /mod promo for
moderators.

Discord can't run a command that has subcommands, so the store is `/store view` rather than a
bare `/store`. /mod store and /mod promo are attached to the /mod group of cogs/moderation.py
when this extension loads (so it loads after that one), and checked for moderators in code on
every use, because a server admin can open /mod to anyone.
"""

from __future__ import annotations

from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands

from bot.age_gate import require_age_confirmation
from bot.app import GiftBot
from bot.economy.errors import EconomyError
from bot.economy.packages import MAX_PROMOTION_PERCENT, CoinPackage, Promotion
from bot.economy.purchases import (
    Credit,
    InvalidSku,
    NothingToClaim,
    Purchase,
    StoreShelf,
    UnknownPackage,
    UnknownPromotion,
    parse_snowflake,
)
from bot.interactions import idempotency_key, party
from bot.permissions import is_moderator, require_guild, require_moderator
from bot.purchases import SkuCatalog
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS

MAX_BUTTONS = 25  # five rows of five premium buttons
AUTOCOMPLETE_LIMIT = 25
ENDED_SHOWN = 5


async def reply(
    interaction: discord.Interaction, embed: discord.Embed, view: discord.ui.View | None = None
) -> None:
    if view is None:
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=True, allowed_mentions=NO_PINGS
        )


def package_name(package: CoinPackage) -> str:
    if package.bonus:
        return f"{fmt.number(package.coins)} + {fmt.number(package.bonus)} bonus coins"
    return fmt.plural(package.coins, "coin")


def package_line(package: CoinPackage) -> str:
    sold = f"SKU `{package.sku_id}`" if package.sku_id is not None else "*not for sale (no SKU)*"
    return f"🪙 **{package_name(package)}** · {sold}"


def promotion_line(promotion: Promotion) -> str:
    line = (
        f"**#{promotion.id}** · +{promotion.percent}% · {fmt.when(promotion.starts_at, 'f')} → "
        f"{fmt.when(promotion.ends_at, 'f')} · by {fmt.person(promotion.created_by)}"
    )
    if promotion.cancelled_at is not None:
        line += f" · cancelled {fmt.when(promotion.cancelled_at)}"
    return line


def shelf_embed(shelf: StoreShelf) -> discord.Embed:
    running = shelf.running
    lines = []
    for number, package in enumerate(shelf.packages[:MAX_BUTTONS], start=1):
        line = f"**{number}.** {fmt.coins(package.total)}"
        if package.bonus:
            line += f" ({fmt.number(package.coins)} + {fmt.number(package.bonus)} bonus)"
        if running is not None:
            line += f" · 🎉 +{fmt.number(package.total * running.percent // 100)} promotion bonus"
        lines.append(line)
    embed = discord.Embed(title="🪙 Coin store", description="\n".join(lines), colour=theme.INFO)
    if running is not None:
        embed.add_field(
            name="🎉 Promotion",
            value=(
                f"+{running.percent}% extra coins on every purchase, until "
                f"{fmt.when(running.ends_at, 'f')} ({fmt.when(running.ends_at)}). "
                "The extra coins are promo coins."
            ),
            inline=False,
        )
    elif shelf.upcoming is not None:
        upcoming = shelf.upcoming
        embed.add_field(
            name="Coming up",
            value=f"+{upcoming.percent}% extra coins from {fmt.when(upcoming.starts_at, 'f')}.",
            inline=False,
        )
    embed.set_footer(
        text="The buttons follow the list's order. Coins land in this server; the receipt comes by DM."
    )
    return embed


def shelf_view(shelf: StoreShelf) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for package in shelf.packages[:MAX_BUTTONS]:
        assert package.sku_id is not None
        view.add_item(discord.ui.Button(style=discord.ButtonStyle.premium, sku_id=package.sku_id))
    return view


def no_sale_embed() -> discord.Embed:
    return discord.Embed(
        title="🪙 How to get coins here",
        description=(
            "This server doesn't sell coins. Members get coins from moderator grants: moderators "
            "hand them out with `/mod grant` (for events, prizes or promotions). `/balance` shows yours."
        ),
        colour=theme.INFO,
    )


def claimed_embed(credits: list[Credit], left: list[Purchase]) -> discord.Embed:
    lines = []
    for credit in credits:
        bought = credit.purchase
        line = f"{fmt.coins(bought.coins)} · entry #{bought.entry_id}"
        if bought.bonus_coins:
            percent = f" +{credit.promotion.percent}%" if credit.promotion is not None else ""
            line += (
                f" · 🎉 promotion{percent}: {fmt.coins(bought.bonus_coins)} (entry #{bought.bonus_entry_id})"
            )
        lines.append(line)
    embed = discord.Embed(title="🧾 Coins claimed", description="\n".join(lines), colour=theme.SUCCESS)
    balance = credits[-1].balance
    if balance is not None:
        embed.add_field(name="New balance", value=fmt.coins(balance))
    if left:
        embed.add_field(
            name="Still waiting",
            value=(
                f"{fmt.plural(len(left), 'purchase')} this server doesn't sell: claim "
                f"{'it' if len(left) == 1 else 'them'} in a server whose `/store view` lists "
                f"{'it' if len(left) == 1 else 'them'}."
            ),
            inline=False,
        )
    return embed


async def moderator_typing(bot: GiftBot, interaction: discord.Interaction) -> bool:
    """Autocomplete skips group checks: only moderators get choices."""
    if interaction.guild_id is None:
        return False
    return is_moderator(interaction.user, await bot.economy.config(interaction.guild_id))


def parse_id(text: str, error: EconomyError) -> int:
    value = text.strip()
    if not value.isdigit() or len(value) > 20:
        raise error
    return int(value)


class Store(
    commands.GroupCog,
    name="Store",
    group_name="store",
    group_description="Buy coins for this server, or claim coins you bought.",
):
    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot
        self.skus = SkuCatalog(bot)

    @app_commands.command(name="view", description="The coin packages for sale here, with buy buttons.")
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def view(self, interaction: discord.Interaction) -> None:
        """The coin packages for sale here, with buy buttons."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        store = self.bot.coin_store
        if not await store.sells_coins(guild_id):
            await reply(interaction, no_sale_embed())
            return
        gate = await store.age_gate(guild_id)
        if not await require_age_confirmation(
            interaction, self.bot, sells_coins=True, allows_cashouts=gate.allows_cashouts
        ):
            return
        shelf = await store.shelf(guild_id, party(interaction.user))
        if not shelf.packages:  # unmapped meanwhile
            await reply(interaction, no_sale_embed())
            return
        await reply(interaction, shelf_embed(shelf), shelf_view(shelf))

    @app_commands.command(
        name="claim", description="Put coins you bought, waiting in your inbox, into this server."
    )
    @app_commands.describe(
        purchase="Which waiting purchase (leave it out to claim all that this server sells)"
    )
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def claim(self, interaction: discord.Interaction, purchase: str | None = None) -> None:
        """Put coins you bought, waiting in your inbox, into this server."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        member = party(interaction.user)
        store = self.bot.coin_store
        pick = EconomyError("Pick a purchase from the list, or leave the option out to claim them all.")
        chosen = parse_id(purchase, pick) if purchase else None
        if not await store.inbox(member):
            raise NothingToClaim()
        gate = await store.age_gate(guild_id)
        if not await require_age_confirmation(
            interaction, self.bot, sells_coins=gate.sells_coins, allows_cashouts=gate.allows_cashouts
        ):
            return
        credits, left = await store.claim(guild_id, member, chosen)
        await reply(interaction, claimed_embed(credits, left))

    @claim.autocomplete("purchase")
    async def claim_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        waiting = await self.bot.coin_store.inbox(party(interaction.user))
        choices = []
        for item in waiting:
            sku = await self.skus.get(item.sku_id)
            name = (
                f"{sku.name if sku else f'SKU {item.sku_id}'} · bought {item.purchased_at:%Y-%m-%d %H:%M} UTC"
            )
            if current.lower() in name.lower() or current in str(item.entitlement_id):
                choices.append(app_commands.Choice(name=name[:100], value=str(item.entitlement_id)))
        return choices[:AUTOCOMPLETE_LIMIT]


def sold(before: CoinPackage, after: CoinPackage) -> str:
    if before.sku_id == after.sku_id:
        return f"{package_line(after)} — nothing changed."
    return package_line(after)


class StoreAdmin(app_commands.Group):
    """/mod store: the coin packages this server sells, and the Discord SKUs they are sold as."""

    def __init__(self, bot: GiftBot, skus: SkuCatalog) -> None:
        super().__init__(
            name="store", description="The coin packages this server sells and their Discord SKUs."
        )
        self.bot = bot
        self.skus = skus

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await require_moderator(interaction)

    def _package_id(self, text: str) -> int:
        return parse_id(text, UnknownPackage())

    @app_commands.command(name="list", description="Every coin package here and the SKU it is sold as.")
    async def list_packages(self, interaction: discord.Interaction) -> None:
        """Every coin package here and the SKU it is sold as."""
        assert interaction.guild_id is not None
        packages = await self.bot.coin_store.packages(interaction.guild_id)
        embed = discord.Embed(
            title="Coin packages",
            description="\n".join(package_line(p) for p in packages)
            or "No packages. Add one with /mod store add.",
            colour=theme.INFO,
        )
        embed.set_footer(text="Sell a package with /mod store map; members buy with /store view.")
        await reply(interaction, embed)

    @app_commands.command(name="map", description="Sell a package as a Discord consumable SKU.")
    @app_commands.describe(
        package="The package to sell", sku="The SKU's id (developer portal → Monetization → SKUs)"
    )
    async def map(self, interaction: discord.Interaction, package: str, sku: str) -> None:
        """Sell a package as a Discord consumable SKU."""
        assert interaction.guild_id is not None
        sku_id = parse_snowflake(sku)
        known = await self.skus.all()
        found = await self.skus.get(sku_id)
        if known and found is None:
            raise InvalidSku(
                f"SKU {sku_id} is not one of this application's SKUs. Check the developer portal."
            )
        if found is not None and found.type is not discord.SKUType.consumable:
            raise InvalidSku(f"SKU {sku_id} is not a consumable SKU. Coins are sold as consumables.")
        before, after = await self.bot.coin_store.map_package(
            interaction.guild_id,
            self._package_id(package),
            sku_id,
            actor=party(interaction.user),
            key=idempotency_key(interaction),
        )
        embed = discord.Embed(description=f"Now selling {sold(before, after)}.", colour=theme.SUCCESS)
        if before.sku_id is not None and before.sku_id != after.sku_id:
            embed.set_footer(text=f"It was sold as SKU {before.sku_id} until now.")
        await reply(interaction, embed)

    @app_commands.command(name="unmap", description="Stop selling a package (it stays in the list).")
    @app_commands.describe(package="The package to stop selling")
    async def unmap(self, interaction: discord.Interaction, package: str) -> None:
        """Stop selling a package (it stays in the list)."""
        assert interaction.guild_id is not None
        before, after = await self.bot.coin_store.map_package(
            interaction.guild_id,
            self._package_id(package),
            None,
            actor=party(interaction.user),
            key=idempotency_key(interaction),
        )
        text = (
            f"{package_line(after)}: it was not for sale."
            if before.sku_id is None
            else f"Stopped selling **{package_name(after)}** (SKU `{before.sku_id}`)."
        )
        await reply(interaction, discord.Embed(description=text, colour=theme.SUCCESS))

    @app_commands.command(name="add", description="Add a coin package (sell it with /mod store map).")
    @app_commands.describe(coins="Coins in the package", bonus="Extra coins it comes with (default 0)")
    async def add(
        self,
        interaction: discord.Interaction,
        coins: app_commands.Range[int, 1, 1_000_000],
        bonus: app_commands.Range[int, 0, 1_000_000] = 0,
    ) -> None:
        """Add a coin package (sell it with /mod store map)."""
        assert interaction.guild_id is not None
        added = await self.bot.coin_store.add_package(
            interaction.guild_id,
            coins=coins,
            bonus=bonus,
            actor=party(interaction.user),
            key=idempotency_key(interaction),
        )
        embed = discord.Embed(description=f"Added {package_line(added)}.", colour=theme.SUCCESS)
        embed.set_footer(text="Map it to a consumable SKU with /mod store map to sell it.")
        await reply(interaction, embed)

    @app_commands.command(name="remove", description="Remove a coin package; past purchases keep it.")
    @app_commands.describe(package="The package to remove")
    async def remove(self, interaction: discord.Interaction, package: str) -> None:
        """Remove a coin package; past purchases keep it."""
        assert interaction.guild_id is not None
        removed = await self.bot.coin_store.remove_package(
            interaction.guild_id,
            self._package_id(package),
            actor=party(interaction.user),
            key=idempotency_key(interaction),
        )
        await reply(
            interaction,
            discord.Embed(description=f"Removed **{package_name(removed)}**.", colour=theme.SUCCESS),
        )

    async def _package_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not await moderator_typing(self.bot, interaction):
            return []
        assert interaction.guild_id is not None
        packages = await self.bot.coin_store.packages(interaction.guild_id)
        typed = current.strip().lower().replace(",", "")
        choices = []
        for package in packages:
            sale = f"SKU {package.sku_id}" if package.sku_id is not None else "not for sale"
            name = f"{package.coins:,} + {package.bonus:,} bonus coins · {sale}"
            if typed in name.replace(",", "").lower():
                choices.append(app_commands.Choice(name=name[:100], value=str(package.id)))
        return choices[:AUTOCOMPLETE_LIMIT]

    @map.autocomplete("package")
    async def map_package_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._package_choices(interaction, current)

    @unmap.autocomplete("package")
    async def unmap_package_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._package_choices(interaction, current)

    @remove.autocomplete("package")
    async def remove_package_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._package_choices(interaction, current)

    @map.autocomplete("sku")
    async def sku_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not await moderator_typing(self.bot, interaction):
            return []
        typed = current.strip().lower()
        return [
            app_commands.Choice(name=f"{sku.name} · {sku.id}"[:100], value=str(sku.id))
            for sku in await self.skus.consumables()
            if typed in sku.name.lower() or typed in str(sku.id)
        ][:AUTOCOMPLETE_LIMIT]


class PromoAdmin(app_commands.Group):
    """/mod promo: time-limited bonus coins on purchases."""

    def __init__(self, bot: GiftBot) -> None:
        super().__init__(name="promo", description="Time-limited extra coins on every purchase.")
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await require_moderator(interaction)

    @app_commands.command(name="create", description="Give purchases extra coins for a while.")
    @app_commands.describe(
        percent=f"Extra coins, in percent of the package (1–{MAX_PROMOTION_PERCENT})",
        starts="When it starts, in the server's timezone: now, 2026-03-01 18:00, in 2h",
        ends="When it ends: 2026-03-08 18:00, in 3d, or +3d (after the start)",
    )
    async def create(
        self,
        interaction: discord.Interaction,
        percent: app_commands.Range[int, 1, MAX_PROMOTION_PERCENT],
        starts: app_commands.Range[str, 1, 40],
        ends: app_commands.Range[str, 1, 40],
    ) -> None:
        """Give purchases extra coins for a while."""
        assert interaction.guild_id is not None
        promotion = await self.bot.coin_store.create_promotion(
            interaction.guild_id,
            percent=percent,
            starts=starts,
            ends=ends,
            actor=party(interaction.user),
            key=idempotency_key(interaction),
        )
        embed = discord.Embed(
            title=f"Promotion #{promotion.id}: +{promotion.percent}%",
            description=(
                f"From {fmt.when(promotion.starts_at, 'F')} ({fmt.when(promotion.starts_at)}) to "
                f"{fmt.when(promotion.ends_at, 'F')}, every purchase here gets {promotion.percent}% "
                "extra coins, as promo coins."
            ),
            colour=theme.SUCCESS,
        )
        if not await self.bot.coin_store.sells_coins(interaction.guild_id):
            embed.set_footer(text="This server sells no coins yet: map a package with /mod store map.")
        await reply(interaction, embed)

    @app_commands.command(name="list", description="Running, upcoming and recent promotions.")
    async def list_promotions(self, interaction: discord.Interaction) -> None:
        """Running, upcoming and recent promotions."""
        assert interaction.guild_id is not None
        promotions = await self.bot.coin_store.promotions(interaction.guild_id)
        now = self.bot.now()
        running = [p for p in promotions if p.running_at(now)]
        upcoming = [p for p in promotions if p.starts_at > now and p.cancelled_at is None]
        ended = [p for p in promotions if p not in running and p not in upcoming][:ENDED_SHOWN]
        embed = discord.Embed(title="Promotions", colour=theme.INFO)
        for title, group in (("Running", running), ("Upcoming", list(reversed(upcoming))), ("Ended", ended)):
            if group:
                embed.add_field(
                    name=title, value="\n".join(promotion_line(p) for p in group)[:1024], inline=False
                )
        if not promotions:
            embed.description = "No promotions yet. Start one with /mod promo create."
        await reply(interaction, embed)

    @app_commands.command(name="cancel", description="End a running or upcoming promotion now.")
    @app_commands.describe(promo="The promotion to end")
    async def cancel(self, interaction: discord.Interaction, promo: str) -> None:
        """End a running or upcoming promotion now."""
        assert interaction.guild_id is not None
        cancelled = await self.bot.coin_store.cancel_promotion(
            interaction.guild_id,
            parse_id(promo, UnknownPromotion()),
            actor=party(interaction.user),
            key=idempotency_key(interaction),
        )
        text = (
            f"Cancelled promotion #{cancelled.id} (+{cancelled.percent}%). "
            "Purchases made before now keep their bonus."
        )
        await reply(interaction, discord.Embed(description=text, colour=theme.SUCCESS))

    @cancel.autocomplete("promo")
    async def cancel_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not await moderator_typing(self.bot, interaction):
            return []
        assert interaction.guild_id is not None
        now = self.bot.now()
        choices = []
        for promotion in await self.bot.coin_store.promotions(interaction.guild_id):
            if promotion.cancelled_at is not None or promotion.ends_at <= now:
                continue
            state = "running" if promotion.running_at(now) else f"from {when_utc(promotion.starts_at)}"
            name = f"#{promotion.id} · +{promotion.percent}% · {state} until {when_utc(promotion.ends_at)}"
            if current.strip().lstrip("#") in name:
                choices.append(app_commands.Choice(name=name[:100], value=str(promotion.id)))
        return choices[:AUTOCOMPLETE_LIMIT]


def when_utc(moment: datetime) -> str:
    """A time in an autocomplete choice, which can't show Discord timestamps."""
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _mod_group(bot: GiftBot) -> app_commands.Group:
    mod = bot.tree.get_command("mod")
    if not isinstance(mod, app_commands.Group):
        raise RuntimeError("cogs.store loads after cogs.moderation, which defines /mod")
    return mod


async def setup(bot: GiftBot) -> None:
    store = Store(bot)
    await bot.add_cog(store)
    mod = _mod_group(bot)
    mod.add_command(StoreAdmin(bot, store.skus))
    mod.add_command(PromoAdmin(bot))


async def teardown(bot: GiftBot) -> None:
    mod = bot.tree.get_command("mod")
    if isinstance(mod, app_commands.Group):
        mod.remove_command("store")
        mod.remove_command("promo")

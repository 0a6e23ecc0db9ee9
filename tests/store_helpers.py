"""Helpers for the coin store's end-to-end tests: SKUs mapped to packages, the age check, DMs,
raw ledger rows and restarts on the same database."""

from __future__ import annotations

from typing import Any

import discord
import simcord
from simcord.backend import serializers

from bot.app import GiftBot, create_bot
from bot.economy.service import Party
from bot.settings import Settings
from tests.sim import Community


async def sell(
    world: Community, coins: int = 350, bonus: int = 38, *, guild_id: int | None = None, sku: Any = None
) -> simcord.SKUHandle:
    """A consumable SKU (new unless given) sold as this guild's default `coins + bonus` package."""
    if sku is None:
        sku = world.env.create_sku(f"{coins + bonus:,} coins", type=discord.SKUType.consumable)
    guild_id = guild_id or world.guild.id
    store = world.bot.coin_store
    package = next(p for p in await store.packages(guild_id) if (p.coins, p.bonus) == (coins, bonus))
    await store.map_package(
        guild_id, package.id, sku.id, actor=Party(world.mod.id, "mod"), key=f"test-map:{guild_id}:{sku.id}"
    )
    return sku


async def adult(world: Community, member: simcord.MemberActor, guild_id: int | None = None) -> None:
    """The member has confirmed their age in that guild (the age gate has its own tests)."""
    await world.bot.budgets.confirm_age(guild_id or world.guild.id, Party(member.id, member.name))


def dms(member: simcord.MemberActor) -> list[discord.Message]:
    return list(member.user.dm_channel.history())


def receipts(member: simcord.MemberActor) -> list[discord.Embed]:
    """The receipt embeds the member got by DM, oldest first."""
    return [m.embeds[0] for m in dms(member) if m.embeds and (m.embeds[0].title or "").startswith("🧾")]


async def sql(world: Community, query: str, *params: Any) -> list[tuple[Any, ...]]:
    def read(conn):  # type: ignore[no-untyped-def]
        return [tuple(row) for row in conn.execute(query, params).fetchall()]

    return await world.bot.storage.db.read(read)


async def ledger(world: Community, guild_id: int | None = None) -> list[tuple[int, str, str]]:
    """(entry id, kind, key) of the guild's entries, oldest first."""
    return await sql(  # type: ignore[return-value]
        world,
        "SELECT id, kind, idempotency_key FROM entries WHERE guild_id = ? ORDER BY id",
        guild_id or world.guild.id,
    )


async def legs(world: Community, entry_id: int) -> list[tuple[str, str, int]]:
    """An entry's transfers as (debit 'owner:code', credit 'owner:code', amount)."""
    return await sql(  # type: ignore[return-value]
        world,
        "SELECT d.owner_id || ':' || d.code, c.owner_id || ':' || c.code, t.amount FROM transfers t "
        "JOIN accounts d ON d.id = t.debit_account_id JOIN accounts c ON c.id = t.credit_account_id "
        "WHERE t.entry_id = ? ORDER BY t.id",
        entry_id,
    )


async def wallet(
    world: Community, member: simcord.MemberActor, guild_id: int | None = None
) -> tuple[int, int]:
    """(promo, paid) coins."""
    held = await world.bot.storage.balances(guild_id=guild_id or world.guild.id, user_id=member.id)
    return held.promo_coins, held.paid_coins


def consumed(entitlement: simcord.EntitlementHandle) -> bool:
    return bool(entitlement.snapshot().consumed)


async def deliver_delete_again(env: simcord.Env, entitlement: simcord.EntitlementHandle) -> None:
    """Discord delivers the same ENTITLEMENT_DELETE a second time."""
    env.backend.emit(
        "ENTITLEMENT_DELETE", serializers.entitlement_payload(env.backend.get_entitlement(entitlement.id))
    )
    await env.settle()


class Restarts:
    """Restart the bot on the same database; closes every bot it started at the end."""

    def __init__(self, env: simcord.Env, settings: Settings) -> None:
        self.env = env
        self.settings = settings
        self.started: list[GiftBot] = []

    async def restart(self, *, crash: bool = False) -> GiftBot:
        """A clean restart closes the database first; a crash just drops the old bot."""
        old = self.env.bot
        if not crash:
            assert isinstance(old, GiftBot)
            await old.storage.close()
        bot = create_bot(self.settings)
        self.started.append(bot)
        await self.env.restart_bot(bot)
        return bot

    async def close(self) -> None:
        for bot in self.started:
            await bot.storage.close()

"""/config end to end: every setting shown, changes recorded, the /mod access warning."""

from __future__ import annotations

from typing import Any

import discord
import simcord

from bot.economy.clock import to_millis
from bot.economy.guild_config import SPECS
from tests.sim import Community, acknowledge_errors, command_id, now, pings

MOD_ROLE_WARNING = "can't see /mod"


def private_embed(env: simcord.Env, result: simcord.InteractionResult) -> discord.Embed:
    """The one embed of a private, ping-free reply (sent directly or after deferring)."""
    assert result.ephemeral
    message = result.followups[-1] if result.deferred else result.response
    assert message is not None
    assert message.ephemeral
    assert pings(env, message).nobody
    return message.embeds[0]


def text_of(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or ""]
    parts += [f"{field.name}\n{field.value}" for field in embed.fields]
    return "\n".join(parts)


async def changes(world: Community) -> list[dict[str, Any]]:
    def read(conn):
        rows = conn.execute(
            "SELECT key, old_value, new_value, actor_id, changed_at FROM guild_setting_changes "
            "WHERE guild_id = ? ORDER BY id",
            (world.guild.id,),
        ).fetchall()
        keys = ("key", "old", "new", "actor_id", "changed_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    return await world.bot.storage.db.read(read)


async def show(world: Community) -> discord.Embed:
    return private_embed(world.env, await world.mod.slash(world.channel, "config show"))


async def test_show_lists_every_setting_with_its_default_and_description(simcord_env):
    world = Community.build(simcord_env)
    embed = await show(world)
    text = text_of(embed)
    for key, spec in SPECS.items():
        assert f"`{key}`" in text
        assert spec.description in text
    values = {field.name.split("`")[1]: field.value for field in embed.fields if "`" in field.name}
    assert values["creator_share"].startswith("**50% (bot default)**")
    assert values["confirm_threshold"].startswith("**1,000**")
    assert values["timezone"].startswith("**UTC**")
    assert values["moderator_role"].startswith("**Not set**")
    assert "No changes yet" in text
    assert MOD_ROLE_WARNING not in text


async def test_set_records_old_new_who_and_when_and_takes_effect(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await simcord_env.advance_time(3600)

    result = await world.mod.slash(world.channel, "config set", setting="creator_share", value="40")
    assert "50% (bot default) → 40%" in text_of(private_embed(simcord_env, result))
    second = await world.mod.slash(world.channel, "config set", setting="creator_share", value="30")
    assert "40% → 30%" in text_of(private_embed(simcord_env, second))
    threshold = await world.mod.slash(world.channel, "config set", setting="confirm_threshold", value="2,500")
    assert "1,000 → 2,500" in text_of(private_embed(simcord_env, threshold))

    at = to_millis(now(simcord_env))  # the virtual clock, moved on an hour from the start
    assert await changes(world) == [
        {"key": "creator_share", "old": None, "new": "40", "actor_id": world.mod.id, "changed_at": at},
        {"key": "creator_share", "old": "40", "new": "30", "actor_id": world.mod.id, "changed_at": at},
        {"key": "confirm_threshold", "old": None, "new": "2500", "actor_id": world.mod.id, "changed_at": at},
    ]

    text = text_of(await show(world))
    assert "**30%**" in text and "**2,500**" in text
    assert f"Creator share (%): 40% → 30% by <@{world.mod.id}> <t:" in text

    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=10)
    assert await world.diamonds(world.carol) == 3


async def test_invalid_values_are_refused_and_change_nothing(simcord_env):
    world = Community.build(simcord_env)
    cases = {
        "creator_share": ("150", "Give a whole number between 0 and 100."),
        "confirm_threshold": ("lots", "Give a whole number between 1 and 1,000,000."),
        "timezone": ("Mars/Olympus", "is not a timezone I know"),
        "moderator_role": ("the mods", "Mention a role or paste its id"),
    }
    for setting, (value, message) in cases.items():
        result = await world.mod.slash(world.channel, "config set", setting=setting, value=value)
        assert message in text_of(private_embed(simcord_env, result)), setting

    unknown_role = await world.mod.slash(
        world.channel, "config set", setting="moderator_role", value="123456789012345678"
    )
    assert "no such role" in text_of(private_embed(simcord_env, unknown_role))
    everyone = await world.mod.slash(
        world.channel, "config set", setting="moderator_role", value=str(world.guild.id)
    )
    assert "@everyone can't be the moderator role" in text_of(private_embed(simcord_env, everyone))

    assert await changes(world) == []
    assert await world.bot.economy.stored_settings(world.guild.id) == {}


async def test_only_managers_may_change_settings(simcord_env):
    world = Community.build(simcord_env)
    helpers = world.guild.create_role("Helpers")
    helen = world.guild.add_member(simcord_env.create_user("helen"), roles=[helpers])
    await world.mod.slash(world.channel, "config set", setting="moderator_role", value=helpers.mention)
    world.guild.set_command_permissions(command_id(simcord_env, "config"), {world.guild.default_role: True})

    for member in (world.alice, helen):  # a moderator role is not Manage Server
        result = await member.slash(world.channel, "config set", setting="creator_share", value="100")
        assert "Only members with Manage Server" in text_of(private_embed(simcord_env, result))
        peek = await member.slash(world.channel, "config show")
        assert "Only members with Manage Server" in text_of(private_embed(simcord_env, peek))
    assert [c["key"] for c in await changes(world)] == ["moderator_role"]


async def test_warns_until_the_moderator_role_is_allowed_on_mod(simcord_env):
    world = Community.build(simcord_env)
    helpers = world.guild.create_role("Helpers")

    result = await world.mod.slash(
        world.channel, "config set", setting="moderator_role", value=helpers.mention
    )
    text = text_of(private_embed(simcord_env, result))
    assert f"Not set → <@&{helpers.id}>" in text
    app = world.bot.user.name  # Integrations lists the app under its own name
    assert MOD_ROLE_WARNING in text and f"Server Settings → Integrations → {app} → /mod" in text

    assert MOD_ROLE_WARNING in text_of(await show(world))

    mod_id = command_id(simcord_env, "mod")
    world.guild.set_command_permissions(mod_id, {world.guild.default_role: True, helpers: False})
    assert MOD_ROLE_WARNING in text_of(await show(world))  # a role deny beats @everyone

    world.guild.set_command_permissions(mod_id, {helpers: True})
    assert MOD_ROLE_WARNING not in text_of(await show(world))

    world.guild.set_command_permissions(mod_id, {world.guild.default_role: True})
    assert MOD_ROLE_WARNING not in text_of(await show(world))

    cleared = await world.mod.slash(world.channel, "config set", setting="moderator_role", value="none")
    assert f"<@&{helpers.id}> → Not set" in text_of(private_embed(simcord_env, cleared))


async def test_no_warning_for_a_role_that_already_has_manage_server(simcord_env):
    world = Community.build(simcord_env)
    result = await world.mod.slash(
        world.channel, "config set", setting="moderator_role", value=str(world.admins.id)
    )
    assert MOD_ROLE_WARNING not in text_of(private_embed(simcord_env, result))


async def test_the_warning_check_survives_discord_errors(simcord_env):
    world = Community.build(simcord_env)
    helpers = world.guild.create_role("Helpers")
    await world.mod.slash(world.channel, "config set", setting="moderator_role", value=helpers.mention)

    simcord_env.inject_error("GET", "/applications/*/guilds/*/commands/*/permissions", status=500)
    text = text_of(await show(world))
    assert "couldn't check who can see /mod" in text
    assert "`timezone`" in text

    simcord_env.inject_error("GET", "/applications/*/commands", status=503)
    text = text_of(await show(world))
    assert "couldn't check who can see /mod" in text
    assert acknowledge_errors(simcord_env) == []

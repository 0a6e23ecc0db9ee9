"""Moderator and manager commands refuse everyone else even when a server admin has opened them
to @everyone in Discord's settings: the code checks on every use, Discord's gate only hides.

The sweep walks the commands the bot registered with Discord, so a new gated command (or
subcommand) is covered without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import simcord

from bot.permissions import NotManager, NotModerator
from tests.sim import Community, command_id

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)
REFUSALS = {NotModerator.user_message, NotManager.user_message}


def gated_commands(env: simcord.Env) -> list[dict[str, Any]]:
    """Top-level commands registered with a default_member_permissions gate."""
    return [
        command
        for scope in env.backend.commands.values()
        for command in scope.values()
        if command.get("default_member_permissions") is not None
    ]


def leaves(command: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(qualified name, options) of every invocable (sub)command."""
    name = f"{prefix} {command['name']}".strip()
    options = command.get("options") or []
    subs = [o for o in options if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
    if not subs:
        yield name, options
    for sub in subs:
        yield from leaves(sub, name)


def value_for(option: dict[str, Any], world: Community) -> Any:
    """A plausible value a moderator might pass: the refusal must not depend on it."""
    if option.get("choices"):
        return option["choices"][0]["value"]
    kind = option["type"]
    if kind == STRING:
        return "Rose".ljust(option.get("min_length") or 1, "x")
    if kind in (INTEGER, NUMBER):
        return max(1, option.get("min_value") or 1)
    if kind == BOOLEAN:
        return True
    if kind in (USER, MENTIONABLE):
        return world.bob
    if kind == CHANNEL:
        return world.channel
    if kind == ROLE:
        return world.admins
    if kind == ATTACHMENT:
        return ("proof.png", b"\x89PNG\r\n\x1a\n")
    raise AssertionError(f"no sample value for option type {kind}")


async def database(world: Community) -> list[str]:
    return await world.bot.storage.db.read(lambda conn: list(conn.iterdump()))


async def test_every_gated_subcommand_refuses_a_member_when_opened_to_everyone(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 500)
    await world.alice.slash(world.channel, "balance")
    gated = gated_commands(simcord_env)
    assert {"mod", "config"} <= {command["name"] for command in gated}
    for command in gated:  # what a server admin does in Server Settings → Integrations
        world.guild.set_command_permissions(
            command_id(simcord_env, command["name"]), {world.guild.default_role: True}
        )
    before = await database(world)

    tried = []
    for command in gated:
        for name, options in leaves(command):
            required = {o["name"]: value_for(o, world) for o in options if o.get("required")}
            result = await world.alice.slash(world.channel, name, **required)
            assert result.ephemeral, name
            assert result.response is not None and result.response.embeds, name
            assert result.response.embeds[0].description in REFUSALS, name
            for option in options:  # autocomplete runs no checks: it must not leak anything either
                if option.get("autocomplete"):
                    assert await world.alice.autocomplete(world.channel, name, option["name"], "") == [], name
            tried.append(name)

    assert {"mod grant", "mod revoke", "config set", "config show"} <= set(tried)
    assert await database(world) == before  # not one row changed
    assert simcord_env.errors == []


async def test_a_moderator_role_opens_mod_but_not_config(simcord_env):
    """The moderator role is trusted with /mod only; settings stay with Manage Server."""
    world = Community.build(simcord_env)
    helpers = world.guild.create_role("Helpers")
    helen = world.guild.add_member(simcord_env.create_user("helen"), roles=[helpers])
    await world.mod.slash(world.channel, "config set", setting="moderator_role", value=str(helpers.id))
    for name in ("mod", "config"):
        world.guild.set_command_permissions(command_id(simcord_env, name), {world.guild.default_role: True})

    granted = await helen.slash(world.channel, "mod grant", member=world.bob, coins=5, reason="help")
    assert granted.ephemeral and granted.response.embeds[0].description.startswith("Granted")
    for command in gated_commands(simcord_env):
        if command["name"] != "config":
            continue
        for name, options in leaves(command):
            required = {o["name"]: value_for(o, world) for o in options if o.get("required")}
            refused = await helen.slash(world.channel, name, **required)
            assert refused.response.embeds[0].description == NotManager.user_message, name

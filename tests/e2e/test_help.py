"""/help end to end: each caller sees the commands they may use, and only those."""

from __future__ import annotations

import re

import simcord
from discord import app_commands

from tests.sim import Community

LISTED = re.compile(r"^`/([a-z_ -]+)` · (.+)$", re.MULTILINE)


async def listed(actor: simcord.MemberActor, world: Community) -> tuple[str, dict[str, str]]:
    """The help text and the commands it lists, as {qualified name: description}."""
    result = await actor.slash(world.channel, "help")
    assert result.ephemeral
    text = result.response.embeds[0].description
    return text, dict(LISTED.findall(text))


def tree_commands(world: Community) -> dict[str, str]:
    """Every slash command in the bot's tree, subcommands included."""
    found = {}
    for command in world.bot.tree.get_commands():
        if isinstance(command, app_commands.Group):
            for sub in command.walk_commands():
                if isinstance(sub, app_commands.Command):
                    found[sub.qualified_name] = sub.description
        elif isinstance(command, app_commands.Command):
            found[command.qualified_name] = command.description
    return found


def restricted(names: dict[str, str], group: str) -> set[str]:
    return {name for name in names if name.split()[0] == group}


async def test_a_plain_member_sees_member_commands_only(simcord_env):
    world = Community.build(simcord_env)

    text, names = await listed(world.alice, world)

    assert "coins" in text and "gifts" in text and "diamonds" in text  # the intro line
    assert "**Member**" in text
    assert "Moderator" not in text and "Server settings" not in text
    assert not restricted(names, "mod") and not restricted(names, "config")
    assert "/mod" not in text and "/config" not in text
    for member_command in ("gift", "gifts", "balance", "history", "leaderboard", "help"):
        assert member_command in names
    assert names["gift"] == "Send a gift to a creator; it costs coins."
    everything = tree_commands(world)
    assert names == {n: d for n, d in everything.items() if n.split()[0] not in {"mod", "config", "creator"}}


async def test_a_moderator_by_role_sees_mod_but_not_config(simcord_env):
    world = Community.build(simcord_env)
    helpers = world.guild.create_role("Helpers")
    helper = world.guild.add_member(simcord_env.create_user("helper", global_name="Helper"), roles=[helpers])
    await world.bot.economy.set_config(
        world.guild.id, "moderator_role", str(helpers.id), actor_id=world.mod.id
    )

    text, names = await listed(helper, world)

    assert "**Moderator**" in text
    assert restricted(names, "mod") == restricted(tree_commands(world), "mod") != set()
    assert "mod grant" in names
    assert not restricted(names, "config") and "Server settings" not in text


async def test_a_manager_sees_every_command_in_sections(simcord_env):
    world = Community.build(simcord_env)

    text, names = await listed(world.mod, world)

    everything = tree_commands(world)
    assert names == {n: d for n, d in everything.items() if n.split()[0] != "creator"}  # not a creator
    assert restricted(names, "config")
    assert text.index("**Member**") < text.index("**Moderator**") < text.index("**Server settings**")
    assert text.index("`/gift`") < text.index("`/mod grant`") < text.index("`/config")


async def test_a_creator_sees_the_creator_tools_and_members_do_not(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators(world.carol)

    text, names = await listed(world.carol, world)
    assert "**Creator**" in text
    assert restricted(names, "creator") == restricted(tree_commands(world), "creator") != set()
    assert text.index("**Member**") < text.index("**Creator**")
    _, member_names = await listed(world.alice, world)
    assert not restricted(member_names, "creator")

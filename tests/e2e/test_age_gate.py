"""The age gate end to end: off by default; when on, a member confirms once, with a button, that
they are 18 or older before going on; the confirmation is stored with its time, the button keeps
working after a restart, and /config show says why the gate is on.

/gift is wired to the gate separately; here a throwaway command stands in for it.
"""

from __future__ import annotations

import discord
import simcord
from discord import app_commands

from bot.age_gate import BUTTON_LABEL, require_age_confirmation
from bot.app import create_bot
from bot.economy.clock import to_millis
from tests.e2e.test_budget import HOUR, ready
from tests.sim import Community, buttons, pings, raw_click

GO_ON = "You may go on."


def gated_command() -> app_commands.Command:
    @app_commands.command(name="gated", description="Test only: a command behind the age gate.")
    async def gated(interaction: discord.Interaction) -> None:
        if await require_age_confirmation(interaction, interaction.client):  # type: ignore[arg-type]
            await interaction.response.send_message(GO_ON, ephemeral=True)

    return gated


async def with_gated_command(world: Community) -> None:
    world.bot.tree.add_command(gated_command())
    await world.bot.tree.sync()


async def turn_gate_on(world: Community) -> None:
    await world.bot.economy.set_config(world.guild.id, "age_gate", "on", actor_id=world.mod.id)


async def confirmed_at(world: Community, member: simcord.MemberActor) -> int | None:
    prefs = await world.bot.storage.prefs(guild_id=world.guild.id, user_id=member.id)
    return prefs.age_confirmed_at


async def test_with_the_gate_off_nobody_is_asked(simcord_env):
    world = await ready(simcord_env)
    await with_gated_command(world)
    result = await world.alice.slash(world.channel, "gated")
    assert result.response.content == GO_ON
    assert await confirmed_at(world, world.alice) is None


async def test_the_gate_blocks_until_the_member_confirms_with_the_button(simcord_env):
    world = await ready(simcord_env)
    await with_gated_command(world)
    await turn_gate_on(world)

    asked = await world.alice.slash(world.channel, "gated")
    assert asked.ephemeral and pings(simcord_env, asked.response).nobody
    embed = asked.response.embeds[0]
    assert embed.title == "Please confirm your age"
    assert "18 or older" in embed.description and "a manager turned the age gate on" in embed.description
    assert list(buttons(asked.response)) == [BUTTON_LABEL]
    assert await confirmed_at(world, world.alice) is None

    again = await world.alice.slash(world.channel, "gated")  # still blocked until the click
    assert again.response.content != GO_ON

    await simcord_env.advance_time(HOUR)
    clicked = await world.alice.click(asked.response, label=BUTTON_LABEL)
    assert clicked.response.embeds[0].title == "Thanks, you're confirmed"
    assert "Run your command again" in clicked.response.embeds[0].description
    assert buttons(clicked.response) == {}
    assert await confirmed_at(world, world.alice) == to_millis(simcord_env.now())

    passed = await world.alice.slash(world.channel, "gated")
    assert passed.response.content == GO_ON
    # Once is enough: another click (the second prompt's button) keeps the first time.
    await world.alice.click(again.response, label=BUTTON_LABEL)
    assert await confirmed_at(world, world.alice) == to_millis(simcord_env.now())
    assert simcord_env.errors == []


async def test_a_click_by_anyone_else_confirms_nothing(simcord_env):
    world = await ready(simcord_env)
    await with_gated_command(world)
    await turn_gate_on(world)
    asked = await world.alice.slash(world.channel, "gated")
    (click,) = await raw_click(simcord_env, world.bob, asked.response, BUTTON_LABEL)
    assert click.ephemeral and click.response.content == "This confirmation belongs to someone else."
    assert await confirmed_at(world, world.alice) is None
    assert await confirmed_at(world, world.bob) is None


async def test_the_button_still_works_after_a_restart(simcord_env, settings):
    world = await ready(simcord_env)
    await with_gated_command(world)
    await turn_gate_on(world)
    asked = await world.alice.slash(world.channel, "gated")
    await simcord_env.bot.storage.close()
    await simcord_env.restart_bot(create_bot(settings))
    clicked = await world.alice.click(asked.response, label=BUTTON_LABEL)
    assert clicked.response.embeds[0].title == "Thanks, you're confirmed"
    assert await confirmed_at(world, world.alice) is not None


async def test_confirming_in_one_server_does_not_confirm_in_another(simcord_env):
    world = await ready(simcord_env)
    await with_gated_command(world)
    await turn_gate_on(world)
    other = simcord_env.create_guild("Elsewhere")
    await world.bot.economy.set_config(other.id, "age_gate", "on", actor_id=world.mod.id)
    asked = await world.alice.slash(world.channel, "gated")
    await world.alice.click(asked.response, label=BUTTON_LABEL)
    elsewhere = await other.add_member(world.alice.user).slash(other.create_text_channel("chat"), "gated")
    assert elsewhere.response.embeds[0].title == "Please confirm your age"


async def test_config_show_says_why_the_gate_is_on(simcord_env):
    world = await ready(simcord_env)

    async def gate_line() -> str:
        shown = await world.mod.slash(world.channel, "config show")
        (embed,) = shown.followups[0].embeds if shown.followups else shown.response.embeds
        (field,) = [f for f in embed.fields if f.name == "Age gate"]
        return field.value

    assert (await gate_line()).startswith("**Off**: nobody is asked their age.")
    await turn_gate_on(world)
    assert (await gate_line()).startswith("**On**, because a manager turned the age gate on:")

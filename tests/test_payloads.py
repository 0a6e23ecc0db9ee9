"""The payload validator itself (tests/payloads.py): it accepts what discord.py really sends and
catches what Discord would refuse, so a clean suite means something.

These checks are synthetic and are left out of the session's "payloads validated" figure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.ui.mentions import NO_PINGS, only_users
from tests import payloads

ROOT = Path(__file__).resolve().parents[1]
CALLBACK = "/interactions/1456074443980800024/token/callback"
FOLLOWUP = "/webhooks/1456074443980800000/token"
MESSAGES = "/channels/1456074443980800016/messages"
COMMANDS = "/applications/1456074443980800000/commands"


@pytest.fixture(autouse=True)
def spec_present():
    try:
        payloads.spec()
    except payloads.SpecMissing as missing:
        pytest.skip(str(missing))


def problems(method: str, path: str, body: Any) -> list[str]:
    return [problem.message for problem in payloads.check(method, path, body, tally=None)]


def reply(**data: Any) -> dict[str, Any]:
    """An interaction's message reply (CHANNEL_MESSAGE_WITH_SOURCE) with allowed_mentions set."""
    return {"type": 4, "data": {"allowed_mentions": NO_PINGS.to_dict(), **data}}


def row(*items: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(items)}


def button(**fields: Any) -> dict[str, Any]:
    return {"type": 2, "style": 1, **fields}


# -- what discord.py really sends is accepted --------------------------------------------------------


def test_discord_py_bodies_with_integer_snowflakes_are_valid():
    embed = discord.Embed(title="🌹 Rose x15", description="<@1> sent a gift", colour=0xFF66AA)
    embed.add_field(name="💬 Carol", value="Thank you!", inline=False)
    embed.set_footer(text="🪙 15 coins")
    embed.timestamp = discord.utils.utcnow()
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="Send again", emoji="🔁", custom_id="gift:again:1:2:3"))
    view.add_item(discord.ui.Button(label="Docs", url="https://discord.com"))
    view.add_item(discord.ui.Button(emoji=discord.PartialEmoji(name="rose", id=123456789012345678)))
    body = {
        "embeds": [embed.to_dict()],
        "components": view.to_components(),
        "allowed_mentions": only_users([1456074443980800018, 1456074443980800019]).to_dict(),
        "attachments": [{"id": 0, "filename": "card.png"}],
    }
    assert isinstance(body["allowed_mentions"]["users"][0], int)  # as discord.py sends them
    assert problems("POST", MESSAGES, body) == []
    assert problems("POST", CALLBACK, {"type": 4, "data": body}) == []
    assert problems("POST", FOLLOWUP, body) == []
    assert problems("PATCH", f"{FOLLOWUP}/messages/@original", {**body, "components": []}) == []
    assert problems("POST", CALLBACK, {"type": 5, "data": {"flags": 64}}) == []


def test_snowflakes_are_converted_only_where_the_spec_wants_one():
    mentions = {"parse": [], "users": [1456074443980800018]}
    assert problems("POST", MESSAGES, {"content": "hi", "allowed_mentions": mentions}) == []
    not_a_snowflake = {"parse": [], "users": ["alice"]}
    assert problems("POST", MESSAGES, {"content": "hi", "allowed_mentions": not_a_snowflake})
    a_bool = {"parse": [], "users": [True]}
    assert problems("POST", MESSAGES, {"content": "hi", "allowed_mentions": a_bool})
    assert problems("POST", MESSAGES, {"content": 1456074443980800018})  # content is no snowflake


# -- the spec's own limits -----------------------------------------------------------------------------


def test_text_over_discords_limits_is_named_with_its_path():
    assert problems("POST", CALLBACK, reply(content="x" * 2_000)) == []
    [message] = problems("POST", CALLBACK, reply(content="x" * 2_001))
    assert message == "$.data.content: 2,001 characters; Discord allows at most 2,000"
    long_field = {"fields": [{"name": "Line", "value": "v" * 1_025}]}
    [message] = problems("POST", CALLBACK, reply(embeds=[long_field]))
    assert message.startswith("$.data.embeds[0].fields[0].value: 1,025 characters")
    assert problems("POST", MESSAGES, {"embeds": [{"title": "t"}] * 11})
    assert problems("POST", MESSAGES, {"embeds": [{"description": "d" * 4_097}]})


def test_a_callback_of_an_unknown_type_is_refused():
    [message] = problems("POST", CALLBACK, {"type": 44})
    assert "type 44 is not one of" in message


def test_autocomplete_choices_follow_discords_limits():
    choice = {"name": "🌹 Rose · 1 coin", "value": "Rose"}
    assert problems("POST", CALLBACK, {"type": 8, "data": {"choices": [choice] * 25}}) == []
    assert problems("POST", CALLBACK, {"type": 8, "data": {"choices": [choice] * 26}})
    assert problems("POST", CALLBACK, {"type": 8, "data": {"choices": [{"name": "n" * 101, "value": "v"}]}})
    [message] = problems(
        "POST", CALLBACK, {"type": 8, "data": {"choices": [{"name": "n", "value": "v" * 101}]}}
    )
    assert "101 characters" in message


# -- rules the spec leaves out -------------------------------------------------------------------------


def test_the_6000_character_total_counts_every_embed_of_a_message():
    half = {"description": "d" * 3_000, "fields": [{"name": "n", "value": "v"}]}
    [message] = problems("POST", MESSAGES, {"embeds": [half, half]})
    assert message == "embeds hold 6,004 characters; Discord allows 6,000 in one message"
    assert problems("POST", MESSAGES, {"embeds": [{"title": "t" * 250, "description": "d" * 4_000}]}) == []


def test_empty_messages_and_empty_fields_are_refused():
    assert "empty message" in problems("POST", CALLBACK, reply(content="  "))[0]
    assert "empty message" in problems("POST", FOLLOWUP, {"allowed_mentions": {"parse": []}})[0]
    assert problems("PATCH", f"{MESSAGES}/1", {"content": "", "embeds": [{"title": "t"}]}) == []
    [message] = problems("POST", MESSAGES, {"embeds": [{"fields": [{"name": "", "value": "v"}]}]})
    assert message == "$.embeds[0].fields[0].name is empty (Discord refuses it)"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (button(style=5, label="Docs", url="https://e.x", custom_id="x"), "a link button needs a url"),
        (button(style=5, label="Docs"), "a link button needs a url"),
        (button(label="Go"), "needs a custom_id and no url"),
        (button(label="Go", custom_id="x", url="https://e.x"), "needs a custom_id and no url"),
        (button(custom_id="x"), "needs a label or an emoji"),
        (button(style=6, sku_id=123, label="Buy"), "a premium button needs sku_id and no label"),
        (button(style=6), "a premium button needs sku_id"),
        (button(label="Go", custom_id="x", sku_id=123), "only a premium button"),
    ],
)
def test_button_cross_field_rules(item, expected):
    found = problems("POST", CALLBACK, reply(content="hi", components=[row(item)]))
    assert any(expected in message for message in found), found


def test_valid_buttons_of_every_style_pass():
    items = [
        button(label="A", custom_id="a"),
        button(style=4, emoji={"name": "🗑️"}, custom_id="b"),
        button(style=5, label="Docs", url="https://e.x"),
        button(style=6, sku_id=1456074443980800099),
    ]
    assert problems("POST", CALLBACK, reply(content="hi", components=[row(*items)])) == []


def test_rows_custom_ids_and_selects():
    six_rows = [row(button(label=str(n), custom_id=str(n))) for n in range(6)]
    assert any("6 rows" in m for m in problems("POST", MESSAGES, {"content": "x", "components": six_rows}))
    same_ids = [row(button(label="a", custom_id="x"), button(label="b", custom_id="x"))]
    assert any("repeat" in m for m in problems("POST", MESSAGES, {"content": "x", "components": same_ids}))
    long_id = [row(button(label="a", custom_id="x" * 101))]
    assert problems("POST", MESSAGES, {"content": "x", "components": long_id})
    options = [{"label": "One", "value": "1"}, {"label": "Two", "value": "2"}]
    menu = {"type": 3, "custom_id": "pick", "options": options}
    assert problems("POST", MESSAGES, {"content": "x", "components": [row(menu)]}) == []
    too_many = [row({**menu, "max_values": 3})]
    assert any(
        "max_values 3 > 2" in m for m in problems("POST", MESSAGES, {"content": "x", "components": too_many})
    )
    repeated = [row({**menu, "options": options + options[:1]})]
    assert any("repeat" in m for m in problems("POST", MESSAGES, {"content": "x", "components": repeated}))
    shared = [row(menu, button(label="b", custom_id="b"))]
    assert any("alone" in m for m in problems("POST", MESSAGES, {"content": "x", "components": shared}))
    labels = [row({**menu, "options": [{"label": "l" * 101, "value": "1"}]})]
    assert problems("POST", MESSAGES, {"content": "x", "components": labels})


# -- command registration ------------------------------------------------------------------------------


def _commands_as_sent() -> list[dict[str, Any]]:
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))

    @tree.command(name="gift", description="Send a gift to a creator; it costs coins.")
    async def gift(
        interaction: discord.Interaction, creator: discord.Member, gift: str, count: int = 1
    ) -> None:
        """Send a gift."""

    group = app_commands.Group(name="mod", description="Moderator tools.", guild_only=True)

    @group.command(name="grant", description="Give coins.")
    async def grant(
        interaction: discord.Interaction, member: discord.Member, reason: app_commands.Range[str, 1, 200]
    ) -> None:
        """Give coins."""

    tree.add_command(group)
    return [command.to_dict(tree) for command in tree.get_commands()]


def test_command_registration_as_discord_py_builds_it_is_valid():
    body = _commands_as_sent()
    assert problems("PUT", COMMANDS, body) == []
    assert (
        problems("PUT", "/applications/1456074443980800000/guilds/1456074443980800013/commands", body) == []
    )


def test_command_registration_rules():
    body = _commands_as_sent()
    body[0]["name"] = "Gift"
    body[1]["description"] = "d" * 101
    subcommand = body[1]["options"][0]
    subcommand["options"] = list(reversed(subcommand["options"]))  # required after optional
    subcommand["options"][0]["required"] = False
    found = problems("PUT", COMMANDS, body)
    assert any("/Gift: not a valid slash command name" in m for m in found), found
    assert any("101 characters" in m for m in found), found
    assert any("a required option follows an optional one" in m for m in found), found


# -- routes --------------------------------------------------------------------------------------------


def test_a_route_missing_from_the_spec_fails_loudly_unless_listed_with_a_reason():
    [message] = problems("POST", "/channels/1/made-up", {"content": "x"})
    assert message == "no operation in Discord's spec has this route"
    assert problems("GET", "/applications/1/skus", None) == []
    assert all(reason.strip() for _, _, reason in payloads.UNLISTED)
    assert len(payloads.UNLISTED) <= 3


def test_bodies_where_the_spec_takes_none_or_needs_one():
    assert problems("GET", f"{MESSAGES}/1", None) == []
    assert problems("DELETE", f"{MESSAGES}/1", {"content": "x"}) == ["delete_message takes no request body"]
    assert problems("POST", MESSAGES, None) == ["create_message needs a request body"]


def test_the_most_literal_route_wins():
    found = payloads.spec().operation("PATCH", f"{FOLLOWUP}/messages/@original")
    assert found is not None and found.operation_id == "update_original_webhook_message"
    found = payloads.spec().operation("PATCH", f"{FOLLOWUP}/messages/1456074443980800030")
    assert found is not None and found.operation_id == "update_webhook_message"


# -- without the spec ----------------------------------------------------------------------------------


def test_a_missing_spec_is_reported_with_a_reason(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere" / "openapi.json"
    monkeypatch.setenv(payloads.SPEC_ENV, str(missing))
    with pytest.raises(payloads.SpecMissing) as absent:
        payloads.spec()
    assert str(missing) in str(absent.value) and payloads.SPEC_ENV in str(absent.value)


def test_without_the_spec_spec_tests_skip_and_the_summary_says_why(tmp_path):
    env = {**os.environ, payloads.SPEC_ENV: str(tmp_path / "missing.json")}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-rs",
            "tests/test_payloads.py::test_the_most_literal_route_wins",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout
    assert "Discord's OpenAPI spec is not at" in run.stdout
    assert "discord payloads not validated:" in run.stdout


async def test_command_registration_is_checked_globally_and_for_a_dev_guild(simcord_env):
    """The bot syncs its commands when it starts (PUT of the whole tree); a dev guild sync sends the
    same tree to one guild. Both bodies are valid, and the suite-wide hook checks them in every test."""
    bot = simcord_env.bot
    synced = [entry for entry in simcord_env.http_requests if entry.method == "PUT"]
    assert [entry.path for entry in synced] == [f"/applications/{bot.application_id}/commands"]
    guild = simcord_env.create_guild("Dev")
    bot.tree.copy_global_to(guild=discord.Object(id=guild.id))
    await bot.tree.sync(guild=discord.Object(id=guild.id))
    synced = [entry for entry in simcord_env.http_requests if entry.method == "PUT"]
    assert synced[-1].path == f"/applications/{bot.application_id}/guilds/{guild.id}/commands"
    for entry in synced:
        assert {command["name"] for command in entry.json} >= {"gift", "mod", "config"}
        assert payloads.check(entry.method, entry.path, entry.json, tally=None) == []

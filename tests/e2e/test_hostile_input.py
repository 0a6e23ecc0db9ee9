"""Hostile input end to end: names at their maximum length, the longest text Discord lets through,
markdown, mention and @everyone injection, zero-width and right-to-left characters, custom emoji.

Whatever members and moderators type, the bot must not crash, ping anyone, or send Discord a body
it would refuse. tests/conftest.py checks every request body against Discord's OpenAPI spec after
each test (tests/payloads.py); these tests assert the rest: what people saw, who was pinged, and
that nothing changed when the input was refused.
"""

from __future__ import annotations

from typing import Any

import pytest
import simcord
from simcord import interactions as sim_interactions

from bot.economy.catalogue import MAX_GIFT_NAME
from bot.ui import format as fmt
from tests.sim import Community, buttons, command_payload, interaction_result, pings, unexpected_errors

NAME_MAX = 32
"""Discord's limit for usernames, global (display) names and server nicknames."""
DISCORD_STRING_MAX = 6_000
"""The longest string option value Discord delivers."""
LONG = 2_000

MARKDOWN = "**__~~`||# > [x](https://e.x)||`~~__**"
EVERYONE = "@everyone @here"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
RTL = "\u202e\u2067\u200f"


def sized(text: str, size: int) -> str:
    """`text` repeated or cut to exactly `size` characters."""
    return (text * (size // max(len(text), 1) + 1))[:size]


def hostile_names(world: Community) -> dict[str, str]:
    """32-character names, each a different attack."""
    return {
        "markdown": sized(MARKDOWN, NAME_MAX),
        "everyone": sized(EVERYONE + " ", NAME_MAX),
        "mentions": sized(f"<@{world.mod.id}><@&{world.admins.id}>", NAME_MAX),
        "invisible": sized("a" + ZERO_WIDTH, NAME_MAX),
        "rtl": sized(RTL + "evil", NAME_MAX),
        "custom emoji": sized("<:smile:123456789012345678>", NAME_MAX),
    }


def add_hostile_member(
    world: Community, username: str, display_name: str, *, nick: bool = True
) -> simcord.MemberActor:
    """A member with a 32-character username whose global name (and server nickname, unless
    `nick=False`) is `display_name`."""
    user = world.env.create_user(sized(username, NAME_MAX), global_name=display_name)
    return world.guild.add_member(user, nick=display_name if nick else None)


def everything_visible(world: Community, result: simcord.InteractionResult) -> str:
    """All the text of a reply and its follow-ups, as one string."""
    parts: list[str] = []
    for message in [result.response, *result.followups]:
        parts.append(message.content or "")
        for embed in message.embeds:
            parts += [embed.title or "", embed.description or "", embed.footer.text or ""]
            parts += [f"{field.name}\n{field.value}" for field in embed.fields]
    return "\n".join(parts)


def assert_inert(text: str) -> None:
    """No live @everyone/@here, no unescaped markdown from the hostile strings above, and no
    right-to-left override left to reverse the bot's own words."""
    assert "@everyone" not in text and "@here" not in text
    assert "||#" not in text and "~~`" not in text and "](" not in text.replace("\\](", "")
    assert not set(text) & set(RTL.replace("\u200f", "")), "a bidi control reached the screen"


def assert_quiet(world: Community, *results: simcord.InteractionResult) -> None:
    for result in results:
        for message in [result.response, *result.followups]:
            if message is not None and not message.ephemeral:
                assert pings(world.env, message).nobody, message
    assert not unexpected_errors(world.env), world.env.errors


def bypassing_length_limits(
    actor: simcord.MemberActor, channel: simcord.ChannelHandle, command: str, **options: Any
) -> dict[str, Any]:
    """The interaction a client ignoring the options' min/max_length would send. Discord itself
    refuses such values, so this proves the bot holds its own limits (defence in depth)."""
    return command_payload(actor, channel, command, options, ignore_length_limits=True)


async def slash_unchecked(
    actor: simcord.MemberActor, channel: simcord.ChannelHandle, command: str, **options: Any
) -> simcord.InteractionResult:
    env = actor._env
    payload = bypassing_length_limits(actor, channel, command, **options)
    env.backend.emit("INTERACTION_CREATE", payload)
    await env.settle()
    return interaction_result(env, int(payload["id"]))


def sim_command_options(world: Community, command: str) -> set[str]:
    """The option names of a (sub)command as registered."""
    parts = command.split()
    for scope in world.env.backend.commands.values():
        for (name, _), root in scope.items():
            if name == parts[0]:
                leaf, _ = sim_interactions.walk_to_subcommand(root, parts[1:])
                return {option["name"] for option in leaf.get("options", [])}
    raise LookupError(command)


def refusal(result: simcord.InteractionResult) -> str:
    assert result.ephemeral, "a refusal is private"
    embed = result.response.embeds[0]
    assert embed.colour is not None
    return embed.description or ""


@pytest.fixture
async def world(simcord_env) -> Community:
    world = Community.build(simcord_env)
    await world.make_creators()
    return world


# -- names at their maximum length -----------------------------------------------------------------


async def test_hostile_display_names_are_escaped_everywhere_and_ping_nobody(world):
    names = hostile_names(world)
    senders = {
        kind: add_hostile_member(world, f"sender{index}_", name, nick=index % 2 == 0)
        for index, (kind, name) in enumerate(names.items())
    }
    creator = add_hostile_member(world, "creator_", names["markdown"])
    await world.make_creators(creator)
    results = []
    for sender in senders.values():
        await world.grant(sender, 500)
        results.append(await sender.slash(world.channel, "gift", creator=creator, gift="Rose", count=3))
    for result in results:
        assert not result.ephemeral
        embed = result.response.embeds[0]
        assert embed.fields[0].name == f"💬 {fmt.safe(names['markdown'])}"
        assert_inert(everything_visible(world, result))

    board = await world.alice.slash(world.channel, "leaderboard")
    supporters = await world.alice.slash(world.channel, "leaderboard", creator=creator)
    stats = await creator.slash(world.channel, "creator stats")
    granted = await world.mod.slash(
        world.channel, "mod grant", member=senders["everyone"], coins=5, reason=sized(EVERYONE, 200)
    )
    creators = await world.mod.slash(world.channel, "mod creator list")
    history = await senders["markdown"].slash(world.channel, "history")
    for result in (board, supporters, stats, granted, creators, history):
        assert_inert(everything_visible(world, result))
    board_text = everything_visible(world, board)
    for name in names.values():
        assert fmt.safe(name) in board_text
    assert fmt.safe(names["markdown"]) in everything_visible(world, supporters)
    assert_quiet(world, *results, board, supporters, stats, granted, creators, history)
    await world.assert_books_balance()


async def test_an_announcement_pings_exactly_its_gifters_whatever_their_names_say(world):
    names = hostile_names(world)
    mentioner = add_hostile_member(world, "mentioner_", names["mentions"])
    shouter = add_hostile_member(world, "shouter_", names["everyone"])
    creator = add_hostile_member(world, "announcer_", names["markdown"])
    await world.make_creators(creator)
    for member in (mentioner, shouter):
        await world.grant(member, 100)
        await member.slash(world.channel, "gift", creator=creator, gift="Rose", count=2)
    result = await creator.slash(world.channel, "creator announce")
    assert result.ephemeral
    posted = world.channel.last_message
    assert posted is not None and posted.attachments
    shown = pings(world.env, posted)
    assert shown.users == {mentioner.id, shouter.id}
    assert not shown.roles and not shown.everyone
    embed = posted.embeds[0]
    assert_inert("\n".join([posted.content, embed.title or "", embed.description or ""]))
    assert fmt.safe(names["markdown"]) in posted.content
    assert not unexpected_errors(world.env)


async def test_gift_names_at_the_catalogue_maximum_with_custom_emoji(world):
    assert MAX_GIFT_NAME == NAME_MAX
    names = [sized(MARKDOWN, MAX_GIFT_NAME), sized(EVERYONE + "!", MAX_GIFT_NAME), sized(RTL + "Gift", 32)]
    emoji = ["<:smile:123456789012345678>", "<a:dance:223456789012345678>", "🌹"]
    for index, (name, icon) in enumerate(zip(names, emoji, strict=True)):
        added = await world.mod.slash(
            world.channel, "mod catalogue add", name=name, emoji=icon, price=10 + index, comboable=True
        )
        assert added.ephemeral and fmt.safe(name) in added.response.embeds[0].description
    await world.grant(world.alice, 1_000)

    catalogue = await world.alice.slash(world.channel, "gifts")
    pages = [everything_visible(world, catalogue)]  # the buttons edit this one message
    while not buttons(catalogue.response).get("Next ▶", {"disabled": True}).get("disabled"):
        pages.append(everything_visible(world, await world.alice.click(catalogue.response, label="Next ▶")))
    shown = "\n".join(pages)
    for name in names:
        assert fmt.safe(name) in shown
    choices = await world.alice.autocomplete(world.channel, "gift", "gift", "", creator=world.carol)
    assert all(len(choice["name"]) <= 100 for choice in choices)
    for name, icon in zip(names, emoji, strict=True):
        typed = name[:10]
        offered = await world.alice.autocomplete(world.channel, "gift", "gift", typed, creator=world.carol)
        assert name in [choice["value"] for choice in offered]
        sent = await world.alice.slash(world.channel, "gift", creator=world.carol, gift=name, count=2)
        assert not sent.ephemeral
        title = sent.response.embeds[0].title
        assert title == f"{icon} {fmt.safe(name)} x2"
        assert_inert(everything_visible(world, sent))
        assert_quiet(world, sent)
    edited = await world.mod.autocomplete(world.channel, "mod catalogue edit", "name", names[0][:5])
    assert names[0] in [choice["value"] for choice in edited]
    disabled = await world.mod.slash(world.channel, "mod catalogue disable", name=names[1])
    history = await world.alice.slash(world.channel, "history")
    assert_inert(everything_visible(world, disabled) + everything_visible(world, history))
    assert await world.coins(world.alice) == 1_000 - 2 * (10 + 11 + 12)
    await world.assert_books_balance()


async def test_an_emoji_that_is_really_markup_is_refused(world):
    for icon in ("@everyone", f"<@&{world.admins.id}>", "**x**", "||x||", "x" * 64, "\u202eab"):
        result = await world.mod.slash(world.channel, "mod catalogue add", name="Trap", emoji=icon, price=5)
        assert "emoji" in refusal(result).lower()
    assert "Trap" not in [gift.name for gift in await world.bot.economy.catalogue(world.guild.id)]


# -- the longest text Discord lets through ----------------------------------------------------------


@pytest.mark.parametrize("size", [LONG, DISCORD_STRING_MAX])
async def test_a_gift_name_of_any_length_is_refused_privately_and_briefly(world, size):
    await world.grant(world.alice, 100)
    typed = sized(EVERYONE + " " + MARKDOWN + ZERO_WIDTH, size)
    choices = await world.alice.autocomplete(world.channel, "gift", "gift", typed, creator=world.carol)
    assert choices == []
    result = await world.alice.slash(world.channel, "gift", creator=world.carol, gift=typed)
    shown = refusal(result)
    assert "no gift called" in shown and len(shown) < 500
    assert_inert(shown)
    assert await world.coins(world.alice) == 100
    assert_quiet(world, result)


@pytest.mark.parametrize("size", [LONG, DISCORD_STRING_MAX])
async def test_a_thank_you_line_of_any_length_is_refused_and_changes_nothing(world, size):
    result = await world.carol.slash(world.channel, "creator thanks", template=sized("{sender} ", size))
    assert "characters" in refusal(result)
    assert_inert(refusal(result))
    current = await world.carol.slash(world.channel, "creator thanks")
    assert current.response.embeds[0].title == "Your thank-you line"
    assert_quiet(world, result, current)


async def test_the_longest_thank_you_line_renders_within_discords_limits(world):
    bob = add_hostile_member(world, "bob_", sized(MARKDOWN, NAME_MAX))
    line = sized("{sender}" + EVERYONE + MARKDOWN, 200)
    saved = await world.carol.slash(world.channel, "creator thanks", template=line)
    assert saved.response.embeds[0].title == "Thank-you line saved"
    await world.grant(bob, 10)
    sent = await bob.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    field = sent.response.embeds[0].fields[0]
    assert 0 < len(field.value) <= 1024
    assert_inert(everything_visible(world, saved) + everything_visible(world, sent))
    assert_quiet(world, saved, sent)


async def test_a_catalogue_name_of_any_length_is_refused(world):
    typed = sized(MARKDOWN + EVERYONE, DISCORD_STRING_MAX)
    for command in ("mod catalogue edit", "mod catalogue disable", "mod catalogue enable"):
        extra = {"price": 3} if command.endswith("edit") else {}
        result = await world.mod.slash(world.channel, command, name=typed, **extra)
        shown = refusal(result)
        assert len(shown) < 500
        assert_inert(shown)
    offered = await world.mod.autocomplete(world.channel, "mod catalogue edit", "name", typed)
    assert offered == []
    assert not unexpected_errors(world.env)


LIMITED = [
    ("mod grant", "reason", {"coins": 5}),
    ("mod revoke", "reason", {"coins": 5}),
    ("mod catalogue add", "name", {"emoji": "🌹", "price": 5}),
    ("mod catalogue add", "emoji", {"name": "Long", "price": 5}),
    ("config set", "value", {"setting": "timezone"}),
    ("config set", "value", {"setting": "default_budget"}),
    ("budget timezone", "name", {}),
    ("budget reminders", "thresholds", {}),
    ("budget lowbalance", "coins", {}),
]


@pytest.mark.parametrize(("command", "option", "others"), LIMITED)
async def test_text_past_an_options_limit_is_refused_by_discord_and_by_the_bot(
    world, command, option, others
):
    """Discord (and SimCord) refuse a value over the option's max_length; a client that sends one
    anyway gets a short private refusal from the bot, and nothing changes."""
    actor = world.mod
    if "member" in sim_command_options(world, command):
        others = {**others, "member": world.alice}
    typed = sized(EVERYONE + " " + MARKDOWN + RTL, LONG)
    with pytest.raises(simcord.SetupError):
        await actor.slash(world.channel, command, **{option: typed}, **others)
    before = await world.coins(world.alice)
    result = await slash_unchecked(actor, world.channel, command, **{option: typed}, **others)
    shown = refusal(result)
    assert len(shown) < 500
    assert_inert(shown)
    assert await world.coins(world.alice) == before
    assert_quiet(world, result)
    await world.assert_books_balance()


async def test_a_long_timezone_typed_into_autocomplete_offers_nothing(world):
    offered = await world.alice.autocomplete(world.channel, "budget timezone", "name", sized("Europe/", 100))
    assert offered == []
    assert not unexpected_errors(world.env)


# -- what the bot itself writes ---------------------------------------------------------------------


async def test_refusals_quoting_member_text_stay_short_and_inert(world):
    """An error quoting what was typed (a timezone, a setting) neither grows past Discord's limits
    nor renders the text as markdown or mentions."""
    typed = sized(EVERYONE + MARKDOWN, 64)
    zone = await world.alice.slash(world.channel, "budget timezone", name=typed)
    assert_inert(refusal(zone))
    setting = await world.mod.slash(world.channel, "config set", setting="timezone", value=sized(typed, 100))
    assert_inert(refusal(setting))
    assert_quiet(world, zone, setting)

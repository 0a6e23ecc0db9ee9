"""/creator end to end: thank-you lines, private stats, and public announcements that ping exactly
the gifters they list."""

from __future__ import annotations

import io
import itertools

import discord
import simcord
from PIL import Image

from bot.cards import WIDTH, card_height
from bot.economy.service import Party
from bot.economy.thanks import DEFAULT_TEMPLATE
from tests.sim import Community, pings

DAY = 24 * 3600
_keys = itertools.count(1)


def display(member: simcord.MemberActor) -> str:
    """The name Discord shows (what the bot stores at gift time)."""
    return member.user.global_name or member.name


async def gift(
    world: Community,
    sender: simcord.MemberActor,
    creator: simcord.MemberActor,
    count: int,
    name: str = "Rose",
) -> None:
    """A gift straight through the service (the /gift command has its own tests), at the virtual now."""
    economy = world.bot.economy
    item = await economy.find_gift(world.guild.id, name)
    await economy.send_gift(
        world.guild.id,
        Party(sender.id, display(sender)),
        Party(creator.id, display(creator)),
        item,
        count,
        key=f"test-gift:{next(_keys)}",
    )


def refusal(result: simcord.InteractionResult) -> str:
    assert result.ephemeral
    return result.response.embeds[0].description


def bot_posts(world: Community, channel: simcord.ChannelHandle | None = None) -> list[discord.Message]:
    """The bot's public messages in a channel (ephemeral replies left out)."""
    me = world.bot.user
    assert me is not None
    return [m for m in (channel or world.channel).history(viewer=world.mod) if m.author.id == me.id]


# -- /creator thanks -------------------------------------------------------------------------------


async def test_a_valid_thank_you_line_is_saved_and_previewed(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    line = "Merci {sender}! {count} × {gift} = {coins} coins 💖"

    result = await world.carol.slash(world.channel, "creator thanks", template=line)

    assert result.ephemeral
    embed = result.response.embeds[0]
    assert embed.title == "Thank-you line saved"
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Preview"] == "Merci Sam! 5 × Rose = 5 coins 💖"
    assert await world.bot.economy.thanks_template(world.guild.id, world.carol.id) == line
    assert bot_posts(world) == []

    # Used: the next gift's public acknowledgement carries the creator's line.
    await world.grant(world.alice, 10)
    ack = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=3)
    assert not ack.ephemeral
    values = [field.value for embed in ack.response.embeds for field in embed.fields]
    assert "Merci Alice! 3 × Rose = 3 coins 💖" in values

    shown = await world.carol.slash(world.channel, "creator thanks")
    assert shown.response.embeds[0].title == "Your thank-you line"
    assert {f.name: f.value for f in shown.response.embeds[0].fields}["Preview"] == fields["Preview"]

    reset = await world.carol.slash(world.channel, "creator thanks", reset=True)
    assert reset.response.embeds[0].title == "Back to the default thank-you line"
    assert await world.bot.economy.thanks_template(world.guild.id, world.carol.id) == DEFAULT_TEMPLATE


async def test_the_preview_escapes_markdown_and_mentions_in_the_line(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    result = await world.carol.slash(world.channel, "creator thanks", template="@everyone **{sender}**")
    preview = {f.name: f.value for f in result.response.embeds[0].fields}["Preview"]
    assert "@everyone" not in preview and "**" not in preview
    assert pings(simcord_env, result.response).nobody


async def test_bad_thank_you_lines_are_refused_with_the_reason_and_change_nothing(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    cases = {
        "x" * 201: "200 characters",
        "Thanks {name}!": "{name} is not a placeholder",
        "Thanks {sender!r}": "is not a placeholder",
        "Thanks {sender": "unmatched brace",
        "   ": "empty",
    }
    for template, reason in cases.items():
        result = await world.carol.slash(world.channel, "creator thanks", template=template)
        assert reason in refusal(result), (template, refusal(result))
    both = await world.carol.slash(world.channel, "creator thanks", template="Hi {sender}", reset=True)
    assert "not both" in refusal(both)
    assert await world.bot.economy.thanks_template(world.guild.id, world.carol.id) == DEFAULT_TEMPLATE


async def test_members_who_are_not_creators_are_refused_every_creator_tool(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await gift(world, world.alice, world.carol, 10)
    for name, options in (
        ("creator thanks", {"template": "Hi {sender}"}),
        ("creator stats", {}),
        ("creator announce", {}),
        ("creator autoannounce", {"period": "week"}),
    ):
        result = await world.alice.slash(world.channel, name, **options)
        assert refusal(result).startswith("Only creators can use /creator"), name
    assert await world.bot.storage.thanks_template(guild_id=world.guild.id, creator_id=world.alice.id) is None
    assert await world.bot.storage.announcement_schedules() == []
    assert bot_posts(world) == []


# -- /creator stats --------------------------------------------------------------------------------


def stat_fields(result: simcord.InteractionResult) -> dict[str, str]:
    assert result.ephemeral
    return {field.name: field.value for field in result.response.embeds[0].fields}


async def test_stats_for_a_period_and_for_all_time(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    for member in (world.alice, world.bob, world.mod):
        await world.grant(member, 5_000)
    # Thursday 1 January (week 1).
    await gift(world, world.alice, world.carol, 30)  # alice 30
    await gift(world, world.bob, world.carol, 1, "Money Gun")  # bob 500: the best gift
    await gift(world, world.mod, world.dave, 1, "Galaxy")  # to dave: not carol's
    await simcord_env.advance_time(4 * DAY)  # Monday 5 January: week 2
    await gift(world, world.alice, world.carol, 1, "Corgi")  # alice 299 this week
    await gift(world, world.alice, world.carol, 20)  # alice 319 this week, 349 in all

    week = stat_fields(await world.carol.slash(world.channel, "creator stats"))
    assert week["Coins received"] == "🪙 319"
    assert week["Diamonds earned"] == "💎 159"  # floor(299 / 2) + floor(20 / 2)
    assert (week["Gifts"], week["Gifters"]) == ("2", "1")
    assert week["Top supporters"] == "`#1` Alice · 🪙 319"
    assert week["Best gift"] == "🐕 Corgi ×1 · 🪙 299 from **Alice**"

    all_time = stat_fields(await world.carol.slash(world.channel, "creator stats", period="all"))
    assert all_time["Coins received"] == "🪙 849"
    assert all_time["Diamonds earned"] == "💎 424"  # 15 + 250 + 149 + 10
    assert (all_time["Gifts"], all_time["Gifters"]) == ("4", "2")
    assert all_time["Top supporters"].splitlines() == ["`#1` Bob · 🪙 500", "`#2` Alice · 🪙 349"]
    assert all_time["Best gift"] == "💸 Money Gun ×1 · 🪙 500 from **Bob**"

    empty = stat_fields(await world.dave.slash(world.channel, "creator stats", period="day"))
    assert (empty["Coins received"], empty["Gifters"], empty["Best gift"]) == ("🪙 0", "0", "No gifts yet.")
    assert bot_posts(world) == []


async def test_stats_keep_a_private_supporters_name_out_of_the_best_gift(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 1_000)
    await gift(world, world.alice, world.carol, 1, "Money Gun")
    await world.bot.economy.set_privacy(world.guild.id, Party(world.alice.id, "Alice"), hidden=True)
    fields = stat_fields(await world.carol.slash(world.channel, "creator stats"))
    assert fields["Gifters"] == "1"
    assert "Alice" not in fields["Best gift"] and "private" in fields["Best gift"]
    assert fields["Top supporters"] == "Nobody yet."


# -- /creator announce -----------------------------------------------------------------------------


async def test_an_announcement_pings_exactly_the_listed_visible_gifters(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    guild, env = world.guild, simcord_env
    eve = guild.add_member(env.create_user("eve", global_name="@everyone @here"))
    mallory = guild.add_member(env.create_user("mallory", global_name=f"<@{world.mod.id}> **bold**"))
    trent = guild.add_member(env.create_user("trent", global_name=f"<@&{world.admins.id}> _x_"))
    shy = guild.add_member(env.create_user("shy", global_name="Shy"))
    for index, member in enumerate((eve, mallory, trent, shy, world.bob)):
        await world.grant(member, 1_000)
        await gift(world, member, world.carol, 100 - index)
    await world.bot.economy.set_privacy(guild.id, Party(shy.id, "Shy"), hidden=True)

    result = await world.carol.slash(world.channel, "creator announce", top=3)

    assert result.ephemeral
    assert "Posted your top 3 gifters this week" in result.response.embeds[0].description
    (message,) = bot_posts(world)
    assert pings(env, message).users == {eve.id, mallory.id, trent.id}
    assert not pings(env, message).roles and not pings(env, message).everyone
    embed = message.embeds[0]
    assert embed.title == "🏆 Top gifters this week"
    lines = embed.description.split("\n\n", 1)[1].splitlines()
    assert [line.split(" · ")[-1] for line in lines] == ["🪙 100", "🪙 99", "🪙 98"]
    for text in (message.content, embed.description):
        assert "@everyone" not in text and "@here" not in text
        assert f"<@{world.mod.id}>" not in text and f"<@&{world.admins.id}>" not in text
        assert "**bold**" not in text
    assert f"<@{shy.id}>" not in message.content and "Shy" not in embed.description
    assert f"<@{world.bob.id}>" not in message.content  # fifth: not listed, not pinged

    (attachment,) = message.attachments
    image = Image.open(io.BytesIO(await attachment.read()))
    assert image.format == "PNG"
    assert image.size == (WIDTH, card_height(3))
    assert embed.image.url == f"attachment://{attachment.filename}"


async def test_an_announcement_in_another_channel_for_all_time(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    stage = world.guild.create_text_channel("stage")
    await world.grant(world.alice, 100)
    await gift(world, world.alice, world.carol, 7)
    await simcord_env.advance_time(40 * DAY)  # a new week and month: only "all time" still has it

    quiet = await world.carol.slash(world.channel, "creator announce", period="month")
    assert "Nobody has sent you gifts this month" in refusal(quiet)

    result = await world.carol.slash(world.channel, "creator announce", period="all", channel=stage)
    assert result.ephemeral
    assert bot_posts(world) == []
    (message,) = bot_posts(world, stage)
    assert message.embeds[0].title == "🏆 Top gifters of all time"
    assert pings(simcord_env, message).users == {world.alice.id}
    image = Image.open(io.BytesIO(await message.attachments[0].read()))
    assert image.size == (WIDTH, card_height(1))


async def test_nobody_to_thank_is_refused_politely(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    result = await world.carol.slash(world.channel, "creator announce")
    assert "Nobody has sent you gifts this week" in refusal(result)
    assert bot_posts(world) == []


async def test_a_channel_the_bot_cannot_post_cards_in_is_refused_with_what_is_missing(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await gift(world, world.alice, world.carol, 5)
    me = world.guild.me
    assert me is not None
    no_files = world.guild.create_text_channel(
        "no-files", overwrites={me: discord.PermissionOverwrite(attach_files=False, embed_links=False)}
    )
    result = await world.carol.slash(world.channel, "creator announce", channel=no_files)
    message = refusal(result)
    assert f"I can't post announcements in <#{no_files.id}>" in message
    assert "Embed Links" in message and "Attach Files" in message and "Send Messages" not in message
    assert bot_posts(world, no_files) == []

    mute = world.guild.create_text_channel(
        "mute", overwrites={me: discord.PermissionOverwrite(send_messages=False)}
    )
    assert "Send Messages" in refusal(
        await world.carol.slash(world.channel, "creator announce", channel=mute)
    )
    assert bot_posts(world, mute) == []


async def test_a_creator_cannot_announce_where_they_cannot_post(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await gift(world, world.alice, world.carol, 5)
    staff = world.guild.create_text_channel(
        "staff", overwrites={world.guild.default_role: discord.PermissionOverwrite(send_messages=False)}
    )
    result = await world.carol.slash(world.channel, "creator announce", channel=staff)
    assert "channel you can post in yourself" in refusal(result)
    assert bot_posts(world, staff) == []


async def test_announcements_are_spaced_out_because_they_ping(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100)
    await gift(world, world.alice, world.carol, 5)
    await world.carol.slash(world.channel, "creator announce")
    again = await world.carol.slash(world.channel, "creator announce")
    assert "a moment ago" in refusal(again)
    assert len(bot_posts(world)) == 1
    await simcord_env.advance_time(5 * 60)
    await world.carol.slash(world.channel, "creator announce")
    assert len(bot_posts(world)) == 2

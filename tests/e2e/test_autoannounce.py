"""/creator autoannounce end to end: one post per closed period as the virtual clock passes its
boundaries, never two (restarts, a crash between posting and recording), none missed (the bot was
down at the boundary), and `off` stops it.

SimCord's clock starts on Thursday 1 January 2026, 00:00 UTC; the first week ends on Monday 5
January, 00:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import simcord

from bot.app import create_bot
from bot.economy.clock import to_millis
from tests.e2e.test_creator import bot_posts, gift, refusal
from tests.sim import Community, pings, requests

MINUTE, HOUR, DAY = 60, 3600, 24 * 3600
TO_FIRST_MONDAY = 4 * DAY


def announcements(world: Community, channel: simcord.ChannelHandle | None = None) -> list[discord.Message]:
    return [
        m for m in bot_posts(world, channel) if m.embeds and "Top gifters of the" in (m.embeds[0].title or "")
    ]


async def schedule(world: Community, creator: simcord.MemberActor, **options) -> simcord.InteractionResult:
    result = await creator.slash(world.channel, "creator autoannounce", **{"period": "week", **options})
    assert result.ephemeral
    return result


async def restart(env: simcord.Env, settings) -> None:
    """A clean restart on the same database."""
    await env.bot.storage.close()
    await env.restart_bot(create_bot(settings))


def loop_of(world: Community):
    # Not an isinstance check: discord.py loads each extension as a fresh module object.
    cog = world.bot.get_cog("CreatorTools")
    assert cog is not None
    return cog.announce_loop


async def outbox(world: Community):
    return await world.bot.storage.db.read(
        lambda conn: conn.execute(
            "SELECT dedupe_key, attempts, sent_at IS NOT NULL, message_id, last_error FROM outbox "
            "WHERE kind = 'announcement' ORDER BY id"
        ).fetchall()
    )


async def test_one_announcement_per_closed_week_as_the_clock_passes_the_boundaries(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    for member in (world.alice, world.bob):
        await world.grant(member, 1_000)

    result = await schedule(world, world.carol)
    assert result.response.embeds[0].title == "Automatic announcements on"
    assert announcements(world) == []

    fans = [world.alice, world.bob, world.alice]
    for week, fan in enumerate(fans, start=1):
        await gift(world, fan, world.carol, 10 * week)
        await simcord_env.advance_time((TO_FIRST_MONDAY if week == 1 else 7 * DAY) + MINUTE)
        posted = announcements(world)
        assert len(posted) == week
        latest = posted[-1]
        assert latest.embeds[0].title == "🏆 Top gifters of the week"
        assert pings(simcord_env, latest).users == {fan.id}
        assert f"`#1` {fan.user.global_name} · 🪙 {10 * week}" in latest.embeds[0].description
        assert latest.created_at.weekday() == 0  # posted on the Monday the week closed
        await simcord_env.advance_time(HOUR)  # later passes that day post nothing more
        assert len(announcements(world)) == week

    # A week without gifts is owed nothing to post, and gets nothing.
    await simcord_env.advance_time(7 * DAY)
    assert len(announcements(world)) == 3
    rows = await outbox(world)
    assert len(rows) == 4 and all(sent for _, _, sent, _, _ in rows)
    assert [message_id for *_, message_id, _ in rows[:3]] == [m.id for m in announcements(world)]
    assert rows[3][3] is None
    assert len(requests(simcord_env, "POST", f"/channels/{world.channel.id}/messages")) == 3


async def test_the_announcement_covers_the_closed_week_in_the_servers_timezone(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.bot.economy.set_config(world.guild.id, "timezone", "Asia/Tokyo", actor_id=world.mod.id)
    await world.grant(world.alice, 1_000)
    await schedule(world, world.carol, top=1)
    await gift(world, world.alice, world.carol, 5)  # Thursday 09:00 in Tokyo
    # The Tokyo week (from Monday 29 December, 00:00 JST) ends on Sunday 4 January, 15:00 UTC.
    await simcord_env.advance_time(3 * DAY + 15 * HOUR - MINUTE)
    assert announcements(world) == []
    await simcord_env.advance_time(2 * MINUTE)
    (message,) = announcements(world)
    week_start = datetime(2025, 12, 28, 15, tzinfo=UTC)
    assert f"<t:{int(week_start.timestamp())}:D>" in message.embeds[0].description
    ((key, *_),) = await outbox(world)
    assert key == f"announce:{world.guild.id}:{world.carol.id}:week:{to_millis(week_start)}"


async def test_a_restart_does_not_post_the_same_announcement_again(simcord_env, settings):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 1_000)
    await schedule(world, world.carol)
    await gift(world, world.alice, world.carol, 5)
    await simcord_env.advance_time(TO_FIRST_MONDAY + MINUTE)
    assert len(announcements(world)) == 1

    await restart(simcord_env, settings)
    await simcord_env.advance_time(HOUR)
    await restart(simcord_env, settings)
    await simcord_env.advance_time(HOUR)
    assert len(announcements(world)) == 1
    assert len(requests(simcord_env, "POST", f"/channels/{world.channel.id}/messages")) == 1


async def test_a_crash_between_posting_and_recording_does_not_post_twice(simcord_env, settings):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 1_000)
    await schedule(world, world.carol)
    await gift(world, world.alice, world.carol, 5)

    storage = world.bot.storage
    real_mark = storage.mark_outbox_sent

    async def crash_once(**kwargs):
        storage.mark_outbox_sent = real_mark  # type: ignore[method-assign]
        raise RuntimeError("the process died right after Discord accepted the message")

    storage.mark_outbox_sent = crash_once  # type: ignore[method-assign]
    await simcord_env.advance_time(TO_FIRST_MONDAY + 10)  # the boundary pass posts, then "crashes"
    (posted,) = announcements(world)
    ((_, attempts, sent, _, error),) = await outbox(world)
    assert (attempts, sent) == (1, False) and "process died" in error

    await restart(simcord_env, settings)  # before the old bot's retry fell due
    await simcord_env.advance_time(10 * MINUTE)

    assert [m.id for m in announcements(world)] == [posted.id]
    assert len(requests(simcord_env, "POST", f"/channels/{world.channel.id}/messages")) == 1
    ((_, attempts, sent, message_id, error),) = await outbox(world)
    assert (attempts, sent, message_id, error) == (2, True, posted.id, None)


async def test_an_announcement_owed_while_the_bot_was_down_is_posted_at_start_up(simcord_env, settings):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 1_000)
    await schedule(world, world.carol)
    await gift(world, world.alice, world.carol, 5)

    loop_of(world).cancel()  # the bot is "down" across the boundary
    await simcord_env.advance_time(TO_FIRST_MONDAY + 6 * HOUR)
    assert announcements(world) == []

    await restart(simcord_env, settings)

    (message,) = announcements(world)
    assert pings(simcord_env, message).users == {world.alice.id}
    assert message.created_at.hour == 6  # on start-up, not at the (missed) boundary
    await simcord_env.advance_time(DAY)
    assert len(announcements(world)) == 1


async def test_after_a_long_outage_each_missed_period_is_posted_once_oldest_first(simcord_env, settings):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 1_000)
    await schedule(world, world.carol, period="day")
    loop_of(world).cancel()
    for day in range(3):  # Thursday, Friday, Saturday
        await gift(world, world.alice, world.carol, day + 1)
        await simcord_env.advance_time(DAY)
    await restart(simcord_env, settings)
    posted = announcements(world)
    assert [m.embeds[0].title for m in posted] == ["🏆 Top gifters of the day"] * 3
    assert [m.embeds[0].description.rsplit("🪙 ", 1)[1] for m in posted] == ["1", "2", "3"]


async def test_off_stops_the_announcements(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 1_000)
    await schedule(world, world.carol)
    await gift(world, world.alice, world.carol, 5)

    stopped = await schedule(world, world.carol, off=True)
    assert stopped.response.embeds[0].description.startswith("Stopped")
    await simcord_env.advance_time(TO_FIRST_MONDAY + DAY)
    assert announcements(world) == []
    assert await outbox(world) == []
    again = await schedule(world, world.carol, off=True)
    assert "no automatic announcements after each week to stop" in again.response.embeds[0].description


async def test_a_removed_creators_schedule_sleeps(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 1_000)
    await schedule(world, world.carol)
    await gift(world, world.alice, world.carol, 5)
    await world.bot.storage.remove_creator(guild_id=world.guild.id, user_id=world.carol.id, name="Carol")
    await simcord_env.advance_time(TO_FIRST_MONDAY + MINUTE)
    assert announcements(world) == []


async def test_the_bot_must_be_able_to_read_the_channels_history(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    me = world.guild.me
    assert me is not None
    blind = world.guild.create_text_channel(
        "blind", overwrites={me: discord.PermissionOverwrite(read_message_history=False)}
    )
    result = await world.carol.slash(world.channel, "creator autoannounce", period="week", channel=blind)
    assert "Read Message History" in refusal(result)
    assert await world.bot.storage.announcement_schedules() == []


async def test_a_channel_gone_is_given_up_on_and_other_announcements_still_post(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    doomed = world.guild.create_text_channel("doomed")
    await world.grant(world.alice, 1_000)
    await schedule(world, world.carol, channel=doomed)
    await schedule(world, world.dave)
    await gift(world, world.alice, world.carol, 5)
    await gift(world, world.alice, world.dave, 5)
    simcord_env.backend.delete_channel(doomed.id)  # SimCord internals: a moderator deletes it

    await simcord_env.advance_time(TO_FIRST_MONDAY + HOUR)

    (message,) = announcements(world)
    assert "Dave" in message.content
    carol_row = next(row for row in await outbox(world) if f":{world.carol.id}:" in row[0])
    (given_up,) = await world.bot.storage.given_up_outbox()
    assert given_up.dedupe_key == carol_row[0] and given_up.attempts == 3
    assert "gone" in (given_up.last_error or "")
    await simcord_env.advance_time(DAY)
    assert (await world.bot.storage.outbox_by_key(dedupe_key=carol_row[0])).attempts == 3


async def test_a_failed_post_is_retried_and_posted_once(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 1_000)
    await schedule(world, world.carol)
    await gift(world, world.alice, world.carol, 5)
    simcord_env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=500, times=2)

    await simcord_env.advance_time(TO_FIRST_MONDAY + 30)
    assert announcements(world) == []
    ((_, attempts, sent, _, error),) = await outbox(world)
    assert (attempts, sent) == (1, False) and "500" in error

    await simcord_env.advance_time(10 * MINUTE)  # retries after 1, then 2 minutes
    (message,) = announcements(world)
    ((_, attempts, sent, message_id, error),) = await outbox(world)
    assert (attempts, sent, message_id, error) == (3, True, message.id, None)
    assert len(requests(simcord_env, "POST", f"/channels/{world.channel.id}/messages")) == 3


async def test_turning_announcements_on_after_a_quiet_day_runs_one_pass_not_a_burst(simcord_env):
    """A schedule change brings the next pass forward without replaying the missed ticks."""
    world = Community.build(simcord_env)
    await world.make_creators(world.carol)
    cog = world.bot.get_cog("CreatorTools")
    assert cog is not None
    passes = []
    original = cog.announcer.run_pass

    async def counted():
        passes.append(simcord_env.now())
        return await original()

    cog.announcer.run_pass = counted
    await simcord_env.advance_time(23 * 3600 + 50 * 60)  # no schedules: the loop sleeps long
    before = len(passes)
    await schedule(world, world.carol)
    await simcord_env.advance_time(5 * 60)
    assert 1 <= len(passes) - before <= 2, passes[before:]

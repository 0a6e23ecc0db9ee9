"""Spending reminders end to end: threshold DMs, the closed-DM fallback, the weekly digest and the
low-balance reminder.

One DM per threshold per period, even when racing gifts cross several at once; never repeated,
across restarts too; a crash between sending and recording sends it at most once more. When DMs
are closed (50007) the reminder rides, once, on the member's next command reply instead.

SimCord's clock starts on Thursday 1 January 2026, 00:00 UTC; that week ends on Monday 5 January.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import discord
import simcord

from bot.app import create_bot
from bot.reminders import HELD
from tests.e2e.test_budget import DAY, HOUR, MINUTE, budget, gift, ready, refused, sql, stamp
from tests.sim import Community, close_dms, race

TO_MONDAY = 4 * DAY


def dms(member: simcord.MemberActor) -> list[discord.Message]:
    """What the bot sent the member by DM, oldest first."""
    return list(member.user.dm_channel.history())


def dm_titles(member: simcord.MemberActor) -> list[str]:
    return [m.embeds[0].title or "" for m in dms(member)]


async def restart(env: simcord.Env, settings) -> None:
    """A clean restart on the same database."""
    await env.bot.storage.close()
    await env.restart_bot(create_bot(settings))


async def outbox(world: Community, kind: str = "budget_threshold") -> list[tuple]:
    return await sql(
        world,
        "SELECT dedupe_key, attempts, sent_at IS NOT NULL, last_error FROM outbox WHERE kind = ? ORDER BY id",
        kind,
    )


# -- thresholds ----------------------------------------------------------------------------------


async def test_racing_gifts_crossing_every_threshold_send_exactly_one_dm_each(simcord_env):
    world = await ready(simcord_env)
    await budget(world, world.alice, "set", limit=100, period="week", mode="soft")
    await race(simcord_env, world.alice, world.channel, "gift", 10, creator=world.carol, gift="Rosa")

    assert dm_titles(world.alice) == [
        "🔔 50% of your weekly budget used",
        "🔔 80% of your weekly budget used",
        "🔔 You've reached your weekly budget",
    ]
    first, _, last = dms(world.alice)
    assert "In **Live Room** you've spent 🪙 50 of your 🪙 100 limit per week." in first.embeds[0].description
    monday = datetime(2026, 1, 5, tzinfo=UTC)
    assert f"It resets {stamp(monday, 'F')} ({stamp(monday, 'R')})." in first.embeds[0].description
    assert "Your limit is soft, so gifts still go through" in last.embeds[0].description

    await simcord_env.advance_time(HOUR)  # later passes find nothing more to send
    await gift(world, world.alice, "Rosa")
    assert len(dms(world.alice)) == 3
    assert [sent for _, _, sent, _ in await outbox(world)] == [True, True, True]
    assert simcord_env.errors == []


async def test_a_hard_limit_reached_says_gifts_are_refused_until_it_resets(simcord_env):
    world = await ready(simcord_env)
    await budget(world, world.alice, "set", limit=20, period="day")
    await budget(world, world.alice, "reminders", thresholds="100")
    await gift(world, world.alice, "Rosa", 2)
    (dm,) = dms(world.alice)
    tomorrow = datetime(2026, 1, 2, tzinfo=UTC)
    assert dm.embeds[0].title == "🔔 You've reached your daily budget"
    assert f"refused until it resets {stamp(tomorrow, 'F')}" in dm.embeds[0].description


async def test_thresholds_fire_again_in_the_next_period_of_the_members_timezone(simcord_env):
    world = await ready(simcord_env)
    await budget(world, world.alice, "timezone", name="Asia/Tokyo")
    await budget(world, world.alice, "set", limit=20, period="day", mode="soft")
    await simcord_env.advance_time(14 * HOUR + 50 * MINUTE)  # 23:50 in Tokyo
    await gift(world, world.alice, "Rosa")
    await gift(world, world.alice, "Rosa")  # one gift crossing two thresholds: a DM for each
    assert dm_titles(world.alice) == [
        "🔔 50% of your daily budget used",
        "🔔 80% of your daily budget used",
        "🔔 You've reached your daily budget",
    ]
    await simcord_env.advance_time(10 * MINUTE)  # midnight in Tokyo: a new day, a new 50%
    await gift(world, world.alice, "Rosa")
    assert dm_titles(world.alice)[3:] == ["🔔 50% of your daily budget used"]


async def test_reminders_are_not_repeated_after_a_restart(simcord_env, settings):
    world = await ready(simcord_env)
    await budget(world, world.alice, "set", limit=100, period="week")
    await gift(world, world.alice, "Rosa", 5)
    assert len(dms(world.alice)) == 1

    await restart(simcord_env, settings)
    await simcord_env.advance_time(2 * HOUR)
    assert len(dms(world.alice)) == 1
    await gift(world, world.alice, "Rosa", 3)  # 80: the next threshold, once
    assert dm_titles(world.alice) == [
        "🔔 50% of your weekly budget used",
        "🔔 80% of your weekly budget used",
    ]


async def test_a_crash_between_sending_and_recording_sends_it_at_most_once_more(simcord_env, settings):
    world = await ready(simcord_env)
    await budget(world, world.alice, "set", limit=100, period="week")

    async def crash(**_kwargs) -> bool:
        raise RuntimeError("the process died here")

    world.bot.storage.mark_outbox_sent = crash  # type: ignore[method-assign]
    await gift(world, world.alice, "Rosa", 5)
    assert len(dms(world.alice)) == 1  # Discord accepted it; giftbot never recorded that

    await restart(simcord_env, settings)
    assert len(dms(world.alice)) == 2  # sent once more at start-up, then recorded
    ((_, attempts, sent, _),) = await outbox(world)
    assert sent and attempts == 2
    await simcord_env.advance_time(DAY)
    await budget(world, world.alice, "status")
    assert len(dms(world.alice)) == 2


async def test_a_failed_dm_is_retried_and_sent_once(simcord_env):
    world = await ready(simcord_env)
    await budget(world, world.alice, "set", limit=100, period="week")
    dm = world.alice.user.dm_channel
    simcord_env.inject_error("POST", f"/channels/{dm.id}/messages", status=500, times=1)
    await gift(world, world.alice, "Rosa", 5)
    assert dms(world.alice) == []
    ((_, attempts, sent, error),) = await outbox(world)
    assert (attempts, sent) == (1, False) and "500" in error
    await simcord_env.advance_time(2 * MINUTE)  # the retry, a minute later
    assert dm_titles(world.alice) == ["🔔 50% of your weekly budget used"]
    await simcord_env.advance_time(HOUR)
    assert len(dms(world.alice)) == 1


# -- closed DMs ------------------------------------------------------------------------------------


async def test_with_dms_closed_the_reminder_rides_once_on_the_next_command_reply(simcord_env):
    world = await ready(simcord_env)
    close_dms(simcord_env, world.alice)
    await budget(world, world.alice, "set", limit=100, period="week")
    sent = await gift(world, world.alice, "Rosa", 5)
    assert refused(sent) is None and sent.followups == []  # the note waits for the next command
    assert dms(world.alice) == []
    ((_, _, delivered, error),) = await outbox(world)
    assert not delivered and error.startswith(HELD) and "50007" in error

    balance = await world.alice.slash(world.channel, "balance")
    (note,) = balance.followups
    assert note.ephemeral
    assert note.content.startswith("📬 Reminders I couldn't send you by DM")
    assert note.embeds[0].title == "🔔 50% of your weekly budget used"
    assert [sent for _, _, sent, _ in await outbox(world)] == [1]

    again = await world.alice.slash(world.channel, "balance")
    assert again.followups == []
    # Another member's command never carries Alice's reminder.
    await world.grant(world.bob, 10)
    assert (await world.bob.slash(world.channel, "balance")).followups == []
    assert simcord_env.errors == []


async def test_held_reminders_survive_a_restart_and_only_ride_in_their_own_server(simcord_env, settings):
    world = await ready(simcord_env)
    close_dms(simcord_env, world.alice)
    other_guild = simcord_env.create_guild("Elsewhere")
    other_channel = other_guild.create_text_channel("chat")
    alice_elsewhere = other_guild.add_member(world.alice.user)
    await budget(world, world.alice, "set", limit=20, period="day")
    await gift(world, world.alice, "Rosa", 2)  # 50% and 100%, both held

    await restart(simcord_env, settings)
    elsewhere = await alice_elsewhere.slash(other_channel, "balance")
    assert elsewhere.followups == []
    home = await world.alice.slash(world.channel, "balance")
    (note,) = home.followups
    assert [e.title for e in note.embeds] == [
        "🔔 50% of your daily budget used",
        "🔔 80% of your daily budget used",
        "🔔 You've reached your daily budget",
    ]
    assert (await world.alice.slash(world.channel, "balance")).followups == []


# -- the weekly digest -------------------------------------------------------------------------------


async def test_the_weekly_digest_is_sent_once_per_week_with_the_top_creators(simcord_env, settings):
    world = await ready(simcord_env)
    await budget(world, world.alice, "digest", state="on")
    await gift(world, world.alice, "Doughnut")  # 30 to Carol
    await gift(world, world.alice, "Rosa", creator=world.dave)  # 10 to Dave
    await gift(world, world.alice, "Rosa")  # 10 more to Carol
    assert dms(world.alice) == []  # nothing until the week is over

    await simcord_env.advance_time(TO_MONDAY - MINUTE)
    assert dms(world.alice) == []
    await simcord_env.advance_time(2 * MINUTE)
    (digest,) = dms(world.alice)
    embed = digest.embeds[0]
    assert embed.title == "📊 Your week of gifts"
    week_start, week_end = (
        datetime(2025, 12, 29, tzinfo=UTC),
        datetime(2026, 1, 4, 23, 59, 59, 999999, tzinfo=UTC),
    )
    assert embed.description == (
        f"From {stamp(week_start, 'D')} to {stamp(week_end, 'D')} you sent 🪙 50 in gifts in **Live Room**, "
        "to 2 creators."
    )
    assert embed.fields[0].value == "1. **Carol** · 🪙 40\n2. **Dave** · 🪙 10"

    await simcord_env.advance_time(6 * HOUR)
    await restart(simcord_env, settings)
    await simcord_env.advance_time(HOUR)
    assert len(dms(world.alice)) == 1  # once per week, restarts included

    await simcord_env.advance_time(7 * DAY)  # a week without gifts sends nothing
    assert len(dms(world.alice)) == 1
    await gift(world, world.alice, "Rosa")
    await simcord_env.advance_time(7 * DAY)
    assert len(dms(world.alice)) == 2
    keys = [key for key, *_ in await outbox(world, "weekly_digest")]
    assert len(keys) == len(set(keys)) == 4  # the week before opting in, and three since


async def test_the_digest_follows_the_members_week_and_stops_when_turned_off(simcord_env):
    world = await ready(simcord_env)
    await budget(world, world.alice, "timezone", name="Asia/Tokyo")
    await budget(world, world.alice, "digest", state="on")
    await gift(world, world.alice, "Rosa")
    # The Tokyo week ends on Sunday 4 January at 15:00 UTC.
    await simcord_env.advance_time(3 * DAY + 15 * HOUR + MINUTE)
    assert len(dms(world.alice)) == 1
    await gift(world, world.alice, "Rosa")
    await budget(world, world.alice, "digest", state="off")
    await simcord_env.advance_time(7 * DAY)
    assert len(dms(world.alice)) == 1


# -- low balance ------------------------------------------------------------------------------------


async def test_the_low_balance_reminder_comes_once_per_crossing(simcord_env):
    world = await ready(simcord_env, coins=100)
    await budget(world, world.alice, "lowbalance", coins="50")
    await gift(world, world.alice, "Doughnut")  # 70
    assert dms(world.alice) == []
    await gift(world, world.alice, "Doughnut")  # 40: crossed
    await gift(world, world.alice, "Doughnut")  # 10: still below, nothing new
    (dm,) = dms(world.alice)
    assert dm.embeds[0].title == "🔔 Your coins are running low"
    assert "down to 🪙 40, below the 🪙 50 you asked to hear about" in dm.embeds[0].description

    await world.grant(world.alice, 100)  # 110: above again
    await gift(world, world.alice, "Doughnut")  # 80
    await gift(world, world.alice, "Doughnut")  # 50: not below
    assert len(dms(world.alice)) == 1
    await gift(world, world.alice, "Doughnut")  # 20: crossed again
    assert len(dms(world.alice)) == 2

    await budget(world, world.alice, "lowbalance", coins="off")
    await world.grant(world.alice, 100)
    await gift(world, world.alice, "Doughnut", 3)
    assert len(dms(world.alice)) == 2


# -- the sender loop -----------------------------------------------------------------------------------


async def test_a_command_after_a_quiet_spell_wakes_the_sender_without_a_burst_of_passes(simcord_env):
    world = await ready(simcord_env)
    cog = world.bot.get_cog("Budget")
    reminders = cog.reminders  # type: ignore[union-attr]
    passes: list[datetime] = []
    original = reminders.run_pass

    async def counted() -> datetime:
        passes.append(simcord_env.now())
        return await original()

    reminders.run_pass = counted
    await simcord_env.advance_time(DAY - 10 * MINUTE)  # asleep since start-up
    assert passes == []
    await world.alice.slash(world.channel, "balance")  # wakes it: look every 10 s for 2 minutes
    await simcord_env.advance_time(10 * MINUTE)
    assert 10 <= len(passes) <= 14
    assert len(set(passes)) == len(passes)  # never two passes at the same moment
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(passes)]
    assert min(gaps) >= 9

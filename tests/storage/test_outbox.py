"""The outbox: a message is decided once (dedupe key), retried with backoff, recorded as sent once.
Announcement schedules decide their rows only while on and while their creator is a creator."""

from __future__ import annotations

from datetime import timedelta

from bot.economy.clock import to_millis
from bot.economy.periods import Period
from storage.outbox_ops import NEVER, Decision
from tests.storage.books import CAROL, DAVE, GUILD, NOW, at, with_creators

CHANNEL = 555


async def enqueue(store, key: str, *, kind: str = "announcement", when=NOW, due=None, payload=None):
    return await store.enqueue_outbox(
        guild_id=GUILD,
        kind=kind,
        dedupe_key=key,
        payload=payload or {"n": 1},
        at=when,
        due=due,
        channel_id=CHANNEL,
        user_id=CAROL,
    )


def decision(bucket: int, *, creator: int = CAROL, period: str = "week") -> Decision:
    return Decision(
        guild_id=GUILD,
        creator_id=creator,
        period=period,
        bucket=bucket,
        channel_id=CHANNEL,
        top=3,
        start=bucket,
        end=bucket + 7 * 24 * 3600 * 1000,
    )


async def count_rows(store) -> int:
    return await store.db.read(lambda conn: conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


async def test_deciding_twice_under_one_key_keeps_the_first_row(store):
    first, created = await enqueue(store, "k1", payload={"top": 3})
    again, created_again = await enqueue(store, "k1", payload={"top": 9}, when=at(60))
    assert created and not created_again
    assert again == first
    assert again.payload == {"top": 3}
    assert (again.attempts, again.sent_at, again.message_id, again.last_error) == (0, None, None, None)
    assert again.due_at == to_millis(NOW)
    assert await count_rows(store) == 1


async def test_pending_lists_due_unsent_rows_oldest_first_and_of_the_kind_asked(store):
    await enqueue(store, "later", due=at(120))
    await enqueue(store, "tie-a", due=at(10))  # same due time: the earlier decision first
    await enqueue(store, "tie-b", due=at(10))
    await enqueue(store, "dm", kind="low_balance", due=at(0))
    sent, _ = await enqueue(store, "sent", due=at(0))
    await store.mark_outbox_sent(item_id=sent.id, message_id=77, at=at(1))

    due = await store.pending_outbox(now=at(60), kind="announcement")
    assert [item.dedupe_key for item in due] == ["tie-a", "tie-b"]
    assert [item.dedupe_key for item in await store.pending_outbox(now=at(60))] == ["dm", "tie-a", "tie-b"]
    assert [item.dedupe_key for item in await store.pending_outbox(now=at(120), kind="announcement")] == [
        "tie-a",
        "tie-b",
        "later",
    ]
    assert await store.next_outbox_due(kind="announcement") == at(10)
    assert await store.next_outbox_due(kind="low_balance") == at(0)


async def test_attempts_count_before_sending_and_stop_once_sent(store):
    item, _ = await enqueue(store, "k")
    assert await store.begin_outbox_attempt(item_id=item.id) == 1
    assert await store.begin_outbox_attempt(item_id=item.id) == 2
    assert await store.mark_outbox_sent(item_id=item.id, message_id=42, at=at(5))
    assert await store.begin_outbox_attempt(item_id=item.id) == 0
    # Recording again changes nothing: the first message id stays.
    assert not await store.mark_outbox_sent(item_id=item.id, message_id=43, at=at(6))
    stored = await store.outbox_item(item_id=item.id)
    assert (stored.attempts, stored.message_id, stored.sent_at) == (2, 42, to_millis(at(5)))
    assert await store.pending_outbox(now=at(3600)) == []


async def test_a_failure_waits_for_its_retry_time_and_keeps_the_error(store):
    item, _ = await enqueue(store, "k")
    await store.begin_outbox_attempt(item_id=item.id)
    await store.record_outbox_failure(item_id=item.id, error="HTTPException: 503", retry_at=at(60))
    stored = await store.outbox_by_key(dedupe_key="k")
    assert (stored.attempts, stored.last_error, stored.due_at) == (1, "HTTPException: 503", to_millis(at(60)))
    assert await store.pending_outbox(now=at(59)) == []
    assert [i.id for i in await store.pending_outbox(now=at(60))] == [item.id]
    # Success clears the error.
    await store.mark_outbox_sent(item_id=item.id, message_id=9, at=at(61))
    assert (await store.outbox_item(item_id=item.id)).last_error is None


async def test_a_row_given_up_on_is_never_due_and_is_listed_as_given_up(store):
    item, _ = await enqueue(store, "gone")
    await store.begin_outbox_attempt(item_id=item.id)
    await store.record_outbox_failure(item_id=item.id, error="channel gone", retry_at=None)
    stored = await store.outbox_item(item_id=item.id)
    assert stored.given_up and stored.due_at == NEVER and stored.last_error == "channel gone"
    assert await store.pending_outbox(now=NOW + timedelta(days=3650)) == []
    assert await store.next_outbox_due() is None
    assert [i.id for i in await store.given_up_outbox(guild_id=GUILD)] == [item.id]
    assert await store.given_up_outbox(guild_id=GUILD + 1) == []


async def test_a_schedule_change_keeps_its_start_and_remembers_the_creators_name(store):
    await with_creators(store, CAROL)
    first = await store.set_announcement_schedule(
        guild_id=GUILD, creator_id=CAROL, name="Carol", period=Period.WEEK, channel_id=1, top=3, at=NOW
    )
    moved = await store.set_announcement_schedule(
        guild_id=GUILD, creator_id=CAROL, name="Carol B", period=Period.WEEK, channel_id=2, top=5, at=at(99)
    )
    assert (moved.channel_id, moved.top, moved.created_at) == (2, 5, first.created_at)
    assert await store.member_name(guild_id=GUILD, user_id=CAROL) == "Carol B"
    assert [s.period for s in await store.announcement_schedules(guild_id=GUILD)] == ["week"]
    assert await store.clear_announcement_schedule(guild_id=GUILD, creator_id=CAROL, period=Period.WEEK)
    assert not await store.clear_announcement_schedule(guild_id=GUILD, creator_id=CAROL, period=Period.WEEK)
    assert await store.announcement_schedules() == []


async def test_deciding_announcements_is_idempotent_and_needs_the_schedule_and_the_creator(store):
    await with_creators(store, CAROL, DAVE)
    for creator in (CAROL, DAVE):
        await store.set_announcement_schedule(
            guild_id=GUILD,
            creator_id=creator,
            name="x",
            period=Period.WEEK,
            channel_id=CHANNEL,
            top=3,
            at=NOW,
        )
    bucket = to_millis(NOW)
    created = await store.decide_announcements(decisions=[decision(bucket), decision(bucket)], at=NOW)
    assert [item.dedupe_key for item in created] == [f"announce:{GUILD}:{CAROL}:week:{bucket}"]
    assert created[0].payload == {
        "creator": CAROL,
        "period": "week",
        "bucket": bucket,
        "channel": CHANNEL,
        "top": 3,
        "start": bucket,
        "end": bucket + 7 * 24 * 3600 * 1000,
    }
    assert await store.decide_announcements(decisions=[decision(bucket)], at=at(60)) == []
    assert await store.known_outbox_keys(keys=[decision(bucket).dedupe_key, "nope"]) == {
        decision(bucket).dedupe_key
    }

    # No schedule for that period: nothing is decided.
    assert await store.decide_announcements(decisions=[decision(bucket, period="day")], at=NOW) == []
    # A removed creator's schedule sleeps.
    await store.remove_creator(guild_id=GUILD, user_id=DAVE, name="dave")
    assert await store.decide_announcements(decisions=[decision(bucket, creator=DAVE)], at=NOW) == []
    assert [s.creator_id for s in await store.announcement_schedules()] == [CAROL]
    assert await count_rows(store) == 1

"""The economy service's rules, on a real database, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.economy.errors import (
    AmountOutOfRange,
    GiftDisabled,
    InsufficientCoins,
    InvalidSetting,
    NotACreator,
    RecipientIsBot,
    SelfGift,
    UnknownGift,
)
from bot.economy.periods import Period
from bot.economy.service import EconomyService, Party
from storage import Storage
from tests.clock import FakeClock

GUILD = 10
MOD = Party(1, "Mona")
ALICE = Party(2, "Alice")
BOB = Party(3, "Bob")
CAROL = Party(4, "Carol")
ROBOT = Party(5, "Robot", is_bot=True)


@pytest.fixture
async def economy(tmp_path):
    store = Storage(tmp_path / "service.sqlite3")
    await store.open()
    clock = FakeClock(datetime(2026, 3, 4, 12, tzinfo=UTC))  # a Wednesday
    service = EconomyService(store, now=clock, default_share=50)
    service.clock = clock  # type: ignore[attr-defined]
    await service.add_creator(GUILD, CAROL, actor=MOD)
    yield service
    await store.close()


async def send(
    economy: EconomyService, sender: Party, gift: str, count: int, key: str, creator: Party = CAROL
):
    quote = await economy.quote(GUILD, sender, creator, gift, count)
    return await economy.send_gift(GUILD, sender, creator, quote.gift, count, key=key)


async def test_gift_takes_time_from_the_injected_clock(economy):
    await economy.grant(GUILD, ALICE, 100, actor=MOD, reason="welcome", key="g1")
    receipt = await send(economy, ALICE, "Rose", 3, "k1")
    assert receipt.created_at == datetime(2026, 3, 4, 12, tzinfo=UTC)
    economy.clock.advance(hours=1)
    later = await send(economy, ALICE, "Rose", 1, "k2")
    assert later.created_at == datetime(2026, 3, 4, 13, tzinfo=UTC)


async def test_share_comes_from_guild_config_and_changes_apply_at_once(economy):
    await economy.grant(GUILD, ALICE, 1_000, actor=MOD, reason="welcome", key="g1")
    first = await send(economy, ALICE, "Corgi", 1, "k1")
    assert (first.diamonds, first.platform_coins) == (149, 150)
    await economy.set_config(GUILD, "creator_share", "70", actor_id=MOD.id)
    second = await send(economy, ALICE, "Corgi", 1, "k2")
    assert (second.diamonds, second.platform_coins) == (209, 90)
    assert (await economy.balances(GUILD, CAROL.id)).diamonds == 149 + 209


@pytest.mark.parametrize(
    ("sender", "creator", "gift", "count", "error"),
    [
        (ALICE, ALICE, "Rose", 1, SelfGift),
        (ALICE, ROBOT, "Rose", 1, RecipientIsBot),
        (ALICE, CAROL, "Unicorn", 1, UnknownGift),
        (ALICE, CAROL, "Lion", 34, AmountOutOfRange),
        (ALICE, CAROL, "Rose", 0, AmountOutOfRange),
    ],
)
async def test_quote_refuses_bad_gifts(economy, sender, creator, gift, count, error):
    with pytest.raises(error) as caught:
        await economy.quote(GUILD, sender, creator, gift, count)
    assert caught.value.user_message


async def test_refusals_change_nothing(economy):
    await economy.grant(GUILD, ALICE, 10, actor=MOD, reason="welcome", key="g1")
    with pytest.raises(InsufficientCoins):
        await send(economy, ALICE, "Perfume", 1, "k1")
    with pytest.raises(NotACreator):
        await send(economy, ALICE, "Rose", 1, "k2", creator=BOB)
    await economy.edit_gift(GUILD, "Rose", enabled=False)
    with pytest.raises(GiftDisabled):
        await economy.quote(GUILD, ALICE, CAROL, "Rose", 1)
    assert (await economy.balances(GUILD, ALICE.id)).coins == 10
    assert (await economy.storage.ledger_totals()).balanced


async def test_confirmation_threshold_is_a_guild_setting(economy):
    await economy.grant(GUILD, ALICE, 5_000, actor=MOD, reason="welcome", key="g1")
    assert not (await economy.quote(GUILD, ALICE, CAROL, "Swan", 1)).needs_confirmation
    assert (await economy.quote(GUILD, ALICE, CAROL, "Galaxy", 1)).needs_confirmation
    await economy.set_config(GUILD, "confirm_threshold", "500", actor_id=MOD.id)
    assert (await economy.quote(GUILD, ALICE, CAROL, "Money Gun", 1)).needs_confirmation


async def test_grant_needs_a_reason_and_a_human(economy):
    with pytest.raises(InvalidSetting):
        await economy.grant(GUILD, ALICE, 10, actor=MOD, reason="   ", key="g1")
    with pytest.raises(RecipientIsBot):
        await economy.grant(GUILD, ROBOT, 10, actor=MOD, reason="x", key="g2")
    assert (await economy.balances(GUILD, ALICE.id)).coins == 0


async def test_week_leaderboard_follows_the_guild_timezone(economy):
    await economy.grant(GUILD, ALICE, 500, actor=MOD, reason="welcome", key="g1")
    await economy.grant(GUILD, BOB, 500, actor=MOD, reason="welcome", key="g2")
    await economy.set_config(GUILD, "timezone", "America/New_York", actor_id=MOD.id)
    # Sunday 2026-03-08 23:30 in New York is Monday 03:30 UTC: still last week in New York.
    economy.clock.moment = datetime(2026, 3, 9, 3, 30, tzinfo=UTC)
    await send(economy, ALICE, "Doughnut", 1, "k1")
    # Monday 00:30 in New York (04:30 UTC): the new week.
    economy.clock.moment = datetime(2026, 3, 9, 4, 30, tzinfo=UTC)
    await send(economy, BOB, "Rose", 1, "k2")
    board = await economy.board(GUILD, Period.WEEK)
    assert [row.user_id for row in board.rows] == [BOB.id]
    everything = await economy.board(GUILD, Period.ALL)
    assert [(row.user_id, row.score) for row in everything.rows] == [(ALICE.id, 30), (BOB.id, 1)]


async def test_a_gift_that_would_need_confirmation_is_refused_before_asking(economy):
    """Nobody is asked to confirm a gift that could only be refused."""
    await economy.grant(GUILD, ALICE, 999, actor=MOD, reason="welcome", key="g1")
    with pytest.raises(InsufficientCoins):
        await economy.quote(GUILD, ALICE, CAROL, "Galaxy", 1)
    with pytest.raises(NotACreator):
        await economy.quote(GUILD, ALICE, BOB, "Galaxy", 1)
    cheap = await economy.quote(GUILD, ALICE, BOB, "Rose", 1)  # below the threshold: checked on send
    assert not cheap.needs_confirmation

"""/balance and /history end to end: private, readable numbers, newest first, pages only for the owner."""

from __future__ import annotations

import re

import simcord

from bot.economy.service import Party
from tests.sim import Community, buttons, pings, raw_click

FIELD_NAME = re.compile(r"^#(\d+) · (.+)$")


def history_rows(result: simcord.InteractionResult | simcord.ResponseMessage) -> list[tuple[int, str, str]]:
    """(entry id, amounts, description) for each entry shown."""
    message = result.response if isinstance(result, simcord.InteractionResult) else result
    rows = []
    for field in message.embeds[0].fields:
        match = FIELD_NAME.match(field.name)
        assert match, field.name
        description = field.value.rsplit(" · <t:", 1)[0]
        rows.append((int(match.group(1)), match.group(2), description))
    return rows


async def test_balance_is_private_with_thousands_separators(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 12_345)
    await world.grant(world.carol, 5_000)
    shown = await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Galaxy")
    await world.alice.click(shown.response, label="Send it")  # 1,000 coins: confirmed first

    mine = await world.alice.slash(world.channel, "balance")
    theirs = await world.carol.slash(world.channel, "balance")

    assert mine.ephemeral and theirs.ephemeral
    assert [f.value for f in mine.response.embeds[0].fields] == ["🪙 11,345", "💎 0"]
    assert [f.value for f in theirs.response.embeds[0].fields] == ["🪙 5,000", "💎 500"]


async def test_history_is_private_newest_first_with_signed_amounts(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.grant(world.alice, 100, reason="**launch** @everyone")
    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose", count=15)
    await world.bot.economy.revoke(
        world.guild.id,
        Party(world.alice.id, world.alice.name),
        5,
        actor=Party(world.mod.id, world.mod.name),
        reason="typo",
        key="test-revoke:1",
    )

    mine = await world.alice.slash(world.channel, "history")
    theirs = await world.carol.slash(world.channel, "history")

    assert mine.ephemeral and theirs.ephemeral
    assert pings(simcord_env, mine.response).nobody
    rows = history_rows(mine)
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)
    assert [(amounts, text) for _, amounts, text in rows] == [
        ("🪙 -5", f"Revoked by <@{world.mod.id}>: typo"),
        ("🪙 -15", f"Sent 🌹 Rose ×15 to <@{world.carol.id}>"),
        ("🪙 +100", f"Promo grant by <@{world.mod.id}>: \\*\\*launch\\*\\* @\u200beveryone"),
    ]
    assert [(amounts, text) for _, amounts, text in history_rows(theirs)] == [
        ("💎 +7", f"Received 🌹 Rose ×15 from <@{world.alice.id}>")
    ]
    assert mine.response.embeds[0].footer.text == "Page 1 of 1 · 3 entries"
    assert set(buttons(mine.response)) == {"Export CSV"}  # one page: no paging buttons


async def test_empty_history_says_so(simcord_env):
    world = Community.build(simcord_env)

    result = await world.bob.slash(world.channel, "history")

    assert result.ephemeral
    assert result.response.embeds[0].description.startswith("Nothing yet.")


async def test_history_pages_with_buttons_beyond_ten_entries(simcord_env):
    world = Community.build(simcord_env)
    for n in range(1, 24):
        await world.grant(world.alice, n, reason=f"grant {n}")

    first = await world.alice.slash(world.channel, "history")
    # Every page turn edits the same private message: read each page as it is shown.
    pages = [history_rows(first)]
    assert first.response.embeds[0].footer.text == "Page 1 of 3 · 23 entries"
    assert buttons(first.response)["◀ Previous"].get("disabled")
    second = await world.alice.click(first.response, label="Next ▶")
    pages.append(history_rows(second))
    third = await world.alice.click(second.response, label="Next ▶")
    pages.append(history_rows(third))
    assert third.response.id == first.response.id
    assert third.response.embeds[0].footer.text == "Page 3 of 3 · 23 entries"
    assert buttons(third.response)["Next ▶"].get("disabled")
    back = await world.alice.click(third.response, label="◀ Previous")
    assert back.response.embeds[0].footer.text == "Page 2 of 3 · 23 entries"
    assert history_rows(back) == pages[1]

    assert [len(p) for p in pages] == [10, 10, 3]
    amounts = [amount for page in pages for _, amount, _ in page]
    assert amounts == [f"🪙 +{n}" for n in range(23, 0, -1)]  # every entry once, newest first


async def test_another_member_cannot_press_your_history_buttons(simcord_env):
    world = Community.build(simcord_env)
    for n in range(1, 15):
        await world.grant(world.alice, n)
    shown = await world.alice.slash(world.channel, "history")

    (intruder,) = await raw_click(simcord_env, world.bob, shown.response, "Next ▶")

    assert intruder.ephemeral
    assert intruder.response.content == "These buttons belong to someone else; run the command yourself."
    assert shown.response.embeds[0].footer.text == "Page 1 of 2 · 14 entries"
    turned = await world.alice.click(shown.response, label="Next ▶")
    assert turned.response.embeds[0].footer.text == "Page 2 of 2 · 14 entries"

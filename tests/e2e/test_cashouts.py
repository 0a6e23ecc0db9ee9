"""Cash-outs end to end: a creator asks to cash out paid diamonds, a moderator approves with a
payment reference or rejects with a reason, and the creator hears by DM. Promo diamonds, diamonds
still inside the refund window and requests below the minimum are refused with the creator's
breakdown; a moderator never approves their own request; concurrent requests never reserve the
same diamonds twice; a creator who left is frozen, not lost; a decision is made once.
"""

from __future__ import annotations

import simcord

from bot.app import create_bot
from bot.economy.cashouts import CashoutStatus
from bot.economy.models import EntryKind
from bot.economy.service import Party
from tests.cashout_helpers import DAY, buy_coins, cashouts_on, earn_paid_diamonds
from tests.sim import (
    Community,
    acknowledge_errors,
    buttons,
    command_id,
    deliver_twice,
    interaction_result,
    pings,
    race,
    raw_click,
)


def shown(result: simcord.InteractionResult) -> simcord.ResponseMessage:
    """The message a command or click showed last (its reply, or its latest followup)."""
    message = result.followups[-1] if result.followups else result.response
    assert message is not None
    return message


async def ready(env: simcord.Env) -> Community:
    """Carol and Dave are creators; cash-outs are on; Carol, Dave and the moderator passed the
    age gate."""
    world = Community.build(env)
    await world.make_creators()
    await cashouts_on(world, confirm=[world.carol, world.dave, world.mod])
    return world


async def ask(world: Community, member: simcord.MemberActor, diamonds: int) -> simcord.ResponseMessage:
    return shown(await member.slash(world.channel, "creator cashout", diamonds=diamonds))


async def listing(world: Community, moderator: simcord.MemberActor | None = None) -> simcord.ResponseMessage:
    return shown(await (moderator or world.mod).slash(world.channel, "mod cashouts"))


async def decide(
    moderator: simcord.MemberActor, message: simcord.ResponseMessage, label: str, text: str
) -> simcord.ResponseMessage:
    modal = await moderator.click(message, label=label)
    assert modal.modal is not None, "the click should open a modal"
    return shown(await moderator.submit_modal(modal, {"text": text}))


async def wallet(world: Community, member: simcord.MemberActor):
    return await world.bot.storage.balances(guild_id=world.guild.id, user_id=member.id, at=world.env.now())


async def cashout(world: Community, cashout_id: int = 1):
    found = await world.bot.storage.cashout(guild_id=world.guild.id, cashout_id=cashout_id)
    assert found is not None
    return found


def dms(member: simcord.MemberActor) -> list:
    return [message for message in member.user.dm_channel.history() if message.embeds]


def fields(message: simcord.ResponseMessage) -> dict[str, str]:
    return {field.name: field.value for field in message.embeds[0].fields}


async def test_a_request_approved_with_a_reference_pays_out_and_tells_the_creator(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 2_000)

    asked = await ask(world, world.carol, 1_500)

    assert asked.ephemeral and asked.embeds[0].title == "Cash-out requested"
    assert fields(asked)["Pending cash-outs"] == "💎 1,500" and fields(asked)["Cashable now"] == "💎 500"
    held = await wallet(world, world.carol)
    assert (held.paid_diamonds, held.pending_diamonds, held.cashable_diamonds) == (500, 1_500, 500)

    listed = await listing(world)
    assert listed.ephemeral
    assert [f.name for f in listed.embeds[0].fields] == ["#1 · 💎 1,500"]
    assert set(buttons(listed)) == {"Approve #1", "Reject #1"}

    done = await decide(world.mod, listed, "Approve #1", "PayPal 42")

    assert done.ephemeral and done.embeds[0].title == "Cash-out #1 approved"
    decided = await cashout(world)
    assert (decided.status, decided.decided_by, decided.reference) == (
        CashoutStatus.APPROVED,
        world.mod.id,
        "PayPal 42",
    )
    entry = await world.bot.storage.ledger_entry(entry_id=decided.decision_entry_id)
    assert entry is not None and entry.kind == EntryKind.CASHOUT_APPROVE and entry.actor_id == world.mod.id
    assert [(leg.debit_code, leg.credit_code, leg.amount) for leg in entry.legs] == [
        ("diamonds_pending", "cashout", 1_500)
    ]
    after = await wallet(world, world.carol)
    assert (after.diamonds, after.pending_diamonds, after.cashable_diamonds) == (500, 0, 500)
    (notice,) = dms(world.carol)
    assert notice.embeds[0].title == "💎 Your cash-out was approved"
    assert notice.embeds[0].fields[0].value == "PayPal 42"
    assert pings(simcord_env, notice).nobody
    emptied = await listing(world)
    assert emptied.embeds[0].description == "No cash-out requests are waiting." and buttons(emptied) == {}
    await world.assert_books_balance()


async def test_a_former_creator_can_still_cash_out_what_they_earned(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 2_000)
    await world.mod.slash(world.channel, "mod creator remove", member=world.carol)
    assert not await world.bot.storage.is_creator(guild_id=world.guild.id, user_id=world.carol.id)

    asked = await ask(world, world.carol, 2_000)

    assert asked.embeds[0].title == "Cash-out requested"
    assert (await wallet(world, world.carol)).pending_diamonds == 2_000
    request = await cashout(world)
    entry = await world.bot.storage.ledger_entry(entry_id=request.request_entry_id)
    assert entry is not None and entry.kind == EntryKind.CASHOUT_REQUEST and entry.actor_id == world.carol.id
    assert [(leg.debit_code, leg.credit_code, leg.amount) for leg in entry.legs] == [
        ("diamonds_paid", "diamonds_pending", 2_000)
    ]
    await world.assert_books_balance()
    refused = await ask(world, world.alice, 1_000)  # never earned anything: still creators only
    assert refused.ephemeral and "creator" in (refused.embeds[0].description or "").lower()


async def test_a_rejected_request_returns_the_diamonds_with_the_reason(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 2_000)
    await ask(world, world.carol, 2_000)

    done = await decide(world.mod, await listing(world), "Reject #1", "Wrong account @everyone **x**")

    assert done.embeds[0].title == "Cash-out #1 rejected"
    decided = await cashout(world)
    assert (decided.status, decided.reason) == (CashoutStatus.REJECTED, "Wrong account @everyone **x**")
    held = await wallet(world, world.carol)
    assert (held.cashable_diamonds, held.pending_diamonds) == (2_000, 0)
    (notice,) = dms(world.carol)
    assert notice.embeds[0].title == "Your cash-out was not approved"
    assert notice.embeds[0].fields[0].value == "Wrong account @\u200beveryone \\*\\*x\\*\\*"
    assert pings(simcord_env, notice).nobody
    await world.assert_books_balance()


async def test_promo_diamonds_are_refused_with_the_breakdown(simcord_env):
    world = await ready(simcord_env)
    await world.grant(world.alice, 4_000)
    rose = await world.bot.economy.find_gift(world.guild.id, "Rose")
    await world.bot.economy.send_gift(
        world.guild.id, Party(world.alice.id, "alice"), Party(world.carol.id, "carol"), rose, 4_000, key="g"
    )
    before = await world.bot.storage.ledger_page(guild_id=world.guild.id)

    refused = await ask(world, world.carol, 1_000)

    assert refused.ephemeral and refused.embeds[0].title == "Cash-out not requested"
    assert refused.embeds[0].description.startswith("You can cash out 0 diamonds right now, not 1,000.")
    assert fields(refused) == {
        "Cashable now": "💎 0",
        "Paid diamonds": "💎 0",
        "Held (refund window)": "💎 0",
        "Promo diamonds": "💎 2,000\nnever cashable",
    }
    assert (await world.bot.storage.ledger_page(guild_id=world.guild.id)).total == before.total
    assert (await world.bot.storage.open_cashouts(guild_id=world.guild.id)).total == 0


async def test_paid_diamonds_wait_out_the_refund_window(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 2_000, mature=False)  # gifted 2026-01-01 00:00

    early = await ask(world, world.carol, 1_000)
    assert early.embeds[0].title == "Cash-out not requested"
    matures = "<t:1768435200:R>"  # 2026-01-15 00:00 UTC: 14 days later
    assert fields(early)["Held (refund window)"] == f"💎 2,000\nnext ones cashable {matures}"

    await simcord_env.advance_time(14 * DAY - 3_600)
    assert (await ask(world, world.carol, 1_000)).embeds[0].title == "Cash-out not requested"

    await simcord_env.advance_time(3_600)
    assert (await ask(world, world.carol, 1_000)).embeds[0].title == "Cash-out requested"


async def test_below_the_minimum_is_refused(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 2_000)
    refused = await ask(world, world.carol, 999)
    assert refused.embeds[0].description == "The smallest cash-out here is 1,000 diamonds; you asked for 999."
    assert fields(refused)["Cashable now"] == "💎 2,000"


async def test_a_moderator_cannot_approve_their_own_cash_out(simcord_env):
    world = await ready(simcord_env)
    await world.make_creators(world.mod)
    await earn_paid_diamonds(world, world.mod, 1_000)
    await ask(world, world.mod, 1_000)
    listed = await listing(world)

    refused = shown(await world.mod.click(listed, label="Approve #1"))

    assert refused.ephemeral
    assert (
        refused.embeds[0].description
        == "You can't approve your own cash-out: another moderator has to decide it."
    )
    assert (await cashout(world)).status is CashoutStatus.PENDING

    other = world.guild.add_member(simcord_env.create_user("mod2", global_name="Max"), roles=[world.admins])
    done = await decide(other, await listing(world, other), "Approve #1", "bank transfer 7")
    assert done.embeds[0].title == "Cash-out #1 approved"
    assert (await cashout(world)).decided_by == other.id


async def test_concurrent_requests_reserve_only_the_cashable_diamonds(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 2_500)

    ids = await race(simcord_env, world.carol, world.channel, "creator cashout", 5, diamonds=1_000)

    titles = sorted(shown(interaction_result(simcord_env, i)).embeds[0].title for i in ids)
    assert titles == ["Cash-out not requested"] * 3 + ["Cash-out requested"] * 2
    held = await wallet(world, world.carol)
    assert (held.paid_diamonds, held.pending_diamonds) == (500, 2_000)
    assert (await world.bot.storage.open_cashouts(guild_id=world.guild.id)).total == 2
    await world.assert_books_balance()


async def test_a_redelivered_request_is_recorded_once(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 2_000)

    await deliver_twice(simcord_env, world.carol, world.channel, "creator cashout", diamonds=1_000)

    assert (await wallet(world, world.carol)).pending_diamonds == 1_000
    assert (await world.bot.storage.open_cashouts(guild_id=world.guild.id)).total == 1
    acknowledge_errors(simcord_env)  # the second delivery's reply is refused by Discord (40060)


async def test_a_creator_who_left_is_frozen_then_decided(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 1_000)
    await ask(world, world.carol, 1_000)
    world.guild.remove_member(world.carol)

    listed = await listing(world)

    (field,) = listed.embeds[0].fields
    assert field.name == "#1 · 💎 1,000 · ❄️ frozen"
    assert "The creator left the server. You can still approve or reject it." in field.value
    assert (await cashout(world)).status is CashoutStatus.FROZEN
    assert (await wallet(world, world.carol)).pending_diamonds == 1_000  # nothing is lost

    done = await decide(world.mod, listed, "Approve #1", "paid before they left")
    assert done.embeds[0].title == "Cash-out #1 approved"
    assert (await cashout(world)).status is CashoutStatus.APPROVED
    await world.assert_books_balance()
    assert acknowledge_errors(simcord_env) == []  # an undeliverable DM is not an error


async def test_a_decision_is_made_once_and_the_later_moderator_is_told_who_decided(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 1_000)
    await ask(world, world.carol, 1_000)
    other = world.guild.add_member(simcord_env.create_user("mod2", global_name="Max"), roles=[world.admins])
    mine, theirs = await listing(world), await listing(world, other)
    my_modal = await world.mod.click(mine, label="Approve #1")
    their_modal = await other.click(theirs, label="Reject #1")  # both opened before either decided

    await world.mod.submit_modal(my_modal, {"text": "ref 1"})
    late = shown(await other.submit_modal(their_modal, {"text": "no"}))

    assert late.ephemeral
    assert late.embeds[0].description.startswith(f"Cash-out #1 was already approved by <@{world.mod.id}>")
    again = await other.click(theirs, label="Approve #1")
    assert again.modal is None and shown(again).embeds[0].description.startswith("Cash-out #1 was already")
    decisions = [
        e
        for e in (await world.bot.storage.ledger_page(guild_id=world.guild.id)).items
        if e.kind in (EntryKind.CASHOUT_APPROVE, EntryKind.CASHOUT_REJECT)
    ]
    assert len(decisions) == 1 and len(dms(world.carol)) == 1
    await world.assert_books_balance()


async def test_only_moderators_list_or_decide_even_when_mod_is_opened_to_everyone(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 1_000)
    await ask(world, world.carol, 1_000)
    listed = await listing(world)
    world.guild.set_command_permissions(command_id(simcord_env, "mod"), {world.guild.default_role: True})

    for command in ("mod cashouts", "mod audit"):
        refused = shown(await world.alice.slash(world.channel, command))
        assert refused.ephemeral and refused.embeds[0].description.startswith("Only moderators")
    (clicked,) = await raw_click(simcord_env, world.alice, listed, "Approve #1")

    assert shown(clicked).embeds[0].description.startswith("Only moderators")
    assert (await cashout(world)).status is CashoutStatus.PENDING


async def test_cash_outs_are_off_until_a_manager_turns_them_on(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await earn_paid_diamonds(world, world.carol, 1_000)

    refused = await ask(world, world.carol, 1_000)
    not_creator = await ask(world, world.alice, 1_000)

    assert refused.ephemeral and refused.embeds[0].description.startswith("Cash-outs are off in this server.")
    assert not_creator.embeds[0].description.startswith("Only creators can use /creator.")
    assert (await world.bot.storage.open_cashouts(guild_id=world.guild.id)).total == 0


async def test_the_age_gate_comes_first_when_cash_outs_are_on(simcord_env):
    world = Community.build(simcord_env)
    await world.make_creators()
    await cashouts_on(world)  # nobody confirmed their age
    await earn_paid_diamonds(world, world.carol, 1_000)

    gated = await ask(world, world.carol, 1_000)

    assert gated.ephemeral and gated.embeds[0].title == "Please confirm your age"
    assert "this server allows diamond cash-outs" in gated.embeds[0].description
    assert (await world.bot.storage.open_cashouts(guild_id=world.guild.id)).total == 0


async def test_the_approve_button_still_works_after_a_restart(simcord_env, settings):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 1_000)
    await ask(world, world.carol, 1_000)
    listed = await listing(world)
    await simcord_env.bot.storage.close()
    await simcord_env.restart_bot(create_bot(settings))

    done = await decide(world.mod, listed, "Approve #1", "after the restart")

    assert done.embeds[0].title == "Cash-out #1 approved"
    assert (await cashout(world)).status is CashoutStatus.APPROVED


async def test_balance_shows_where_diamonds_and_coins_came_from(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 2_000)  # matured
    await ask(world, world.carol, 1_000)
    await earn_paid_diamonds(world, world.carol, 300, mature=False)  # still held
    await world.grant(world.alice, 50)
    rose = await world.bot.economy.find_gift(world.guild.id, "Rose")
    await world.bot.economy.send_gift(
        world.guild.id, Party(world.alice.id, "alice"), Party(world.carol.id, "carol"), rose, 50, key="p"
    )
    await buy_coins(
        world.bot.storage,
        guild_id=world.guild.id,
        user_id=world.alice.id,
        coins=70,
        key="b",
        at=simcord_env.now(),
    )
    await world.grant(world.alice, 20)

    carol = shown(await world.carol.slash(world.channel, "balance"))
    alice = shown(await world.alice.slash(world.channel, "balance"))
    bob = shown(await world.bob.slash(world.channel, "balance"))

    matures = fields(carol)["Held (refund window)"]
    assert matures.startswith("💎 300, next cashable <t:")
    assert fields(carol) == {
        "Coins": "🪙 0",
        "Diamonds": "💎 1,325",
        "Paid diamonds": "💎 1,300",
        "Promo diamonds": "💎 25 (not cashable)",
        "Held (refund window)": matures,
        "Pending cash-out": "💎 1,000",
        "Cashable": "💎 1,000",
    }
    assert fields(alice) == {
        "Coins": "🪙 90",
        "Diamonds": "💎 0",
        "Bought coins": "🪙 70",
        "Promo coins": "🪙 20",
    }
    assert fields(bob) == {"Coins": "🪙 0", "Diamonds": "💎 0"}  # spent every coin they bought


async def test_history_tells_each_step_of_a_cash_out(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 2_500)
    await ask(world, world.carol, 1_500)
    await ask(world, world.carol, 1_000)
    listed = await listing(world)
    await decide(world.mod, listed, "Approve #1", "PayPal 42")
    await decide(world.mod, listed, "Reject #2", "not yet")

    history = shown(await world.carol.slash(world.channel, "history"))

    rows = [(f.name.split(" · ", 1)[1], f.value.rsplit(" · <t:", 1)[0]) for f in history.embeds[0].fields]
    assert rows[:4] == [
        (
            "💎 +1,000 · ⏳ -1,000 pending",
            f"Cash-out rejected by <@{world.mod.id}>, diamonds returned: not yet",
        ),
        ("⏳ -1,500 pending", f"Cash-out paid, approved by <@{world.mod.id}> · reference: PayPal 42"),
        ("💎 -1,000 · ⏳ +1,000 pending", "Cash-out requested: set aside until a moderator decides"),
        ("💎 -1,500 · ⏳ +1,500 pending", "Cash-out requested: set aside until a moderator decides"),
    ]


async def test_the_list_pages_four_requests_at_a_time(simcord_env):
    world = await ready(simcord_env)
    await earn_paid_diamonds(world, world.carol, 5_000)
    for _ in range(5):
        await ask(world, world.carol, 1_000)

    first = await listing(world)
    assert first.embeds[0].footer.text.startswith("Page 1 of 2 · 5 open")
    assert set(buttons(first)) == {f"{verb} #{n}" for verb in ("Approve", "Reject") for n in range(1, 5)} | {
        "◀ Previous",
        "Next ▶",
    }
    second = shown(await world.mod.click(first, label="Next ▶"))

    assert [f.name for f in second.embeds[0].fields] == ["#5 · 💎 1,000"]
    done = await decide(world.mod, second, "Approve #5", "batch 2")
    assert done.embeds[0].title == "Cash-out #5 approved"

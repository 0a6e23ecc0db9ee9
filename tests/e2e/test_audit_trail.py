"""The audit trail end to end: every audited operation is posted once in the audit channel with
the moderator, the amount, the reason and the ledger entry, and pings nobody; /mod audit pages
through the ledger; /history and /mod audit export CSVs that add up to the balances.
"""

from __future__ import annotations

import simcord

from bot.app import create_bot
from bot.audit import EVENTS
from bot.economy.models import EntryKind
from bot.economy.service import Party
from bot.ui.export import EXPORT_LABEL
from tests.cashout_helpers import (
    account_balances,
    account_sums,
    cashouts_on,
    earn_paid_diamonds,
    member_sums,
    read_csv,
    unquote,
)
from tests.sim import Community, buttons, pings, unexpected_errors
from tests.store_helpers import adult, sell

AUDITED = {
    EntryKind.GRANT,
    EntryKind.REVOKE,
    EntryKind.CASHOUT_REQUEST,
    EntryKind.CASHOUT_APPROVE,
    EntryKind.CASHOUT_REJECT,
}


def shown(result: simcord.InteractionResult) -> simcord.ResponseMessage:
    message = result.followups[-1] if result.followups else result.response
    assert message is not None
    return message


async def with_audit_channel(world: Community) -> simcord.ChannelHandle:
    audit = world.guild.create_text_channel("audit")
    await world.bot.economy.set_config(world.guild.id, "audit_channel", str(audit.id), actor_id=world.mod.id)
    return audit


def posts(world: Community, channel: simcord.ChannelHandle) -> list:
    me = world.bot.user
    assert me is not None
    return [m for m in channel.history(viewer=world.mod) if m.author.id == me.id]


def post_fields(message) -> dict[str, str]:
    return {field.name: field.value for field in message.embeds[0].fields}


async def everything(world: Community):
    page = await world.bot.storage.ledger_page(guild_id=world.guild.id, limit=1_000)
    return page.items


async def busy_day(world: Community) -> None:
    """Grants and a revoke through /mod, a paid gift, two cash-outs: one approved, one rejected."""
    await world.mod.slash(
        world.channel, "mod grant", member=world.alice, coins=500, reason="launch @everyone"
    )
    await world.mod.slash(world.channel, "mod revoke", member=world.alice, coins=100, reason="=SUM(A1:A9)")
    await earn_paid_diamonds(world, world.carol, 2_000)
    await world.carol.slash(world.channel, "creator cashout", diamonds=1_200)
    await world.carol.slash(world.channel, "creator cashout", diamonds=800)
    listed = shown(await world.mod.slash(world.channel, "mod cashouts"))
    for label, text in (("Approve #1", "PayPal 9"), ("Reject #2", "Too soon")):
        modal = await world.mod.click(listed, label=label)
        await world.mod.submit_modal(modal, {"text": text})


async def ready(env: simcord.Env) -> Community:
    world = Community.build(env)
    await world.make_creators()
    await cashouts_on(world, minimum=500, confirm=[world.carol])
    return world


async def test_every_audited_entry_is_posted_once_with_its_moderator_amount_and_reason(simcord_env):
    world = await ready(simcord_env)
    audit = await with_audit_channel(world)

    await busy_day(world)

    entries = {e.id: e for e in await everything(world) if e.kind in AUDITED}
    found = posts(world, audit)
    by_entry = {int(post_fields(p)["Ledger entry"].lstrip("#")): p for p in found}
    assert len(found) == len(by_entry) == len(entries) == 6
    assert set(by_entry) == set(entries)
    for entry_id, post in by_entry.items():
        entry = entries[entry_id]
        shown_fields = post_fields(post)
        assert post.embeds[0].title == EVENTS[entry.kind][0]
        actor = shown_fields["By"] if entry.kind == EntryKind.CASHOUT_REQUEST else shown_fields["Moderator"]
        assert actor == f"<@{entry.actor_id}>"
        amount = sum(leg.amount for leg in entry.legs)
        unit = "🪙" if entry.kind in (EntryKind.GRANT, EntryKind.REVOKE) else "💎"
        assert shown_fields["Amount"] == f"{unit} {amount:,}"
        assert pings(simcord_env, post).nobody
    grant = next(p for i, p in by_entry.items() if entries[i].kind == EntryKind.GRANT)
    assert post_fields(grant)["Reason"] == "launch @\u200beveryone"
    approved = next(p for i, p in by_entry.items() if entries[i].kind == EntryKind.CASHOUT_APPROVE)
    assert post_fields(approved)["Payment reference"] == "PayPal 9"


async def test_without_an_audit_channel_nothing_is_posted_or_queued(simcord_env):
    world = await ready(simcord_env)
    await busy_day(world)
    assert await world.bot.storage.pending_outbox(now=simcord_env.now(), kind="audit") == []
    assert await world.bot.storage.outbox_by_key(dedupe_key="audit:entry:1") is None


async def test_a_failed_post_is_retried_and_posted_once(simcord_env):
    world = await ready(simcord_env)
    audit = await with_audit_channel(world)
    simcord_env.inject_error("POST", f"/channels/{audit.id}/messages", status=500, times=1)

    await world.mod.slash(world.channel, "mod grant", member=world.alice, coins=5, reason="retry me")
    assert posts(world, audit) == []

    await simcord_env.advance_time(120)  # the first retry comes a minute later

    (post,) = posts(world, audit)
    assert post_fields(post)["Reason"] == "retry me"
    await simcord_env.advance_time(3_600)
    assert len(posts(world, audit)) == 1


async def test_a_post_left_over_before_a_restart_is_sent_at_start_up(simcord_env, settings):
    world = await ready(simcord_env)
    audit = await with_audit_channel(world)
    world.bot.audit.stop()  # as if the bot went down right after the grant committed
    await world.bot.economy.grant(
        world.guild.id,
        Party(world.alice.id, "alice"),
        5,
        actor=Party(world.mod.id, "mod"),
        reason="x",
        key="k",
    )
    await simcord_env.bot.storage.close()

    await simcord_env.restart_bot(create_bot(settings))

    (post,) = posts(world, audit)
    assert post.embeds[0].title == EVENTS["grant"][0]


async def test_mod_audit_pages_through_the_ledger_newest_first(simcord_env):
    world = await ready(simcord_env)
    for n in range(1, 13):
        await world.grant(world.alice, n, reason=f"grant {n}")
    await world.grant(world.bob, 7, reason="bob's")

    everyone = shown(await world.mod.slash(world.channel, "mod audit"))
    alice_only = shown(await world.mod.slash(world.channel, "mod audit", member=world.alice))

    assert everyone.ephemeral and everyone.embeds[0].footer.text == "Page 1 of 2 · 13 entries"
    first = everyone.embeds[0].fields[0]
    assert first.name == "#13 · Promo grant · 🪙 7"
    assert first.value.startswith(f"by <@{world.mod.id}> · for <@{world.bob.id}> · bob's · <t:")
    assert set(buttons(everyone)) == {"◀ Previous", "Next ▶", EXPORT_LABEL}
    assert [f.name for f in alice_only.embeds[0].fields][:2] == [
        "#12 · Promo grant · 🪙 +12",
        "#11 · Promo grant · 🪙 +11",
    ]
    assert alice_only.embeds[0].footer.text == "Page 1 of 2 · 12 entries"
    second = shown(await world.mod.click(everyone, label="Next ▶"))
    assert [f.name.split(" · ")[0] for f in second.embeds[0].fields] == ["#3", "#2", "#1"]


async def test_a_big_servers_ledger_says_how_many_entries_it_counted_so_far(simcord_env, monkeypatch):
    from storage import ledger_reads

    monkeypatch.setattr(ledger_reads, "COUNT_AHEAD", 15)
    world = await ready(simcord_env)
    for n in range(1, 26):
        await world.grant(world.alice, n, reason=f"grant {n}")

    everyone = shown(await world.mod.slash(world.channel, "mod audit"))
    first_footer = everyone.embeds[0].footer.text
    second = shown(await world.mod.click(everyone, label="Next ▶"))

    assert first_footer == "Page 1 of 2+ · 15+ entries"
    assert second.embeds[0].footer.text == "Page 2 of 3 · 25 entries"  # counted to the end now
    assert [f.name.split(" · ")[0] for f in second.embeds[0].fields][:2] == ["#15", "#14"]


async def test_a_members_history_export_adds_up_to_their_wallet(simcord_env):
    world = await ready(simcord_env)
    await busy_day(world)

    for member in (world.alice, world.bob, world.carol):
        history = shown(await member.slash(world.channel, "history"))
        exported = shown(await member.click(history, label=EXPORT_LABEL))
        assert exported.ephemeral and exported.content.startswith("📄 Your history, one row per entry:")
        (attachment,) = exported.attachments
        assert attachment.filename == f"giftbot-history-{world.guild.id}-{member.id}.csv"
        rows = read_csv(await attachment.read())
        held = await world.bot.storage.balances(guild_id=world.guild.id, user_id=member.id)
        assert member_sums(rows) == (held.coins, held.diamonds, held.pending_diamonds)
    revoke = next(r for r in read_csv(await attachment_of(world, world.alice)) if r["kind"] == "revoke")
    assert revoke["reason"] == "'=SUM(A1:A9)" and unquote(revoke["reason"]) == "=SUM(A1:A9)"


async def attachment_of(world: Community, member: simcord.MemberActor) -> bytes:
    history = shown(await member.slash(world.channel, "history"))
    return await shown(await member.click(history, label=EXPORT_LABEL)).attachments[0].read()


async def test_the_guild_export_rebuilds_every_balance(simcord_env):
    world = await ready(simcord_env)
    await busy_day(world)

    audit = shown(await world.mod.slash(world.channel, "mod audit"))
    exported = shown(await world.mod.click(audit, label=EXPORT_LABEL))

    assert exported.ephemeral and pings(simcord_env, exported).nobody
    rows = read_csv(await exported.attachments[0].read())
    sums = account_sums(rows)
    balances = await account_balances(world.bot.storage, world.guild.id)
    assert all(sums.get(account, 0) == balance for account, balance in balances.items())
    assert all(balances[account] == total for account, total in sums.items())
    assert {int(r["entry_id"]) for r in rows} == {e.id for e in await everything(world)}


async def test_the_filtered_export_holds_the_members_entries_only(simcord_env):
    world = await ready(simcord_env)
    await busy_day(world)

    audit = shown(await world.mod.slash(world.channel, "mod audit", member=world.alice))
    exported = shown(await world.mod.click(audit, label=EXPORT_LABEL))

    (attachment,) = exported.attachments
    assert attachment.filename == f"giftbot-ledger-{world.guild.id}-member-{world.alice.id}.csv"
    rows = read_csv(await attachment.read())
    assert {r["kind"] for r in rows} == {"grant", "revoke"}


async def test_someone_who_is_no_longer_a_moderator_cannot_export(simcord_env):
    world = await ready(simcord_env)
    helper = world.guild.add_member(simcord_env.create_user("helper"), roles=[world.admins])
    audit = shown(await helper.slash(world.channel, "mod audit"))
    world.guild.remove_member(helper)
    world.guild.add_member(helper.user)  # back, without the Admins role

    refused = shown(await helper.click(audit, label=EXPORT_LABEL))

    assert refused.ephemeral and refused.attachments == []
    assert refused.embeds[0].description.startswith("Only moderators")
    assert unexpected_errors(simcord_env) == []  # the refusal was shown, not swallowed


async def test_a_promotion_and_a_purchase_with_its_bonus_are_posted_with_their_entries(simcord_env):
    world = await ready(simcord_env)
    audit = await with_audit_channel(world)
    sku = await sell(world)
    await adult(world, world.alice)
    await world.mod.slash(world.channel, "mod promo create", percent=20, starts="now", ends="+2h")
    await world.alice.slash(world.channel, "store view")

    await simcord_env.grant_entitlement(sku, user=world.alice)

    by_title = {p.embeds[0].title: post_fields(p) for p in posts(world, audit)}
    promotion = by_title[EVENTS["promotion_created"][0]]
    assert (promotion["Moderator"], promotion["Amount"]) == (f"<@{world.mod.id}>", "20%")
    purchase = by_title[EVENTS["purchase"][0]]
    (entry,) = [e for e in await everything(world) if e.kind == EntryKind.PURCHASE]
    assert purchase["By"] == f"<@{world.alice.id}>" and purchase["Ledger entry"] == f"#{entry.id}"
    assert purchase["Amount"] == "🪙 465"  # 388 bought, and 20% more as promo coins
    assert all(pings(simcord_env, p).nobody for p in posts(world, audit))

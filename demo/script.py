"""The scripted evening in the Live Room, and the checks that make it a test.

A moderator makes two creators and grants promo coins; Alice sends a Rose combo and taps "Send
again" until the combo closes, Bob a Corgi, Alice a Galaxy (which asks for confirmation). Carol
sets her thank-you line; Bob tries a Lion he can't afford, sets a weekly budget and runs into it;
Carol thanks her top gifters in public; then a wallet and the leaderboards. Then the coin store:
the moderator sells a package as a Discord SKU, turns on the audit channel and cash-outs and runs
a promotion; Erin buys coins, gifts them to Carol, and Carol cashes out the paid diamonds once the
refund window has passed. The expected balances below are the script's own arithmetic.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from typing import TextIO

import discord
import simcord

from bot.app import create_bot
from bot.economy.cashouts import Cashout, CashoutStatus
from bot.economy.models import Currency
from bot.economy.purchases import Purchase, PurchaseStatus
from bot.settings import Settings
from bot.ui.errors import user_message_for

from .render import ARROW, button_line, utc, walk
from .session import DAY, DemoFailure, ErrorLogs, Picked, Room, Session, expect

DEFAULT_DB = Path("data/demo.sqlite3")
SHARE = 50  # percent of a gift's coins a creator receives as diamonds

GRANTS = {"alice": 5_000, "bob": 1_200}
ROSES = 15  # Alice → Carol, 1 coin each
AGAIN = 1  # then one more Rose with the combo's "Send again" button
CORGI = 299  # Bob → Dave
GALAXY = 1_000  # Alice → Dave; reaches the default confirmation threshold
LION = 29_999  # Bob can't afford it
BUDGET = 300  # Bob's weekly hard limit, set after the Corgi: 1 coin left
DOUGHNUT = 30  # Bob → Carol, past his budget
ROSE = 1  # Bob → Carol instead: fits exactly
THANKS = "💖 Thank you {sender} for {count} × {gift}!"
COMBO_WINDOW = 10  # seconds; the guild's default combo_window

# The coin store and a cash-out.
PACKAGE = (700, 100)  # coins + the package's own bonus: all 800 are paid coins
BOUGHT = sum(PACKAGE)
PROMOTION = 10  # percent extra, as promo coins
BONUS = BOUGHT * PROMOTION // 100
SWAN = 699  # Erin → Carol: spends the 80 promo coins first, then 619 paid ones
PAID_DIAMONDS = (SWAN - BONUS) * SHARE // 100  # Carol's cashable diamonds, after the window
CASHOUT_MINIMUM = 300
CASHOUT = 300
REFUND_WINDOW = 14  # days; the guild's default refund_window
REFERENCE = "Bank transfer LR-0116"


def diamonds(*gifts: int) -> int:
    """Diamonds a creator earns: each gift's share is rounded down on its own."""
    return sum(coins * SHARE // 100 for coins in gifts)


EXPECTED_COINS = {
    "alice": GRANTS["alice"] - ROSES - AGAIN - GALAXY,
    "bob": GRANTS["bob"] - CORGI - ROSE,
    "carol": 0,
    "dave": 0,
    "erin": BOUGHT + BONUS - SWAN,
}
EXPECTED_DIAMONDS = {
    "alice": 0,
    "bob": 0,
    "carol": diamonds(ROSES, AGAIN, ROSE, SWAN) - CASHOUT,
    "dave": diamonds(CORGI, GALAXY),
    "erin": 0,
}


def fresh_database(path: Path) -> None:
    """Start from nothing each run, so the demo is repeatable."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)


def demo_settings(db_path: Path) -> Settings:
    """Everything explicit: neither `.env` nor GIFTBOT_* variables change the demo."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=None,
        database_path=db_path,
        dev_guild_id=None,
        default_creator_share=SHARE,
        sync_commands=True,
    )


async def run_demo(db_path: Path = DEFAULT_DB, out: TextIO | None = None) -> int:
    """Play the session against a fresh database at `db_path`; 0 when everything went as scripted."""
    out = out or sys.stdout
    fresh_database(db_path)
    bot = create_bot(demo_settings(db_path))
    errors = ErrorLogs()
    logging.getLogger().addHandler(errors)
    try:
        async with simcord.run(bot) as env:
            room = Room.build(env)
            session = Session(room, out)
            await play(session)
            await check_books(session)
            unexpected = [e for e in env.errors if user_message_for(e) is None]
            expect(not unexpected, f"the bot raised: {unexpected!r}")
        expect(
            not errors.records, "the bot logged errors: " + "; ".join(r.getMessage() for r in errors.records)
        )
    except DemoFailure as failure:
        print(f"\nDEMO FAILED: {failure}", file=out)
        return 1
    except Exception:
        print("\nDEMO FAILED with an exception:\n" + traceback.format_exc(), file=out)
        return 1
    finally:
        logging.getLogger().removeHandler(errors)
        await bot.storage.close()
    print(f"\nThe database is at {db_path} (open it with: sqlite3 {db_path}).", file=out)
    return 0


async def play(session: Session) -> None:
    room = session.room
    alice, bob, carol, dave = room.alice, room.bob, room.carol, room.dave
    session.say("giftbot demo · the real bot inside SimCord, fully offline")
    session.say(
        f'Server "Live Room", channels #live and #audit (moderators only) · virtual clock starts '
        f"{utc(session.env.now())}"
    )
    members = ", ".join(session.who(member) for member in (alice, bob, carol, dave, room.erin))
    session.say(f"Members: {session.who(room.mod)} (Admins role: Manage Server), {members}")

    session.heading("1 · The moderator opens the room")
    for creator in (carol, dave):
        await make_creator(session, creator)
    await grant(session, alice, GRANTS["alice"], "Welcome to the Live Room")
    await grant(session, bob, GRANTS["bob"], "Thanks for hosting the watch party")

    session.heading("2 · Fans send gifts")
    await session.pause(60)
    await rose_combo(session)
    await session.pause(45)
    corgi = await session.slash(bob, "gift", creator=dave, gift="Corgi")
    expect(_public_title(corgi) == "🐕 Corgi x1", "the Corgi was not acknowledged in public")
    await session.pause(90)
    asked = await session.slash(alice, "gift", creator=dave, gift="Galaxy")
    expect(asked.ephemeral, "the 1,000-coin Galaxy did not ask Alice to confirm privately")
    expect(await coins(room, alice) == GRANTS["alice"] - ROSES - AGAIN, "coins moved before Alice confirmed")
    await session.pause(5)
    sent = await session.click(alice, asked, "Send it")
    expect(
        any(not f.ephemeral and f.embeds and f.embeds[0].title == "🌌 Galaxy x1" for f in sent.followups),
        "the confirmed Galaxy was not announced in public",
    )

    session.heading("3 · Carol words her thanks")
    await session.pause(30)
    require(session, carol, "creator thanks")
    line = await session.slash(carol, "creator thanks", template=THANKS)
    expect(line.ephemeral, "the thank-you preview was not private")

    session.heading("4 · Bob reaches too far")
    await session.pause(30)
    await lion(session)
    await session.pause(20)
    await budget(session)

    session.heading("5 · Wallets, thanks and the leaderboards")
    await session.pause(20)
    wallet = await session.slash(bob, "balance")
    expect(wallet.ephemeral, "/balance was not private")
    await session.pause(20)
    await leaderboard(session, alice)
    await session.pause(60)
    await announce(session)
    await session.pause(30)
    await creators_board(session)

    session.heading("6 · The coin store opens")
    await session.pause(60)
    sku_id = await open_store(session)

    session.heading("7 · Erin buys coins")
    await session.pause(60)
    purchase = await buy_coins(session, sku_id)

    session.heading("8 · Carol cashes out")
    await session.pause(60)
    await cash_out(session, purchase)


async def rose_combo(session: Session) -> None:
    """15 Roses, one more from the button, and the combo message's final state once it closes."""
    room = session.room
    roses = await session.slash(room.alice, "gift", creator=room.carol, gift="Rose", count=ROSES)
    expect(_public_title(roses) == f"🌹 Rose x{ROSES}", "the Rose combo was not acknowledged in public")
    assert roses.response is not None
    before = len(room.channel.history())
    await session.pause(3)
    tap = await session.click(room.alice, roses, "Send again")
    expect(
        tap.deferred and not _private_texts(tap) and len(room.channel.history()) == before,
        "the Send again tap posted a message instead of growing the combo",
    )
    session.note("(no reply, nothing new in #live: the Rose joins the open combo message)")
    expect(await coins(room, room.alice) == GRANTS["alice"] - ROSES - AGAIN, "the tap did not send a Rose")
    await session.later(COMBO_WINDOW + 1, "the combo window has closed")
    final = session.reshow(roses.response.id)
    title = final.embeds[0].title if final.embeds else None
    footer = (final.embeds[0].footer.text or "") if final.embeds else ""
    grown = f"🌹 Rose x{ROSES + AGAIN}"
    expect(title == grown, f"the combo message reads {title!r}, not {grown!r}")
    expect(footer.endswith("Combo finished"), f"the combo was not marked finished: {footer!r}")
    expect(not final.components, "the finished combo still offers Send again")


async def lion(session: Session) -> None:
    bob, carol = session.room.bob, session.room.carol
    result = await session.slash(bob, "gift", creator=carol, gift="Lion")
    if result.ephemeral and _has_button(result, "Send it"):
        # The price is checked when the coins move, so Bob gets as far as confirming.
        await session.pause(5)
        result = await session.click(bob, result, "Send it")
    refusal = " ".join(_private_texts(result))
    left = GRANTS["bob"] - CORGI
    expect(
        f"You need {LION:,} coins but have {left:,}" in refusal,
        f"Bob's Lion was not refused privately; he saw: {refusal!r}",
    )
    expect(await coins(session.room, bob) == left, "the refused Lion moved coins")


async def budget(session: Session) -> None:
    """A hard weekly limit: the Corgi already counts, so only a Rose still fits."""
    room = session.room
    bob, carol = room.bob, room.carol
    require(session, bob, "budget set")
    limit = await session.slash(bob, "budget set", limit=BUDGET, period="week", mode="hard")
    expect(limit.ephemeral, "/budget set was not private")
    await session.pause(15)
    doughnut = await session.slash(bob, "gift", creator=carol, gift="Doughnut")
    refusal = " ".join(_private_texts(doughnut))
    allowance = f"costs {DOUGHNUT:,} coins, but your weekly budget of {BUDGET:,} has {BUDGET - CORGI:,} left"
    expect(allowance in refusal, f"the Doughnut was not refused by Bob's budget; he saw: {refusal!r}")
    expect(await coins(room, bob) == GRANTS["bob"] - CORGI, "the refused Doughnut moved coins")
    await session.pause(10)
    rose = await session.slash(bob, "gift", creator=carol, gift="Rose")
    thanked = THANKS.format(sender="Bob", count=1, gift="Rose")
    expect(_public_title(rose) == "🌹 Rose x1", "Bob's Rose was not acknowledged in public")
    shown = session.names.text(_public_texts(rose))
    expect(thanked in shown, f"Carol's thank-you line is missing: {shown!r}")
    await session.pause(15)
    status = await session.slash(bob, "budget status")
    seen = session.names.text(" ".join(_private_texts(status)))
    expect(f"🪙 {BUDGET:,} of 🪙 {BUDGET:,} spent" in seen, f"/budget status shows {seen!r}")
    expect(
        status.response is not None and status.response.attachments, "/budget status has no spending chart"
    )


async def announce(session: Session) -> None:
    """Carol thanks her top gifters in public: exactly the listed gifters are pinged."""
    room = session.room
    require(session, room.carol, "creator announce")
    before = {m.id for m in room.channel.history()}
    await session.slash(room.carol, "creator announce", period="week", top=3)
    posted = [m for m in room.channel.history() if m.id not in before and not m.flags.ephemeral]
    expect(len(posted) == 1, f"expected one public announcement, found {len(posted)}")
    message = posted[0]
    pinged = session.pinged(message)
    session.note("🔔 pinged: " + ", ".join(pinged))
    expected = sorted(session.who(member) for member in (room.alice, room.bob))
    listed = sorted(session.names.user(user_id) for user_id in message.raw_mentions)
    expect(pinged == expected == listed, f"the announcement lists {listed} and pinged {pinged}")
    expect([a.filename for a in message.attachments] == ["top-gifters.png"], "the announcement has no card")


async def creators_board(session: Session) -> None:
    """The finale: creators ranked by coins received this week, and Carol's own rank in private."""
    room = session.room
    board = await session.slash(room.carol, "leaderboard", board="creators", period="week")
    expect(not board.ephemeral, "the creators' leaderboard was not public")
    public = session.names.text(_public_texts(board))
    dave_first = f"#1 Dave · 🪙 {CORGI + GALAXY:,}" in public
    expect(dave_first and "#2 Carol" in public, f"the creators' board reads {public!r}")
    received = ROSES + AGAIN + ROSE
    mine = " ".join(_private_texts(board))
    expect(f"You're #2 with 🪙 {received:,} received" in mine, f"Carol's own rank reads {mine!r}")


async def make_creator(session: Session, creator: simcord.MemberActor) -> None:
    mod = session.room.mod
    require(session, mod, "mod creator add")
    await session.slash(mod, "mod creator add", member=creator)


async def grant(session: Session, member: simcord.MemberActor, amount: int, reason: str) -> None:
    mod = session.room.mod
    require(session, mod, "mod grant")
    await session.slash(mod, "mod grant", member=member, coins=amount, reason=reason)
    expect(await coins(session.room, member) == amount, f"{session.who(member)} did not get {amount:,} coins")


async def leaderboard(session: Session, viewer: simcord.MemberActor) -> None:
    require(session, viewer, "leaderboard")
    board = await session.slash(viewer, "leaderboard", period="all")
    expect(not board.ephemeral, "the leaderboard was not public")
    texts = [
        f"{embed.title} {embed.description}"
        for reply in ([board.response] if board.response else []) + board.followups
        for embed in reply.embeds
    ]
    expect(any("all time" in text.lower() for text in texts), f"no all-time leaderboard in {texts!r}")


async def open_store(session: Session) -> int:
    """Mona sells the 700 + 100 package as the app's SKU, sets the audit channel, allows
    cash-outs (from 300 diamonds) and runs a +10% promotion. Returns the SKU's id."""
    room, mod = session.room, session.room.mod
    sku = session.env.create_sku(f"{BOUGHT} coins", type=discord.SKUType.consumable).snapshot()
    session.names.skus[sku.id] = sku.name
    session.say(f'(The app has a consumable SKU "{sku.name}" in Discord\'s developer portal.)')
    require(session, mod, "mod store map")
    package = await session.pick(mod, "mod store map", "package", "700 + 100", sku=str(sku.id))
    product = await session.pick(mod, "mod store map", "sku", sku.name, package=package.value)
    await session.slash(mod, "mod store map", package=package, sku=product)
    for key, label, value in (
        ("audit_channel", "Audit channel", Picked("#audit", f"<#{room.audit.id}>")),
        ("cashouts", "Diamond cash-outs", "on"),
        ("cashout_minimum", "Smallest cash-out (diamonds)", str(CASHOUT_MINIMUM)),
    ):
        await session.pause(10)
        await session.slash(mod, "config set", setting=Picked(label, key), value=value)
    await session.pause(10)
    require(session, mod, "mod promo create")
    await session.slash(mod, "mod promo create", percent=PROMOTION, starts="now", ends="in 3d")
    expect(await room.bot.coin_store.sells_coins(room.guild.id), "the store sells nothing after the mapping")
    return sku.id


async def buy_coins(session: Session, sku_id: int) -> Purchase:
    """Erin confirms her age, sees the package with its buy button, buys it in Discord's checkout
    (SimCord's entitlement), gets her receipt by DM and finds the coins in her wallet."""
    room, erin = session.room, session.room.erin
    shelf = await session.slash(erin, "store view")
    if _has_button(shelf, "I am 18 or older"):
        await session.pause(5)
        await session.click(erin, shelf, "I am 18 or older")
        shelf = await session.slash(erin, "store view")
    expect(_sells(shelf, sku_id), "/store view shows no buy button for the SKU")
    await session.pause(20)
    sku_name = session.names.skus[sku_id]
    session.say(f"{session.who(erin)} {ARROW} clicks [🛒 {sku_name}] and pays in Discord's checkout")
    bought = await session.env.grant_entitlement(sku_id, user=erin)
    expect(bought.snapshot().consumed, "the purchase was credited but its entitlement not consumed")
    receipt = session.dms(erin)
    expect(len(receipt) == 1, f"Erin got {len(receipt)} receipts by DM, not one")
    expect(not session.pinged(receipt[0]), "the receipt pinged someone")
    purchase = await room.bot.storage.purchase(entitlement_id=bought.id)
    expect(
        purchase is not None
        and purchase.status is PurchaseStatus.CREDITED
        and (purchase.guild_id, purchase.coins, purchase.bonus_coins) == (room.guild.id, BOUGHT, BONUS),
        f"the purchase was recorded as {purchase!r}",
    )
    assert purchase is not None
    session.note("(Discord delivers the same purchase event again: no second credit, no second receipt)")
    await bought.replay_create()
    expect(not session.dms(erin), "a second delivery of the purchase sent another receipt")
    again = await room.bot.storage.purchase(entitlement_id=bought.id)
    expect(again == purchase, "a second delivery of the purchase changed it")
    await session.pause(30)
    await session.slash(erin, "balance")
    held = await room.bot.storage.balances(guild_id=room.guild.id, user_id=erin.id)
    expect((held.paid_coins, held.promo_coins) == (BOUGHT, BONUS), f"Erin's wallet reads {held!r}")
    return purchase


async def cash_out(session: Session, purchase: Purchase) -> None:
    """Erin's Swan gives Carol paid diamonds, held for the refund window; then Carol asks to cash
    them out, Mona approves with a payment reference, Carol gets a DM, and #audit has it all."""
    room = session.room
    erin, carol, mod = room.erin, room.carol, room.mod
    swan = await session.slash(erin, "gift", creator=carol, gift="Swan")
    expect(_public_title(swan) == "🦢 Swan x1", "Erin's Swan was not acknowledged in public")
    await session.pause(30)
    await session.slash(carol, "balance")
    wallet = await room.bot.storage.balances(guild_id=room.guild.id, user_id=carol.id, at=session.env.now())
    expect(
        (wallet.paid_diamonds, wallet.held_diamonds) == (PAID_DIAMONDS, PAID_DIAMONDS),
        f"Carol's paid diamonds are not held: {wallet!r}",
    )
    await session.later((REFUND_WINDOW + 1) * DAY, "the refund window has passed")
    require(session, carol, "creator cashout")
    asked = await session.slash(carol, "creator cashout", diamonds=CASHOUT)
    if _has_button(asked, "I am 18 or older"):
        await session.pause(5)
        await session.click(carol, asked, "I am 18 or older")
        asked = await session.slash(carol, "creator cashout", diamonds=CASHOUT)
    expect(
        any(e.title == "Cash-out requested" for r in _replies(asked) for e in r.embeds),
        f"Carol's cash-out was not requested: {_private_texts(asked)!r}",
    )
    await session.pause(600)
    require(session, mod, "mod cashouts")
    listed = await session.slash(mod, "mod cashouts")
    await session.pause(30)
    opened = await session.click(mod, listed, "Approve #1", on=_replies(listed)[-1])
    await session.fill(mod, opened, {"text": REFERENCE})
    decided = await room.bot.storage.cashout(guild_id=room.guild.id, cashout_id=1)
    expect(
        decided is not None
        and (decided.status, decided.amount, decided.reference)
        == (CashoutStatus.APPROVED, CASHOUT, REFERENCE),
        f"the cash-out was recorded as {decided!r}",
    )
    assert decided is not None
    notices = session.dms(carol)
    expect(len(notices) == 1, f"Carol got {len(notices)} DMs about her cash-out, not one")
    expect(not session.pinged(notices[0]), "the cash-out notice pinged someone")
    await session.pause(5)
    await audit_posts(session, purchase, decided)


async def audit_posts(session: Session, purchase: Purchase, cashout: Cashout) -> None:
    """#audit, which only moderators see: one post per money decision since it was set, each
    naming the ledger entry it records, and pinging nobody."""
    posts = session.posts(session.room.audit, in_full=1)
    expected = [
        ("📣 Promotion created", None),
        ("🛒 Coins bought", purchase.entry_id),
        ("💎 Cash-out requested", cashout.request_entry_id),
        ("✅ Cash-out approved", cashout.decision_entry_id),
    ]
    found = [(m.embeds[0].title, _ledger_entry(m.embeds[0])) for m in posts if m.embeds]
    expect(found == expected, f"#audit holds {found}, expected {expected}")
    for message in posts:
        expect(not session.pinged(message), "an audit post pinged someone")


def _ledger_entry(embed: discord.Embed) -> int | None:
    """The entry id an audit post names in its "Ledger entry" field."""
    value = next((f.value for f in embed.fields if f.name == "Ledger entry"), None)
    return int(value.lstrip("#")) if value else None


def require(session: Session, actor: simcord.MemberActor, command: str) -> None:
    expect(
        session.has_command(actor, command),
        f"/{command} is not available to {session.who(actor)} (is its cog loaded?)",
    )


async def check_books(session: Session) -> None:
    """Balances are what the script's arithmetic says, and each currency sums to zero."""
    room = session.room
    session.heading("The books")
    actors = {"alice": room.alice, "bob": room.bob, "carol": room.carol, "dave": room.dave, "erin": room.erin}
    wallets = []
    for key, actor in actors.items():
        held = await room.bot.storage.balances(guild_id=room.guild.id, user_id=actor.id)
        wallets.append(f"{session.who(actor)} 🪙 {held.coins:,} 💎 {held.diamonds:,}")
        expect(
            (held.coins, held.diamonds) == (EXPECTED_COINS[key], EXPECTED_DIAMONDS[key]),
            f"{session.who(actor)} holds 🪙 {held.coins:,} 💎 {held.diamonds:,}, expected "
            f"🪙 {EXPECTED_COINS[key]:,} 💎 {EXPECTED_DIAMONDS[key]:,}",
        )
    session.say("Wallets: " + " · ".join(wallets))
    totals = await room.bot.storage.ledger_totals(guild_id=room.guild.id)
    sums = " · ".join(f"{currency.value}s {totals.sums.get(currency, 0):,}" for currency in Currency)
    expect(totals.balanced, f"the ledger does not balance: {sums}")
    expect(not await room.bot.storage.balance_mismatches(), "cached balances disagree with the ledger")
    session.say(f"Ledger totals: {sums} — every currency sums to zero ✓")


async def coins(room: Room, member: simcord.MemberActor) -> int:
    held = await room.bot.storage.balances(guild_id=room.guild.id, user_id=member.id)
    return held.coins


def _has_button(result: simcord.InteractionResult, label: str) -> bool:
    return (
        result.response is not None
        and button_line(result.response.components) is not None
        and any(component.get("label") == label for component in walk(result.response.components))
    )


def _sells(result: simcord.InteractionResult, sku_id: int) -> bool:
    """The reply carries a premium (buy) button for the SKU."""
    return any(
        component.get("style") == discord.ButtonStyle.premium.value
        and int(component.get("sku_id") or 0) == sku_id
        for reply in _replies(result)
        for component in walk(reply.components)
    )


def _replies(result: simcord.InteractionResult) -> list[simcord.ResponseMessage]:
    return ([result.response] if result.response is not None else []) + result.followups


def _private_texts(result: simcord.InteractionResult) -> list[str]:
    """Every ephemeral text the actor saw: content and embed descriptions."""
    replies = ([result.response] if result.response is not None else []) + result.followups
    return [
        text
        for reply in replies
        if reply.ephemeral
        for text in (reply.content, *(embed.description or "" for embed in reply.embeds))
        if text
    ]


def _public_texts(result: simcord.InteractionResult) -> str:
    """Every public embed's text in the result, markup included, as one string."""
    replies = ([result.response] if result.response is not None else []) + result.followups
    return "\n".join(
        "\n".join(part for part in (embed.title, embed.description, *(f.value for f in embed.fields)) if part)
        for reply in replies
        if not reply.ephemeral
        for embed in reply.embeds
    )


def _public_title(result: simcord.InteractionResult) -> str | None:
    if result.ephemeral or result.response is None or not result.response.embeds:
        return None
    return result.response.embeds[0].title


__all__ = ["DEFAULT_DB", "DemoFailure", "run_demo"]

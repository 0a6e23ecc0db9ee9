"""`make demo` is part of `make test`: the scripted session must play out exactly as written."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord

from demo import script
from demo.render import Names, Shown, message_lines
from demo.script import run_demo


async def play(tmp_path: Path, name: str = "demo.sqlite3") -> tuple[int, str]:
    out = io.StringIO()
    code = await run_demo(tmp_path / name, out)
    return code, out.getvalue()


async def test_the_scripted_session_succeeds_and_reads_like_a_chat(tmp_path):
    code, log = await play(tmp_path)
    assert code == 0, log
    lines = log.splitlines()

    assert "Mona the Mod ▸ /mod creator add member:Carol" in lines
    assert "Mona the Mod ▸ /mod grant member:Alice coins:5000 reason:Welcome to the Live Room" in lines
    # The Rose combo, acknowledged in public with readable names instead of <@id> mentions.
    rose = lines.index("Alice ▸ /gift creator:Carol gift:Rose count:15")
    assert lines[rose + 1] == "  giftbot ▸ 🌹 Rose x15"
    assert lines[rose + 2].strip() == "@Alice sent a gift to @Carol"
    # "Send again" adds one more to the open combo: no reply, and the message grows in place until
    # the combo window closes.
    tap = lines.index("Alice ▸ clicks [Send again]")
    assert lines[tap + 1].startswith("  (no reply")
    assert lines[tap + 2].startswith("⏱ 11 seconds later")
    assert lines[tap + 3] == "  giftbot ▸ (edited) 🌹 Rose x16"
    assert "Combo finished" in lines[tap + 6] and "[🔁 Send again]" not in lines[tap + 7]
    # The Galaxy asks first, privately, and is announced once confirmed.
    assert "  giftbot ▸ (only Alice sees this) Send this gift?" in lines
    assert "Alice ▸ clicks [Send it]" in lines
    assert "  giftbot ▸ 🌌 Galaxy x1" in lines
    # Bob's Lion is refused, privately.
    assert any(
        line.startswith("  giftbot ▸ (only Bob sees this) You need 29,999 coins but have 901.")
        for line in lines
    )
    # Carol's thank-you line: a private preview, then on the next gift she gets.
    assert "  giftbot ▸ (only Carol sees this) Thank-you line saved" in lines
    assert "            Preview: 💖 Thank you Sam for 5 × Rose!" in lines
    assert "            💬 Carol: 💖 Thank you Bob for 1 × Rose!" in lines
    # Bob's weekly budget: set privately, a gift past it refused with what is left, then the status.
    assert "Bob ▸ /budget set limit:300 period:week mode:hard" in lines
    assert "  giftbot ▸ (only Bob sees this) Spending limit set" in lines
    refused = "  giftbot ▸ (only Bob sees this) This gift costs 30 coins, but your weekly budget of 300"
    assert any(line.startswith(refused + " has 1 left.") for line in lines)
    status = lines.index("Bob ▸ /budget status")
    assert lines[status + 1] == "  giftbot ▸ (only Bob sees this) Your spending limit"
    assert lines[status + 2].strip() == "🪙 300 of 🪙 300 spent this week (100%), 🪙 0 left."
    assert lines[status + 3].strip() == "Resets 2026-01-05 00:00 UTC (in 4 days)."
    assert "            [image: budget.png]" in lines[status : status + 12]
    # Carol's announcement is public, pings exactly the gifters it lists, and carries its card.
    announce = lines.index("Carol ▸ /creator announce period:week top:3")
    post = lines.index(
        "  giftbot ▸ 🏆 Top gifters this week for Carol: @Alice, @Bob. Thank you for your gifts! 💝"
    )
    pinged = lines.index("  🔔 pinged: Alice, Bob")
    assert announce < post < pinged
    assert "            [image: top-gifters.png]" in lines[post:pinged]
    # The finale: creators ranked this week, and Carol's own rank privately.
    creators = lines.index("Carol ▸ /leaderboard board:creators period:week")
    assert lines[creators + 1] == "  giftbot ▸ 🏆 Leaderboard · creators (coins received) · this week"
    assert lines[creators + 3 : creators + 5] == [
        "            #1 Dave · 🪙 1,299",
        "            #2 Carol · 🪙 17",
    ]
    assert "  giftbot ▸ (only Carol sees this) You're #2 with 🪙 17 received this week." in lines
    # The leaderboard is public and ranks Alice first.
    board = lines.index("Alice ▸ /leaderboard period:all")
    assert lines[board + 1].startswith("  giftbot ▸ ") and "(only" not in lines[board + 1]
    assert "Leaderboard" in lines[board + 1]
    assert "Alice" in "\n".join(lines[board + 2 : board + 12])
    # The books, and where the database was left.
    assert "Ledger totals: coins 0 · diamonds 0 — every currency sums to zero ✓" in lines
    wallets = next(line for line in lines if line.startswith("Wallets: "))
    assert wallets.endswith("· Carol 🪙 0 💎 56 · Dave 🪙 0 💎 649 · Erin 🪙 181 💎 0")
    assert lines[-1].startswith("The database is at ")
    assert (tmp_path / "demo.sqlite3").exists()
    assert "<@" not in log and "<t:" not in log


async def test_the_store_scene_sells_coins_once_and_pays_a_cash_out_recorded_in_the_audit_channel(tmp_path):
    code, log = await play(tmp_path)
    assert code == 0, log
    lines = log.splitlines()

    # The moderator sells the 700 + 100 package as the app's SKU and runs a +10% promotion.
    assert any(
        line.startswith("Mona the Mod ▸ /mod store map package:700 + 100 bonus coins") for line in lines
    )
    assert "Mona the Mod ▸ /config set setting:Audit channel value:#audit" in lines
    assert "            Diamond cash-outs: off → on" in lines
    assert "Mona the Mod ▸ /mod promo create percent:10 starts:now ends:in 3d" in lines
    # Erin confirms her age once, then the store shows the package with its buy button.
    first, second = (i for i, line in enumerate(lines) if line == "Erin ▸ /store view")
    assert lines[first + 1] == "  giftbot ▸ (only Erin sees this) Please confirm your age"
    assert lines[second + 1] == "  giftbot ▸ (only Erin sees this) 🪙 Coin store"
    assert lines[second + 2].strip() == "1. 🪙 800 (700 + 100 bonus) · 🎉 +80 promotion bonus"
    assert "            [🛒 800 coins]" in lines[second : second + 8]
    # One receipt, by DM, naming the ledger entries; a second delivery changes nothing.
    receipt = lines.index("  giftbot ▸ (DM to Erin) 🧾 Receipt")
    assert [line.strip() for line in lines[receipt + 1 : receipt + 4]] == [
        "You bought 🪙 800 in Live Room: 700 + 100 bonus.",
        "🎉 Promotion +10%: 🪙 80 extra (promo coins).",
        "Ledger entry: #8 · bonus #9 · New balance: 🪙 880",
    ]
    assert log.count("🧾 Receipt") == 1
    wallet = lines.index("Erin ▸ /balance")
    assert lines[wallet + 2].strip() == "Coins: 🪙 880 · Diamonds: 💎 0 · Bought coins: 🪙 800"
    # The Swan spends Erin's promo coins first; Carol's paid diamonds wait out the refund window.
    held = lines.index("Carol ▸ /balance")
    assert "Paid diamonds: 💎 309" in lines[held + 2]
    assert "Held (refund window): 💎 309, next cashable in 15 days · Cashable: 💎 0" in lines[held + 3]
    assert lines[held + 5] == "⏱ 15 days later: the refund window has passed"
    # The cash-out: requested, approved with a reference, the creator told by DM, #audit posted.
    assert "  giftbot ▸ (only Carol sees this) Cash-out requested" in lines
    assert "Mona the Mod ▸ fills in “Approve cash-out #1”: Bank transfer LR-0116" in lines
    assert "  giftbot ▸ (only Mona the Mod sees this) Cash-out #1 approved" in lines
    assert "  giftbot ▸ (DM to Carol) 💎 Your cash-out was approved" in lines
    posted = lines.index("  giftbot ▸ (#audit) ✅ Cash-out approved")
    assert lines[posted - 1] == (
        "  (#audit, earlier: 📣 Promotion created · 🛒 Coins bought · 💎 Cash-out requested)"
    )
    assert lines[posted + 1].strip() == "Moderator: @Mona the Mod · Member: @Carol · Amount: 💎 300"
    assert lines[posted + 3].strip() == "Ledger entry: #12 · Cash-out: #1"

    # The database agrees: one purchase, credited once and consumed; the cash-out approved in the
    # entry #audit names; every currency sums to zero.
    with sqlite3.connect(tmp_path / "demo.sqlite3") as db:
        purchases = db.execute(
            "SELECT status, coins, bonus_coins, entry_id, bonus_entry_id, consumed_at IS NOT NULL "
            "FROM purchases"
        ).fetchall()
        kinds = dict(db.execute("SELECT kind, COUNT(*) FROM entries GROUP BY kind").fetchall())
        cashouts = db.execute("SELECT status, amount, reference, decision_entry_id FROM cashouts").fetchall()
        sums = db.execute("SELECT currency, SUM(balance) FROM accounts GROUP BY currency").fetchall()
    assert purchases == [("credited", 800, 80, 8, 9, 1)]
    assert (kinds["purchase"], kinds["purchase_bonus"]) == (1, 1)
    assert (kinds["cashout_request"], kinds["cashout_approve"]) == (1, 1)
    assert cashouts == [("approved", 300, "Bank transfer LR-0116", 12)]
    assert sorted(sums) == [("coin", 0), ("diamond", 0)]


async def test_a_second_run_starts_from_a_fresh_database_and_prints_the_same_log(tmp_path):
    first = await play(tmp_path)
    second = await play(tmp_path)
    assert first[0] == second[0] == 0
    assert first[1] == second[1]


async def test_a_session_that_goes_off_script_fails(tmp_path, monkeypatch):
    monkeypatch.setitem(script.EXPECTED_COINS, "alice", 1)
    code, log = await play(tmp_path)
    assert code == 1
    assert "DEMO FAILED: Alice holds 🪙 3,984" in log


def test_markup_becomes_plain_text():
    names = Names(users={1: "Alice"}, roles={2: "Admins"}, channels={3: "live"})
    moment = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    raw = f"**<@1>** pinged <@&2> in <#3> {discord.utils.format_dt(moment, 'R')} \\_ok\\_ `#1`"
    assert names.text(raw) == "@Alice pinged @Admins in #live 2026-01-01 00:05 UTC _ok_ #1"


def test_embeds_render_title_description_fields_and_footer():
    embed = discord.Embed(title="Your wallet", description="Hi <@1>")
    embed.add_field(name="Coins", value="🪙 5")
    embed.add_field(name="Top", value="#1 A\n#2 B")
    embed.set_footer(text="Footer")
    shown = Shown(id=1, content="", embeds=[embed], components=[], attachments=[], ephemeral=True)
    assert message_lines(shown, Names(users={1: "Alice"}), viewer="Alice") == [
        "  giftbot ▸ (only Alice sees this) Your wallet",
        "            Hi @Alice",
        "            Coins: 🪙 5",
        "            Top",
        "              #1 A",
        "              #2 B",
        "            — Footer",
    ]


def test_relative_times_read_against_the_virtual_clock_and_dates_read_as_dates():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    names = Names(channels={3: "live"}, now=lambda: now)
    monday = datetime(2026, 1, 5, tzinfo=UTC)
    raw = (
        f"resets {discord.utils.format_dt(monday, 'R')} on {discord.utils.format_dt(monday, 'D')}, "
        f"started {discord.utils.format_dt(now - timedelta(minutes=2), 'R')}: "
        "https://discord.com/channels/1/3/99"
    )
    assert names.text(raw) == "resets in 4 days on 2026-01-05, started 2 minutes ago: #live › message"


def test_short_inline_fields_share_a_row_and_an_embedded_attachment_is_one_image():
    embed = discord.Embed(title="Status")
    for name in ("A", "B", "C", "D"):
        embed.add_field(name=name, value="1")
    embed.add_field(name="Wide", value="2", inline=False)
    embed.set_image(url="attachment://chart.png")
    shown = Shown(id=1, content="", embeds=[embed], components=[], attachments=["chart.png"], ephemeral=False)
    assert message_lines(shown, Names()) == [
        "  giftbot ▸ Status",
        "            A: 1 · B: 1 · C: 1",
        "            D: 1",
        "            Wide: 2",
        "            [image: chart.png]",
    ]


def test_a_premium_button_reads_as_its_sku_and_a_dm_says_where_it_is():
    components = [{"type": 1, "components": [{"type": 2, "style": 6, "sku_id": "42"}]}]
    shown = Shown(id=1, content="Thanks!", embeds=[], components=components, attachments=[], ephemeral=False)
    assert message_lines(shown, Names(skus={42: "800 coins"}), place="DM to Erin") == [
        "  giftbot ▸ (DM to Erin) Thanks!",
        "            [🛒 800 coins]",
    ]
    assert message_lines(shown, Names())[1].strip() == "[🛒 SKU 42]"

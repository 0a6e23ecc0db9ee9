"""`make demo` is part of `make test`: the scripted session must play out exactly as written."""

from __future__ import annotations

import io
from datetime import UTC, datetime
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
    # The Galaxy asks first, privately, and is announced once confirmed.
    assert "  giftbot ▸ (only Alice sees this) Send this gift?" in lines
    assert "Alice ▸ clicks [Send it]" in lines
    assert "  giftbot ▸ 🌌 Galaxy x1" in lines
    # Bob's Lion is refused, privately.
    assert any(
        line.startswith("  giftbot ▸ (only Bob sees this) You need 29,999 coins but have 901.")
        for line in lines
    )
    # The leaderboard is public and ranks Alice first.
    board = lines.index("Alice ▸ /leaderboard period:all")
    assert lines[board + 1].startswith("  giftbot ▸ ") and "(only" not in lines[board + 1]
    assert "Leaderboard" in lines[board + 1]
    assert "Alice" in "\n".join(lines[board + 2 : board + 12])
    # The books, and where the database was left.
    assert "Ledger totals: coins 0 · diamonds 0 — every currency sums to zero ✓" in lines
    assert lines[-1].startswith("The database is at ")
    assert (tmp_path / "demo.sqlite3").exists()
    assert "<@" not in log and "<t:" not in log


async def test_a_second_run_starts_from_a_fresh_database_and_prints_the_same_log(tmp_path):
    first = await play(tmp_path)
    second = await play(tmp_path)
    assert first[0] == second[0] == 0
    assert first[1] == second[1]


async def test_a_session_that_goes_off_script_fails(tmp_path, monkeypatch):
    monkeypatch.setitem(script.EXPECTED_COINS, "alice", 1)
    code, log = await play(tmp_path)
    assert code == 1
    assert "DEMO FAILED: Alice holds 🪙 3,985" in log


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

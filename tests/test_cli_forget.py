"""`giftbot forget GUILD USER` as an operator meets it: a preview, a question, one transaction."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.economy.models import Board
from bot.economy.periods import Period
from storage import Storage
from storage.audit import audit_file
from storage.forget import FORGOTTEN_NAME
from tests.storage.books import ALICE, BOB, CAROL, GUILD, assert_books_balance, at, grant, send, with_creators

ROOT = Path(__file__).resolve().parents[1]


def forget_cli(database: Path, *args: str, answer: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bot forget …` in a subprocess, as a separate process next to a running bot."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIFTBOT_") and k != "DISCORD_TOKEN"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "bot", "forget", "--database", str(database), *args],
        cwd=database.parent,
        env=env,
        input=answer,
        stdin=subprocess.DEVNULL if answer is None else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def books(path: Path) -> Storage:
    store = Storage(path)
    await store.open()
    await with_creators(store, CAROL)
    await grant(store, ALICE, 100, key="g1")
    await grant(store, BOB, 100, key="g2")
    await send(store, ALICE, CAROL, "Rose", 10, key="gift-1", when=at(1))
    return store


async def test_forgetting_while_the_bot_runs_is_seen_by_the_bot_at_once(tmp_path):
    store = await books(tmp_path / "live.sqlite3")  # the "bot": its connection stays open
    try:
        # the bot keeps recording Bob's gifts while the operator runs the command
        gifting = asyncio.gather(
            *(send(store, BOB, CAROL, "Rose", 1, key=f"during-{i}", when=at(2 + i)) for i in range(20))
        )
        result, _ = await asyncio.gather(
            asyncio.to_thread(forget_cli, store.path, str(GUILD), str(ALICE), "--yes"), gifting
        )

        assert result.returncode == 0, result.stderr
        assert "Forgot member" in result.stdout and "tombstone -1" in result.stdout
        assert "gifts they sent" in result.stdout
        # the bot's own connection sees the result: Alice's wallet and ranks are the tombstone's
        assert (await store.balances(guild_id=GUILD, user_id=ALICE)).coins == 0
        assert (await store.balances(guild_id=GUILD, user_id=-1)).coins == 90
        assert (await store.balances(guild_id=GUILD, user_id=BOB)).coins == 80
        board, _ = await store.board_page(
            guild_id=GUILD, board=Board.GIFTERS, period=Period.ALL, period_start=0
        )
        assert [(r.user_id, r.name, r.score) for r in board] == [(BOB, "bob", 20), (-1, FORGOTTEN_NAME, 10)]
        await assert_books_balance(store)
        assert await store.rollup_mismatches() == []
        assert await store.counter_mismatches() == []
    finally:
        await store.close()
    assert audit_file(tmp_path / "live.sqlite3").ok


async def test_it_asks_first_and_no_changes_nothing(tmp_path):
    store = await books(tmp_path / "x.sqlite3")
    await store.close()

    refused = await asyncio.to_thread(forget_cli, store.path, str(GUILD), str(ALICE), answer="n\n")
    unanswered = await asyncio.to_thread(forget_cli, store.path, str(GUILD), str(ALICE))  # stdin closed

    for result in (refused, unanswered):
        assert result.returncode == 1, result.stderr
        assert "Rows to change" in result.stdout and "Forget this member? [y/N]" in result.stdout
        assert "cannot be undone" in result.stdout and result.stdout.rstrip().endswith("Nothing was changed.")
    store = Storage(store.path)
    await store.open()
    try:
        assert (await store.balances(guild_id=GUILD, user_id=ALICE)).coins == 90
    finally:
        await store.close()

    agreed = await asyncio.to_thread(forget_cli, store.path, str(GUILD), str(ALICE), answer="y\n")
    assert agreed.returncode == 0, agreed.stderr
    assert "Forgot member" in agreed.stdout


def test_nothing_stored_is_said_plainly(tmp_path, capsys):
    async def empty() -> None:
        store = Storage(tmp_path / "x.sqlite3")
        await store.open()
        await store.close()

    asyncio.run(empty())
    assert main(["forget", "--database", str(tmp_path / "x.sqlite3"), "1", "2", "--yes"]) == 0
    assert "nothing to do" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["1", "0"], "is not a member's id"),
        (["1", "-5"], "is not a member's id"),
        (["0", "5"], "is not a server's id"),
    ],
)
def test_ids_that_name_nobody_are_refused_with_exit_2(tmp_path, capsys, args, says):
    async def empty() -> None:
        store = Storage(tmp_path / "x.sqlite3")
        await store.open()
        await store.close()

    asyncio.run(empty())
    assert main(["forget", "--database", str(tmp_path / "x.sqlite3"), *args, "--yes"]) == 2
    assert says in capsys.readouterr().err


def test_a_missing_database_is_refused_without_creating_one(tmp_path, capsys):
    assert main(["forget", "--database", str(tmp_path / "none.sqlite3"), "1", "2", "--yes"]) == 2
    assert "there is no database" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite3").exists()

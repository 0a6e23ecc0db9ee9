"""The token never reaches a log: every record at DEBUG, and what the bot's own handler prints,
through a busy SimCord session and through a login Discord refuses.

caplog sees each record before the bot's redaction filter (which sits on the bot's handler), so
these tests prove the token is never logged at all, not merely that it is masked.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from collections.abc import Iterable, Iterator
from typing import ClassVar

import aiohttp
import pytest

import bot.cli
import bot.logging_setup
from bot.settings import Settings
from tests.sim import Community, fail_interaction_callbacks, unexpected_errors


def token_like() -> str:
    """A fresh token in Discord's shape: base64(user id) . base64(time) . HMAC, random each run."""
    user_id = str(secrets.randbelow(10**18) + 10**17).encode()
    first = base64.urlsafe_b64encode(user_id).decode().rstrip("=")
    return f"{first}.{secrets.token_urlsafe(5)[:6]}.{secrets.token_urlsafe(29)[:38]}"


TOKEN = token_like()
PARTS = TOKEN.split(".")


def leaks(text: str) -> list[str]:
    return [piece for piece in (TOKEN, *PARTS) if piece in text]


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    records = caplog.records
    return "\n".join(
        [caplog.text]
        + [record.getMessage() for record in records]
        + [record.exc_text or "" for record in records]
        + [repr(record.args) for record in records]
    )


@pytest.fixture
def settings(tmp_path) -> Settings:
    """The bot under test is configured with the token (tests/conftest.py's has none)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=TOKEN,
        database_path=tmp_path / "giftbot.sqlite3",
        log_level="DEBUG",
    )


@pytest.fixture
def bot_logging(caplog, monkeypatch) -> Iterator[None]:
    """The bot's own logging set-up, plus caplog at DEBUG on every logger (discord.http too)."""
    root, http = logging.getLogger(), logging.getLogger("discord.http")
    saved = root.handlers[:], root.level, http.level
    real_setup = bot.logging_setup.setup_logging

    def setup_and_keep_capturing(level: str, secrets: Iterable[str] = ()) -> None:
        real_setup(level, secrets)
        root.addHandler(caplog.handler)  # the set-up replaces root's handlers
        http.setLevel(logging.DEBUG)

    monkeypatch.setattr(bot.logging_setup, "setup_logging", setup_and_keep_capturing)
    caplog.set_level(logging.DEBUG)
    try:
        yield
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        http.setLevel(saved[2])


async def test_a_busy_session_never_logs_the_token(simcord_env, settings, bot_logging, caplog, capsys):
    bot.logging_setup.setup_logging("DEBUG", secrets=[TOKEN])
    assert simcord_env.bot.settings.discord_token.get_secret_value() == TOKEN
    world = Community.build(simcord_env)
    await world.make_creators()
    await world.mod.slash(world.channel, "mod grant", member=world.alice, coins=5_000, reason="welcome")
    for _ in range(3):
        await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Rose")
    await world.alice.slash(world.channel, "gift", creator=world.carol, gift="Lion")  # asks to confirm
    await world.bob.slash(world.channel, "gift", creator=world.carol, gift="Rose")  # refused: no coins
    await world.mod.slash(world.channel, "config set", setting="creator_share", value="60")
    await world.alice.slash(world.channel, "leaderboard")
    await world.alice.slash(world.channel, "history")
    fail_interaction_callbacks(simcord_env, status=500, times=1)  # Discord fails: warnings are logged
    await world.alice.slash(world.channel, "balance")
    await simcord_env.advance_time(60)
    unexpected_errors(simcord_env)

    logged = everything_logged(caplog)
    assert len(caplog.records) > 50  # DEBUG from discord.py and giftbot alike
    assert not leaks(logged)
    assert not leaks(capsys.readouterr().err)


def test_a_refused_login_says_so_in_one_line_and_never_logs_the_token(
    tmp_path, monkeypatch, bot_logging, caplog, capsys
):
    sent_headers: list[dict[str, str]] = []

    class Unauthorized:
        status, reason = 401, "Unauthorized"
        headers: ClassVar[dict[str, str]] = {"content-type": "application/json"}

        async def text(self, encoding: str = "utf-8") -> str:
            return '{"message": "401: Unauthorized", "code": 0}'

        async def __aenter__(self) -> Unauthorized:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

    def discord_says_no(
        session: aiohttp.ClientSession, method: str, url: str, **kwargs: object
    ) -> Unauthorized:
        sent_headers.append(dict(kwargs.get("headers") or {}))  # type: ignore[call-overload]
        return Unauthorized()

    monkeypatch.setattr(aiohttp.ClientSession, "request", discord_says_no)
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("GIFTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("GIFTBOT_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("GIFTBOT_DATABASE_PATH", str(tmp_path / "giftbot.sqlite3"))

    assert bot.cli.main(["run"]) == 2

    assert [h.get("Authorization") for h in sent_headers] == [f"Bot {TOKEN}"]  # the real login path ran
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("giftbot: Discord refused DISCORD_TOKEN")
    assert "Traceback" not in err
    assert any("logging in" in record.getMessage() for record in caplog.records)
    assert not leaks(everything_logged(caplog))
    assert not leaks(err)

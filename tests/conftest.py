"""Shared fixtures. SimCord end-to-end helpers live in tests/sim.py."""

from __future__ import annotations

import pytest
import pytest_asyncio
import simcord

from bot.app import create_bot
from bot.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings built in code: no environment, a fresh database under tmp_path."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=None,
        database_path=tmp_path / "giftbot.sqlite3",
    )


@pytest_asyncio.fixture
async def simcord_bot(settings):
    """The real bot for SimCord's `simcord_env` fixture; time comes from SimCord's clock.

    SimCord detaches the bot without closing it, so the database is closed here: an open
    aiosqlite connection keeps a thread alive and the test process would never exit.
    """
    bot = create_bot(settings)
    yield bot
    await bot.storage.close()


MESSAGE_CALLBACKS = {4, 7}  # CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE


def _message_bodies(env):
    """(method, path, body) of every request that creates or edits a message."""
    for entry in env.http_requests:
        body = entry.json if isinstance(entry.json, dict) else None
        if body is None:
            continue
        path = entry.path
        if path.startswith("/interactions/") and path.endswith("/callback"):
            if body.get("type") in MESSAGE_CALLBACKS and isinstance(body.get("data"), dict):
                yield entry.method, path, body["data"]
        elif path.startswith("/channels/") and "/messages" in path and entry.method in {"POST", "PATCH"}:
            if path.endswith("/messages") or entry.method == "PATCH":
                yield entry.method, path, body
        elif path.startswith("/webhooks/") and entry.method in {"POST", "PATCH"}:
            yield entry.method, path, body


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """User text never pings: every message the bot sent or edited in the test said whom it may
    ping. Checked after each SimCord test, on the request bodies Discord would have received."""
    result = yield
    for env in [value for value in item.funcargs.values() if isinstance(value, simcord.Env)]:
        careless = [
            (method, path)
            for method, path, body in _message_bodies(env)
            if ("content" in body or "embeds" in body) and "allowed_mentions" not in body
        ]
        assert not careless, f"messages sent without allowed_mentions: {careless[:5]}"
    return result

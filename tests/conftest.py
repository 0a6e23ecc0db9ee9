"""Shared fixtures. SimCord end-to-end helpers live in tests/sim.py."""

from __future__ import annotations

import pytest
import pytest_asyncio
import simcord

from bot.app import create_bot
from bot.settings import Settings
from tests import payloads


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


_started_envs: list[simcord.Env] = []
_env_start = simcord.Env.start


async def _tracked_start(self: simcord.Env, *args, **kwargs):
    _started_envs.append(self)
    return await _env_start(self, *args, **kwargs)


def pytest_configure(config):
    """Remember every SimCord Env a test starts, including those made outside fixtures (the demo
    runs its own), so their requests are checked too."""
    simcord.Env.start = _tracked_start  # type: ignore[method-assign]


def pytest_unconfigure(config):
    simcord.Env.start = _env_start  # type: ignore[method-assign]


def pytest_runtest_setup(item):
    _started_envs.clear()


def _envs(item) -> list[simcord.Env]:
    found = [value for value in item.funcargs.values() if isinstance(value, simcord.Env)]
    return found + [env for env in _started_envs if all(env is not seen for seen in found)]


def _invalid_payloads(env) -> list[str]:
    """What Discord would refuse among the requests the bot made (see tests/payloads.py)."""
    try:
        return [str(problem) for problem in payloads.check_requests(env.http_requests)]
    except payloads.SpecMissing:
        return []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After each SimCord test, on the request bodies Discord would have received:
    - user text never pings: every message the bot sent or edited said whom it may ping;
    - Discord would accept every request: its route is in Discord's OpenAPI spec and its body
      is valid there, within the limits the spec leaves out (tests/payloads.py)."""
    result = yield
    for env in _envs(item):
        careless = [
            (method, path)
            for method, path, body in _message_bodies(env)
            if ("content" in body or "embeds" in body) and "allowed_mentions" not in body
        ]
        assert not careless, f"messages sent without allowed_mentions: {careless[:5]}"
        invalid = _invalid_payloads(env)
        assert not invalid, f"{len(invalid)} request(s) Discord would refuse:\n" + "\n".join(invalid[:10])
    return result


def pytest_terminal_summary(terminalreporter):
    try:
        payloads.spec()
    except payloads.SpecMissing as missing:
        terminalreporter.write_line(f"discord payloads not validated: {missing}")
        return
    terminalreporter.write_line(payloads.TALLY.summary())

"""Shared fixtures. SimCord end-to-end helpers live in tests/sim.py."""

from __future__ import annotations

import pytest
import pytest_asyncio

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

"""The bot process collects young objects every 2,000 allocations (bot/gc_tuning.py)."""

from __future__ import annotations

import gc

import pytest

import bot.app
import bot.logging_setup
from bot.cli import main
from bot.gc_tuning import YOUNG_COLLECTION_EVERY, pace_collector


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 11, 12)
    yield
    gc.set_threshold(*before)


def test_pacing_changes_only_the_youngest_generation(thresholds):
    pace_collector()
    assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, 11, 12) == (2_000, 11, 12)


class Stop(Exception):
    """Raised in place of building the bot: the run has gone far enough."""


def test_giftbot_run_paces_the_collector_before_building_the_bot(thresholds, monkeypatch, tmp_path):
    seen = []

    def create_bot(settings):
        seen.append(gc.get_threshold())
        raise Stop

    monkeypatch.setenv("DISCORD_TOKEN", "not-a-real-token")
    monkeypatch.setenv("GIFTBOT_DATABASE_PATH", str(tmp_path / "giftbot.sqlite3"))
    monkeypatch.setattr(bot.app, "create_bot", create_bot)
    monkeypatch.setattr(bot.logging_setup, "setup_logging", lambda *args, **kwargs: None)
    with pytest.raises(Stop):
        main(["run"])
    assert seen == [(2_000, 11, 12)]

"""The rules every channel-posting outbox sender shares: references, nonces and when to retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import discord
import pytest

from bot.outbox_posts import MAX_ATTEMPTS, PERMANENT_ATTEMPTS, PermanentFailure, failure, nonce, reference

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)


def test_references_and_nonces_are_stable_short_and_apart_per_sender():
    assert reference("audit:entry:1") == reference("audit:entry:1") != reference("audit:entry:2")
    assert reference("audit:entry:1").startswith("ref ") and len(reference("x")) == 14
    assert len(nonce("ga", "audit:entry:1")) <= 25  # Discord's limit
    assert nonce("ga", "k") != nonce("gb", "k")  # an announcement and an audit post never collide


def _http(cls: type[discord.HTTPException], status: int) -> discord.HTTPException:
    return cls(SimpleNamespace(status=status, reason="x"), "no")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "permanent"),
    [
        (PermanentFailure("missing permissions in channel 5: Embed Links"), True),
        (_http(discord.Forbidden, 403), True),
        (_http(discord.NotFound, 404), True),
        (_http(discord.HTTPException, 503), False),
        (OSError("connection reset"), False),
    ],
)
def test_a_failure_is_retried_with_backoff_until_its_kinds_limit(exc, permanent):
    limit = PERMANENT_ATTEMPTS if permanent else MAX_ATTEMPTS
    first = failure(exc, 1, NOW)
    assert first.permanent is permanent
    assert first.retry_at == NOW + timedelta(minutes=1)
    assert failure(exc, 3, NOW).retry_at == (NOW + timedelta(minutes=4) if limit > 3 else None)
    assert failure(exc, limit - 1, NOW).retry_at is not None
    assert failure(exc, limit, NOW).retry_at is None  # given up


def test_the_recorded_error_says_what_went_wrong_without_a_traceback():
    assert failure(PermanentFailure("no channel"), 1, NOW).error == "no channel"
    assert failure(OSError("connection reset"), 1, NOW).error == "OSError: connection reset"

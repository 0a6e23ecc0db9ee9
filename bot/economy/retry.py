"""When to try again after a failed send: one rule for every outbox sender."""

from __future__ import annotations

from datetime import timedelta

MAX_DELAY = timedelta(hours=1)


def backoff(attempt: int) -> timedelta:
    """1, 2, 4, … minutes after the attempt that failed, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempt - 1, 0)), MAX_DELAY)

"""Waking a sleeping `tasks.loop` early, shared by the outbox senders (reminders, audit posts).

discord.ext.tasks schedules the next iteration at (this iteration's start + interval). An
interval measured from now would land in the past after a long sleep, and the loop would then
run back to back until it caught up, so the new interval is measured from the iteration's start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from discord.ext import tasks

MIN_SLEEP = 1.0  # seconds: never spin


def wake_by(loop: tasks.Loop[Any], *, started: datetime | None, in_pass: bool, moment: datetime) -> None:
    """Make `loop` run again no later than `moment`. Does nothing before its first iteration or
    during a pass (both look at the work when they run), or when it already wakes in time."""
    if started is None or in_pass or not loop.is_running():
        return
    upcoming = loop.next_iteration
    if upcoming is not None and upcoming <= moment:
        return
    loop.change_interval(seconds=max((moment - started).total_seconds(), MIN_SLEEP))

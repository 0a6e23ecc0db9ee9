"""The pass loop shared by the outbox senders (reminders, audit posts): one pass at a time on a
`tasks.loop` that sleeps until the pass says the next one is worth running, and can be woken early.

discord.ext.tasks schedules the next iteration at (this iteration's start + interval). An
interval measured from now would land in the past after a long sleep, and the loop would then
run back to back until it caught up, so the new interval is measured from the iteration's start.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from discord.ext import tasks

if TYPE_CHECKING:
    from bot.app import GiftBot

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


class PassLoop:
    """Runs `run_pass` once per wake. A failed pass is logged and retried after `tick`."""

    name = "giftbot-pass"
    tick = timedelta(minutes=1)
    log = logging.getLogger("giftbot")

    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot
        self._base: datetime | None = None  # when the loop's latest iteration started
        self._in_pass = False
        self.loop = tasks.loop(seconds=self.tick.total_seconds())(self._tick)
        self.loop.before_loop(self._before)

    async def run_pass(self) -> datetime:
        """Do the work that is due; return when the next pass is worth running."""
        raise NotImplementedError

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.cancel()

    def wake_by(self, moment: datetime) -> None:
        wake_by(self.loop, started=self._base, in_pass=self._in_pass, moment=moment)

    async def _before(self) -> None:
        await self.bot.wait_until_ready()  # then the first pass catches up on what was left over

    async def _tick(self) -> None:
        started = self._base = self.bot.now()
        self._in_pass = True
        try:
            # A task of its own that ends with the pass, so a test harness sees the work finish.
            upcoming = await asyncio.create_task(self.run_pass(), name=self.name)
        except Exception:  # never let one bad pass stop the loop; the next pass retries
            self.log.exception("%s failed", self.name)
            upcoming = started + self.tick
        finally:
            self._in_pass = False
        self.loop.change_interval(seconds=max((upcoming - started).total_seconds(), MIN_SLEEP))

"""Copying the write-ahead log back into the database file, off the writer's path.

In WAL mode a commit appends pages to the log; a checkpoint later copies them into the main
file and, with synchronous=NORMAL or FULL, waits for the disk twice (fsync). Left to SQLite, the
connection that commits runs the checkpoint right after its commit, every 1,000 pages: with
gifts landing all over a big database that is nearly every group commit, and the writer stalls
on the disk while every caller waits. Here a second connection runs it on a worker thread (the
other core) once EVERY operations have committed, and the writer's own checkpoint stays only as
a backstop, at BACKSTOP_PAGES, should this one ever fall behind.

Why 1,000 operations (about five busy batches) and not every batch: a page that several batches
changed is copied and synced once per checkpoint, not once per batch. Checkpointing after every
100 operations cost the headline load about a tenth of its throughput (docs/benchmarks.md,
Session 7). The log only starts over at a writer's BEGIN once every page in it has been copied,
which a busy writer, committing while this copies, seldom allows: under a sustained load the
backstop is what restarts it, so the `-wal` file peaks near BACKSTOP_PAGES (about 200 MB). A
smaller backstop means a copy inside the writer's commit more often: 10,000 pages cost about a
tenth of the throughput against 50,000.

Durability does not change: a commit is as durable as the `synchronous` setting makes it the
moment it returns, whoever checkpoints later. The task starts on demand and exits when there is
nothing left to copy, like the group-commit writer.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

BACKSTOP_PAGES = 50_000  # the writer's own wal_autocheckpoint: about 200 MB of log
BACKSTOP = "PRAGMA wal_autocheckpoint = 50000"  # (a constant: PRAGMAs take no bound values)
EVERY = 1_000  # committed operations between background checkpoints (see above)


class Checkpointer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._since = 0
        self._conn: sqlite3.Connection | None = None
        self.runs = 0

    def kick(self, operations: int = EVERY) -> None:
        """A batch of `operations` has committed: once EVERY of them have, copy the log back
        (once more after the copy under way, if one is). A quiet bot checkpoints rarely; a
        busy one every few batches."""
        self._since += operations
        if self._since < EVERY:
            return
        self._since = 0
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._again = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="giftbot-checkpoint")

    async def _run(self) -> None:
        try:
            while True:
                await asyncio.to_thread(self._checkpoint)
                self.runs += 1
                if not self._again:
                    return
                self._again = False
        except Exception:  # the writer's backstop checkpoint still runs; nothing is lost
            log.exception("background checkpoint of %s failed", self.path)
        finally:
            self._task = None

    def _checkpoint(self) -> None:
        # One run at a time (the task awaits each), so one connection serves every worker thread.
        if self._conn is None:
            # Its own synchronous setting stays SQLite's default: a checkpoint then syncs the log
            # and the file, as it does under both NORMAL and FULL.
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA busy_timeout = 5000")
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def close(self) -> None:
        """Wait for a copy under way, then let go of the connection."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

"""The SQLite connection: WAL, foreign keys, migrations, and whole units of work in one hop.

aiosqlite runs each statement as its own round trip to its worker thread. giftbot instead
sends a whole unit of work (a plain function of the sqlite3 connection) in a single hop, which
is what makes batching and group commit fast. `open` (the worker thread's daemon flag) and
`_run_in_thread` are the only places that rely on aiosqlite's internals; keep it that way so an
upgrade touches this file only.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

import aiosqlite

from .checkpointer import BACKSTOP, Checkpointer
from .group_commit import GroupCommitWriter
from .migrate import apply_migrations
from .writer_process import WriterProcess

T = TypeVar("T")
log = logging.getLogger(__name__)

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


def configure(conn: sqlite3.Connection, *, synchronous: Synchronous = "NORMAL") -> None:
    """Pragmas every giftbot connection uses."""
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB of pages: rollups and counters stay hot
    conn.execute("PRAGMA temp_store = MEMORY")


class Database:
    """One connection, one thread: reads in one hop each, writes through group commit."""

    def __init__(
        self, path: str | Path, *, synchronous: Synchronous = "NORMAL", writer_process: bool = True
    ) -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self._conn: aiosqlite.Connection | None = None
        on_disk = str(path) != ":memory:"
        # WAL checkpoints run beside the writer, not inside its commits (storage/checkpointer.py).
        self.checkpointer = Checkpointer(self.path) if on_disk else None
        after_commit = self.checkpointer.kick if self.checkpointer else None
        # Under load, batches of gifts are written by a second process (storage/writer_process.py).
        self.writer_process = (
            WriterProcess(self.path, synchronous)
            if on_disk and writer_process and os.name == "posix"
            else None
        )
        self.writer = GroupCommitWriter(
            self._run_in_thread, after_commit=after_commit, writer_process=self.writer_process
        )

    async def open(self) -> list[str]:
        """Connect, configure and migrate. Returns the migrations applied."""
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        pending = aiosqlite.connect(self.path, isolation_level=None)
        # A daemon worker: a connection someone forgot to close must not keep the process alive
        # (every commit is already durable, so nothing is lost if the interpreter exits).
        pending._thread.daemon = True
        self._conn = await pending
        try:
            await self._run_in_thread(lambda conn: configure(conn, synchronous=self.synchronous))
            if self.checkpointer is not None:
                await self._run_in_thread(lambda conn: conn.execute(BACKSTOP))
            applied = await self._run_in_thread(apply_migrations)
        except BaseException:
            # e.g. a database from a newer giftbot: close, or aiosqlite's thread keeps the process alive
            await self.close()
            raise
        if applied:
            log.info("database %s migrated: %s", self.path, ", ".join(applied))
        return applied

    async def close(self) -> None:
        if self._conn is None:
            return
        await self.writer.wait_idle()
        if self.writer_process is not None:
            await self.writer_process.close()
        if self.checkpointer is not None:
            await self.checkpointer.close()
        conn, self._conn = self._conn, None
        await conn.close()

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only function of the connection in one hop; it sees committed data."""
        return await self._run_in_thread(query)

    async def write(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run a write atomically, batched with its concurrent neighbours; returns once committed."""
        return await self.writer.submit(operation)

    async def _run_in_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            raise RuntimeError("the database is not open")
        raw = self._conn._conn  # aiosqlite's sqlite3 connection, used only on its own thread
        return await self._conn._execute(fn, raw)

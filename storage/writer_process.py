"""The writer process: it writes batches of gifts that the bot's process worked out ahead.

Within one CPython process, Python running anywhere delays the database thread by about as long
as it runs (the GIL; docs/benchmarks.md, Session 6). So under load group commit splits a batch
of gifts in two: the bot's process works out the rules on a snapshot (storage/plan_ahead.py)
and this child process writes the result, each in its own process with its own GIL. While the
child writes batch N, the bot works out batch N+1.

The child runs `storage.writer_process.main([FD, PATH, SYNCHRONOUS])` and talks over a socket
pair with `multiprocessing.connection` framing: it receives `(Held, carried)`, runs BEGIN
IMMEDIATE, writes the rows (storage/batch.write_held), COMMITs, and replies `("ok", None)`. It
replies `("stale", None)` when a batch planned from the one before's carry finds that another
connection wrote in between (`PRAGMA data_version`), and `("failed", text)` when a write fails
(a CHECK, a unique key): either way nothing of that batch was written. A reply is sent only
after COMMIT returned, so a caller hears of its gift only once it is as durable as the
`synchronous` setting makes it. The child exits when the socket closes, so it never outlives the
bot for long, even after a SIGKILL.

The bot starts the child on demand, when a batch big enough to gain from it queues, and stops it
after IDLE_SECONDS without work.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import socket
import sqlite3
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from .batch import Held, write_held
from .checkpointer import BACKSTOP

log = logging.getLogger(__name__)

IDLE_SECONDS = 30.0
# The child's command (not `-m`: the package's __init__ imports this module first). Ctrl-C
# reaches the whole process group; the child ignores it: the bot stops, and its socket with it.
_CHILD = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "from storage.writer_process import main; sys.exit(main(sys.argv[1:]))"
)
Reply = tuple[Literal["ok", "stale", "failed", "lost"], str | None]


class WriterProcess:
    """The bot's side: starts the child, sends it batches, and hears back."""

    def __init__(self, path: Path, synchronous: str) -> None:
        self.path = path
        self.synchronous = synchronous
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: Connection | None = None
        self._waiting: collections.deque[asyncio.Future[Reply]] = collections.deque()
        self._idle: asyncio.TimerHandle | None = None
        self.ready = False
        self._became_ready: asyncio.Event | None = None
        self._stopping: asyncio.Task[None] | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self._proc is not None

    def start(self) -> None:
        """Start the child; it is `ready` once it has opened the database."""
        if self._proc is not None:
            return
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(theirs.fileno()), str(self.path), self.synchronous],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        self._channel = Connection(ours.detach())
        loop.add_reader(self._channel.fileno(), self._readable)
        self.starts += 1
        self._touch()

    async def started(self) -> None:
        """Start the child if it is not running, and wait until it is ready (a warm-up)."""
        self.start()
        if not self.ready:
            self._became_ready = self._became_ready or asyncio.Event()
            await self._became_ready.wait()
        if not self.ready:
            raise RuntimeError("the writer process exited before it was ready")

    async def write(self, payload: bytes) -> Reply:
        """Have the child write and commit a plan's rows (`Plan.payload`: (Held, carried),
        pickled); its reply once it has."""
        if not self.ready or self._channel is None:
            return ("lost", None)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        try:
            self._channel.send_bytes(payload)
        except OSError:
            self._lost()
        self._touch()
        return await future

    def _readable(self) -> None:
        assert self._channel is not None
        try:
            reply = self._channel.recv()
        except (EOFError, OSError):
            self._lost()
            return
        if reply[0] == "ready":
            self.ready = True
            if self._became_ready is not None:
                self._became_ready.set()
            return
        if self._waiting:
            future = self._waiting.popleft()
            if not future.done():  # (cancelled, at a shutdown)
                future.set_result(reply)

    def _lost(self) -> None:
        """The child is gone: whatever it had not answered is unknown (its caller reruns it;
        the idempotency keys make a batch that did commit a replay)."""
        if self._proc is not None and not self._closing:
            log.warning("the writer process exited; group commit writes in-process until it restarts")
        self._forget_child()

    def _forget_child(self) -> None:
        if self._became_ready is not None:
            self._became_ready.set()  # (whoever waits in `started` finds it not ready)
        self.ready, self._became_ready = False, None
        if self._channel is not None:
            asyncio.get_running_loop().remove_reader(self._channel.fileno())
            self._channel.close()
        self._channel = None
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()  # only once it was asked to stop, or lost its socket
            proc.wait()
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_result(("lost", None))

    def _touch(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(IDLE_SECONDS, self._stop_if_idle)

    def _stop_if_idle(self) -> None:
        self._idle = None
        if self._proc is not None and not self._waiting:
            self._stop_soon()

    @property
    def _closing(self) -> bool:
        return self._stopping is not None and not self._stopping.done()

    async def close(self) -> None:
        """Stop the child: it finishes what it was sent, then exits (the caller has drained
        group commit). Waits for a stop already under way."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        while self._proc is not None:  # (a stop under way may be of a child since replaced)
            await self._stop_soon()

    def _stop_soon(self) -> asyncio.Task[None]:
        """The stop under way, or a new one."""
        if self._stopping is None or self._stopping.done():
            self._stopping = asyncio.get_running_loop().create_task(self._stop(), name="giftbot-writer-stop")
        return self._stopping

    async def _stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        self.ready = False
        if self._channel is not None:
            with contextlib.suppress(OSError):
                self._channel.send(None)
        try:
            await asyncio.to_thread(proc.wait, 5)
        except subprocess.TimeoutExpired:
            log.warning("the writer process did not stop in time; killing it")
        if self._proc is proc:
            self._forget_child()


# -- the child --------------------------------------------------------------------------------


class _Writer:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.version: int | None = None  # data_version as of this connection's last batch

    def write(self, held: Held, carried: bool) -> tuple[str, str | None]:
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            (version,) = conn.execute("PRAGMA data_version").fetchone()
            # It changes only when another connection commits: then a plan carried over from
            # the batch before may rest on what changed.
            if carried and version != self.version:
                conn.execute("ROLLBACK")
                self.version = version
                return ("stale", None)
            self.version = version
            write_held(conn, held)
            conn.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self.version = None
            return ("failed", f"{type(exc).__name__}: {exc}")
        return ("ok", None)


def serve(channel: Connection, path: str, synchronous: Any) -> None:
    """Write what arrives until the bot says stop (None) or is gone (the socket closed)."""
    from .database import configure  # here: database.py imports this module

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        configure(conn, synchronous=synchronous)
        conn.execute(BACKSTOP)
        writer = _Writer(conn)
        channel.send(("ready", None))
        while (message := channel.recv()) is not None:
            held, carried = message
            channel.send(writer.write(held, carried))
    except (EOFError, OSError):  # the bot is gone (a SIGKILL): what committed is durable
        return
    finally:
        conn.close()


def main(argv: list[str]) -> int:
    fd, path, synchronous = int(argv[0]), argv[1], argv[2]
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        return 2
    serve(Connection(fd), path, synchronous)
    return 0

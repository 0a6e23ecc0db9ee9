"""Online backups and restores of the database file, with SQLite's backup API.

A backup reads one consistent snapshot while the bot keeps writing: the source connection holds
a read transaction for the whole copy (in WAL mode a reader never blocks the writer), and the
pages are copied in steps with a pause between them, so the disk is shared with the bot. Files
appear under their final name only when complete (written under a temporary name, then renamed).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .audit import AuditReport, audit_file, open_read_only

PAGES_PER_STEP = 1024  # 4 MiB with the default 4 KiB pages
PAUSE_BETWEEN_STEPS = 0.005  # seconds
STALE_SIDECARS = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup or restore was refused; the message says why and nothing was changed."""


@dataclass(frozen=True, slots=True)
class Copied:
    path: Path
    pages: int
    steps: int


def backup(
    source: str | Path,
    target: str | Path,
    *,
    force: bool = False,
    pages_per_step: int = PAGES_PER_STEP,
    pause: float = PAUSE_BETWEEN_STEPS,
) -> Copied:
    """Copy the live database at `source` to `target`, which must not exist unless `force`."""
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; choose another name or pass --force to replace it")
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError("the backup cannot replace the database it copies")
    conn = open_read_only(source)
    try:
        return _copy_into(conn, target, pages_per_step=pages_per_step, pause=pause)
    finally:
        conn.close()


def restore(backup_path: str | Path, target: str | Path) -> AuditReport:
    """Put a checked backup in place of the database at `target`, which nothing may be using.

    The backup is audited first (an AuditReport with failures is returned and nothing changes).
    The target is locked exclusively while the copy is moved into place, so a bot cannot open
    it half way, and the old database's -wal/-shm files go with it: left behind, SQLite would
    replay the old WAL onto the restored file.
    """
    backup_path, target = Path(backup_path), Path(target)
    report = audit_file(backup_path)
    if not report.ok:
        return report
    if target.exists() and target.resolve() == backup_path.resolve():
        raise BackupError("the backup is already the database; nothing to restore")
    target.parent.mkdir(parents=True, exist_ok=True)
    conn = open_read_only(backup_path)
    try:
        staged = _copy_into(conn, _temporary(target), pages_per_step=-1, pause=0, publish=False)
    finally:
        conn.close()
    try:
        with _exclusive(target):
            os.replace(staged.path, target)
            _remove_sidecars(target)
            _sync_directory(target.parent)
        _remove_sidecars(target)  # the lock's own connection may leave an empty -wal on close
    finally:
        with contextlib.suppress(FileNotFoundError):
            staged.path.unlink()
    return report


def _temporary(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.partial")


def _copy_into(
    source: sqlite3.Connection, target: Path, *, pages_per_step: int, pause: float, publish: bool = True
) -> Copied:
    partial = _temporary(target) if publish else target
    _remove_with_sidecars(partial)
    steps: list[int] = []
    try:
        dest = sqlite3.connect(partial, isolation_level=None)
        try:
            source.execute("BEGIN")  # one snapshot for every step: concurrent commits don't restart it
            source.execute("SELECT COUNT(*) FROM main.sqlite_master").fetchone()
            source.backup(
                dest,
                pages=pages_per_step,
                progress=lambda _status, _remaining, total: steps.append(total),
                sleep=pause,
            )
            source.execute("ROLLBACK")
            pages = int(dest.execute("PRAGMA page_count").fetchone()[0])
            dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            dest.close()
        _fsync(partial)
        if publish:
            os.replace(partial, target)
            _sync_directory(target.parent)
    except BaseException:
        _remove_with_sidecars(partial)
        raise
    return Copied(target, pages, len(steps))


@contextlib.contextmanager
def _exclusive(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on `target` (if it exists), or refuse: some process has it open.

    In WAL mode every open connection, even an idle one, holds a shared lock on the -shm file,
    which an exclusive-locking-mode connection cannot get past; so this detects a running bot.
    """
    if not target.exists():
        yield
        return
    conn = sqlite3.connect(target, isolation_level=None, timeout=0)
    try:
        try:
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("SELECT COUNT(*) FROM main.sqlite_master").fetchone()
        except sqlite3.OperationalError as exc:
            raise BackupError(
                f"{target} is in use (is the bot running?); stop it before restoring ({exc})"
            ) from exc
        except sqlite3.DatabaseError:
            pass  # not a readable database: nothing can be using it as one, so it may be replaced
        yield
    finally:
        conn.close()


def _remove_sidecars(path: Path) -> None:
    for suffix in STALE_SIDECARS:
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()


def _remove_with_sidecars(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    _remove_sidecars(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_directory(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

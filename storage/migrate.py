"""Forward-only migrations: numbered .sql files tracked with PRAGMA user_version."""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .backfills import BACKFILLS

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


@cache
def migrations() -> tuple[Migration, ...]:
    """The packaged migrations in order; numbers must run 1, 2, 3… with no gaps."""
    folder = resources.files(__package__).joinpath("migrations")
    found = []
    for item in folder.iterdir():
        match = _NAME.match(item.name)
        if match:
            found.append(Migration(int(match.group(1)), item.name, item.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migration numbers must be consecutive; {migration.name} is out of place")
    return tuple(found)


def latest_version() -> int:
    return migrations()[-1].version if migrations() else 0


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def apply_migrations(conn: sqlite3.Connection, *, target: int | None = None) -> list[str]:
    """Bring the schema up to `target` (default: latest), one transaction per migration.

    Each migration carries its own backfill (in its SQL, or in backfills.py when it needs Python),
    run in the same transaction, so data written by the previous version comes along.
    Returns the names applied. A database newer than this code is refused, not downgraded.
    """
    target = latest_version() if target is None else target
    version = current_version(conn)
    if version > latest_version():
        raise RuntimeError(
            f"the database is at schema {version}, newer than this giftbot ({latest_version()}); "
            "upgrade giftbot instead of downgrading the database"
        )
    applied = []
    for migration in migrations():
        if migration.version <= version or migration.version > target:
            continue
        log.info("applying migration %s", migration.name)
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(migration.sql):
                conn.execute(statement)
            backfill = BACKFILLS.get(migration.version)
            if backfill is not None:
                backfill(conn)
            conn.execute(f"PRAGMA user_version = {migration.version:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(migration.name)
    return applied


def _statements(script: str) -> list[str]:
    """Split a script into statements, keeping trigger bodies whole."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer[:80]!r}")
    return statements

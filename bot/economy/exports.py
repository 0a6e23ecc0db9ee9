"""CSV exports of the ledger: a member's own entries (/history) and a guild's transfers (/mod audit).

Rows stream from a database cursor into the CSV, up to a row cap and a byte cap (what Discord
accepts as one attachment), so an export never holds the whole ledger in memory twice. A whole
server's ledger is added a chunk at a time (CsvBuilder), one database hop each, so writes go on
between the chunks. Reasons and references are user text: a cell a spreadsheet would read as a
formula is prefixed with `'`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .clock import from_millis

MAX_ROWS = 100_000
MAX_BYTES = 8 * 1024 * 1024  # under Discord's smallest upload limit, with room for the message

MEMBER_HEADER = (
    "entry_id",
    "time_utc",
    "kind",
    "actor_id",
    "reason",
    "coins",
    "diamonds",
    "pending_diamonds",
)
GUILD_HEADER = (
    "entry_id",
    "time_utc",
    "kind",
    "actor_id",
    "reason",
    "transfer_id",
    "currency",
    "amount",
    "debit_owner",
    "debit_account",
    "credit_owner",
    "credit_account",
)
TIME_COLUMN = 1  # the stored Unix milliseconds, written as ISO 8601 UTC

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Export:
    data: bytes
    rows: int
    """Data rows written (the header not counted)."""
    cut: bool
    """The ledger had more rows than fit: the export holds the newest `rows` of them."""


def safe_cell(value: object) -> object:
    """Numbers as they are; text that a spreadsheet would run as a formula, prefixed with `'`."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def iso_utc(millis: int) -> str:
    return from_millis(millis).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CsvBuilder:
    """A CSV built a run of rows at a time, so a long export can be read in several short hops:
    cut, like `write_csv`, at `max_rows` rows or `max_bytes` bytes."""

    def __init__(
        self, header: Sequence[str], *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES
    ) -> None:
        self._line = io.StringIO()
        self._writer = csv.writer(self._line, lineterminator="\r\n")
        self._writer.writerow(header)
        self._out = bytearray(self._line.getvalue().encode())
        self._max_rows, self._max_bytes = max_rows, max_bytes
        self.rows = 0
        self.cut = False

    def add(self, rows: Iterable[Sequence[object]]) -> bool:
        """Append rows (newest first, as given); False once a row did not fit, so the export is
        cut and wants no more."""
        line, writer = self._line, self._writer
        for row in rows:
            if self.rows >= self._max_rows:
                self.cut = True
                return False
            cells = [
                iso_utc(v) if i == TIME_COLUMN and isinstance(v, int) else safe_cell(v)
                for i, v in enumerate(row)
            ]
            line.seek(0)
            line.truncate()
            writer.writerow(["" if cell is None else cell for cell in cells])
            encoded = line.getvalue().encode()
            if len(self._out) + len(encoded) > self._max_bytes:
                self.cut = True
                return False
            self._out += encoded
            self.rows += 1
        return True

    def export(self) -> Export:
        return Export(bytes(self._out), self.rows, self.cut)


def write_csv(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
) -> Export:
    """The CSV of `rows` (newest first, as given), cut at `max_rows` rows or `max_bytes` bytes."""
    builder = CsvBuilder(header, max_rows=max_rows, max_bytes=max_bytes)
    builder.add(rows)
    return builder.export()

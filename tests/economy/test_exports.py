"""CSV exports: formula-like text is neutralised, numbers are not, and the caps cut cleanly."""

from __future__ import annotations

import csv
import io

import pytest

from bot.economy.exports import MEMBER_HEADER, CsvBuilder, safe_cell, write_csv

ROW = (7, 1_767_225_600_000, "grant", 42, "welcome", 100, 0, 0)


def parsed(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def test_text_a_spreadsheet_would_run_is_prefixed_and_numbers_are_not():
    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain")] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "plain",
    ]
    assert safe_cell(-15) == -15 and safe_cell(None) is None


def test_rows_are_written_with_a_header_and_iso_utc_times():
    export = write_csv(MEMBER_HEADER, [ROW, (8, 1_767_225_600_500, "revoke", 42, "=cmd|x", -5, 0, 0)])

    rows = parsed(export.data)
    assert rows[0] == list(MEMBER_HEADER)
    assert rows[1] == ["7", "2026-01-01T00:00:00.000Z", "grant", "42", "welcome", "100", "0", "0"]
    assert rows[2][4] == "'=cmd|x" and rows[2][5] == "-5"
    assert (export.rows, export.cut) == (2, False)


def test_a_row_cap_keeps_the_newest_rows_and_says_it_cut():
    export = write_csv(MEMBER_HEADER, iter([ROW] * 5), max_rows=3)
    assert (export.rows, export.cut, len(parsed(export.data))) == (3, True, 4)


def test_a_byte_cap_never_splits_a_row():
    header_only = len(write_csv(MEMBER_HEADER, []).data)
    one_row = len(write_csv(MEMBER_HEADER, [ROW]).data) - header_only
    export = write_csv(MEMBER_HEADER, [ROW] * 10, max_bytes=header_only + 2 * one_row + 1)
    assert (export.rows, export.cut) == (2, True)
    assert len(parsed(export.data)) == 3


def test_empty_cells_stay_empty():
    export = write_csv(MEMBER_HEADER, [(1, 0, "cashout_request", 3, None, 0, -10, 10)])
    assert parsed(export.data)[1][4] == ""


@pytest.mark.parametrize("caps", [{}, {"max_rows": 4}, {"max_rows": 6}, {"max_bytes": 300}])
def test_a_csv_built_in_runs_is_the_csv_written_at_once(caps):
    """An export read in chunks (a whole server's ledger) cuts exactly where one read would."""
    rows = [(i, 1_767_225_600_000 + i, "grant", 42, f"r{i}", i, 0, 0) for i in range(1, 10)]
    builder = CsvBuilder(MEMBER_HEADER, **caps)
    wanted = [builder.add(rows[start : start + 2]) for start in range(0, len(rows), 2)]

    assert builder.export() == write_csv(MEMBER_HEADER, rows, **caps)
    assert (False in wanted) == builder.export().cut  # a cut export asks for no more

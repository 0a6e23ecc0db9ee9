"""The sentence sent with an export says plainly when older rows were left out."""

from __future__ import annotations

from bot.economy.exports import Export
from bot.ui.export import export_note


def test_a_complete_export_counts_its_rows():
    assert (
        export_note(Export(b"", 1, False), "Your history")
        == "📄 Your history: 1 row, newest first. Times are UTC."
    )


def test_a_cut_export_says_older_rows_were_left_out():
    note = export_note(Export(b"", 100_000, True), "The ledger")
    assert (
        note.startswith("📄 The ledger: the newest 100,000 rows only") and "older rows were left out" in note
    )

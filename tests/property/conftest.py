"""Print what the stateful economy fuzz ran in pytest's terminal summary (so `make test` shows it)."""

from __future__ import annotations

import pytest

from tests.property.stats import ECONOMY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ECONOMY.steps:
        return
    busiest = ", ".join(f"{name} {count:,}" for name, count in ECONOMY.rules.most_common())
    terminalreporter.write_line(
        f"economy fuzz: {ECONOMY.steps:,} random steps in {ECONOMY.runs} hypothesis runs "
        f"({ECONOMY.refusals:,} refusals that changed nothing) in {ECONOMY.seconds:.0f} s; "
        f"every invariant checked after each step ({busiest}); "
        f"{ECONOMY.planned:,} batches of gifts worked out ahead and written by the writer process"
    )

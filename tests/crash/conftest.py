"""Print the crash test's figures in pytest's terminal summary (so `make test` shows them)."""

from __future__ import annotations

import pytest

from tests.crash import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    figures = config.stash.get(FIGURES, None)
    if not figures:
        return
    terminalreporter.write_line(
        f"crash safety: {figures['kills']:.0f} SIGKILLs survived in {figures['seconds']:.0f} s; "
        f"{figures['done']:,.0f} gifts reported done, each in the ledger exactly once; "
        f"{figures['replays']:,.0f} re-sent after a restart and recognised as replays; "
        f"`giftbot check` passed {figures['checks']:.0f} times"
    )

"""Crash safety: a real process doing concurrent gifts, killed with SIGKILL again and again."""

from __future__ import annotations

import pytest

# The crash test's figures, printed by tests/crash/conftest.py at the end of the run.
FIGURES = pytest.StashKey[dict[str, float]]()

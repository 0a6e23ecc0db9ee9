"""What the stateful fuzz ran, for the terminal summary (tests/property/conftest.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FuzzStats:
    steps: int = 0
    runs: int = 0
    seconds: float = 0.0
    rules: Counter[str] = field(default_factory=Counter)
    refusals: int = 0
    machines: int = 0
    planned: int = 0  # batches the writer process committed (every PLANNED_EVERY-th machine)


ECONOMY = FuzzStats()

"""Small numeric helpers: percentiles and a ticking clock."""

from __future__ import annotations

import math
from datetime import datetime, timedelta


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


class TickingClock:
    """giftbot's injected `now`: starts at a fixed moment and moves 1 ms per call, so every
    gift has its own time and a run is repeatable."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._ticks = 0

    def __call__(self) -> datetime:
        self._ticks += 1
        return self._start + timedelta(milliseconds=self._ticks)

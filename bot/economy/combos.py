"""Combos, as TikTok's streaks: the same sender sending the same gift to the same creator in
the same channel within the combo window grows one count ("Rose x15") instead of a new post.

Pure bookkeeping with no I/O: the Discord side decides how and when to show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class ComboKey:
    guild_id: int
    channel_id: int
    sender_id: int
    creator_id: int
    gift_id: int


@dataclass(slots=True)
class Combo:
    key: ComboKey
    window: timedelta
    started_at: datetime
    last_at: datetime
    count: int = 0
    coins: int = 0
    diamonds: int = 0
    entry_ids: set[int] = field(default_factory=set)
    shown_count: int = 0
    """The count the public message shows; it lags `count` while edits are coalesced."""
    message: Any = None
    """Whatever the Discord side needs to edit the acknowledgement (opaque here)."""
    closed: bool = False

    @property
    def closes_at(self) -> datetime:
        return self.last_at + self.window

    @property
    def dirty(self) -> bool:
        return self.count != self.shown_count


@dataclass(frozen=True, slots=True)
class ComboUpdate:
    combo: Combo
    started: bool
    """True when this gift opened a new combo (so it needs a message of its own)."""
    counted: bool
    """False when this ledger entry was already counted (a redelivery): nothing changes."""


class ComboBook:
    """Open combos by key. Each ledger entry is counted at most once."""

    def __init__(self) -> None:
        self._open: dict[ComboKey, Combo] = {}

    def add(
        self,
        key: ComboKey,
        *,
        entry_id: int,
        count: int,
        coins: int,
        diamonds: int,
        at: datetime,
        window: timedelta,
    ) -> ComboUpdate:
        combo = self._open.get(key)
        if combo is not None and entry_id in combo.entry_ids:
            return ComboUpdate(combo, started=False, counted=False)
        if combo is None or combo.closed or at >= combo.closes_at:
            combo = Combo(key=key, window=window, started_at=at, last_at=at)
            self._open[key] = combo
            started = True
        else:
            started = False
        combo.entry_ids.add(entry_id)
        combo.count += count
        combo.coins += coins
        combo.diamonds += diamonds
        combo.last_at = max(combo.last_at, at)
        return ComboUpdate(combo, started=started, counted=True)

    def close_expired(self, now: datetime) -> list[Combo]:
        """Close and forget every combo whose window has passed; their totals are final."""
        done = [combo for combo in self._open.values() if now >= combo.closes_at]
        for combo in done:
            combo.closed = True
            del self._open[combo.key]
        return done

    def open_combos(self) -> list[Combo]:
        return list(self._open.values())

    def next_close(self) -> datetime | None:
        return min((combo.closes_at for combo in self._open.values()), default=None)

    def __len__(self) -> int:
        return len(self._open)

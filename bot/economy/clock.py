"""The one source of "now".

Every rule and query takes time from a `Now` passed in, never from the system clock, so tests
(and SimCord's virtual clock) decide what time it is. The bot wiring supplies
`discord.utils.utcnow` by default.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Now = Callable[[], datetime]


def to_millis(moment: datetime) -> int:
    """An aware datetime as integer Unix milliseconds, the form stored in SQL."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
    return int(moment.timestamp() * 1000)


def from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)

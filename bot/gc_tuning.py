"""How often the garbage collector looks at young objects, in a bot process.

CPython collects its youngest generation after every 700 net allocations of container objects.
A batch of gifts allocates tens of thousands of short-lived tuples and lists while its rows are
built, and keeps a few large dicts and lists alive until it commits, so the collector walked
those again and again: 10-14 µs a gift of the database thread's time, against about 0.3 µs when
it runs every 10,000 allocations (docs/benchmarks.md, session 5). Nothing giftbot keeps relies
on a collection to be freed promptly: reference counting frees everything but cycles.
"""

from __future__ import annotations

import gc

YOUNG_COLLECTION_EVERY = 10_000  # net container allocations (CPython's default: 700)


def pace_collector() -> None:
    """Collect the youngest generation less often; the older generations keep their pace."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, oldest)

"""How often the garbage collector looks at young objects, in a bot process.

CPython collects its youngest generation after every 700 net allocations of container objects.
Under a load of gifts that meant 133 young collections per 20,000 gifts, each taking about a
millisecond while a batch's rows were alive: 6-14 µs a gift, depending on the hour.
Every 2,000 allocations, it is about 30 collections and 0.3 µs a gift. Much less often costs
the commands' tail instead: at 10,000, each collection is big enough to double the p99 of
/gift and /balance (docs/benchmarks.md, session 5). Nothing giftbot keeps relies on prompt
collection: reference counting frees everything but cycles.
"""

from __future__ import annotations

import gc

YOUNG_COLLECTION_EVERY = 2_000  # net container allocations (CPython's default: 700)


def pace_collector() -> None:
    """Collect the youngest generation less often; the older generations keep their pace."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, oldest)

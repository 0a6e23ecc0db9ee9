"""Everything that touches the database: SQL, migrations and transactions.

Callers use `Storage`, whose methods take plain ids as keyword arguments and return domain
objects from `bot.economy.models`. No other package writes SQL.
"""

from .store import Storage

__all__ = ["Storage"]

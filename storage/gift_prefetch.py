"""Everything a run of gifts will read, read for all of them at once.

Before group commit runs gifts (storage/money_ops.send_gift) one after another in a batch, it
hands their keyword arguments here. A few set-based SELECTs fill the batch's lookups (see
storage/batch.py) with what each gift would otherwise read itself: which idempotency keys
exist, the senders' wallets, preferences and budgets, their spend counters, catalogue rows,
creator flags, creators' diamond accounts, the guild's timezone and system accounts, and both
parties' stored names (so an unchanged name is not even sent to SQLite). The id
lists travel as one JSON parameter (json_each), so no statement is built from strings and no
list ever meets SQLite's limit on bound variables.

The prefetch only reads, and only fills what it read: a gift finds anything it did not cover
through its own lookup, so a skipped call (odd arguments) or a failed prefetch costs speed,
never correctness.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

from bot.economy.budget import Budget, SpendPolicy
from bot.economy.clock import from_millis
from bot.economy.models import GiftItem

from . import budget_ops, ledger, rollups
from .batch import Batch, Wallet
from .catalogue_ops import gift_from_row

log = logging.getLogger(__name__)
_NO_POLICY = SpendPolicy()

_ENTRIES = (
    "SELECT e.idempotency_key, e.id, e.kind FROM json_each(?) j "
    "CROSS JOIN entries e ON e.idempotency_key = j.value"
)
_GIFTS = (
    "SELECT c.id, c.guild_id, c.name, c.emoji, c.price, c.enabled, c.comboable FROM json_each(?2) j "
    "CROSS JOIN catalogue c ON c.id = j.value AND c.guild_id = ?1"
)
# One row per creator: whether they are one, their diamond accounts and their stored name.
_CREATORS = (
    "SELECT j.value, c.user_id IS NOT NULL, dp.id, dq.id, n.name FROM json_each(?2) j "
    "LEFT JOIN creators c ON c.guild_id = ?1 AND c.user_id = j.value "
    "LEFT JOIN accounts dp ON dp.guild_id = ?1 AND dp.owner_id = j.value AND dp.code = 'diamonds_promo' "
    "LEFT JOIN accounts dq ON dq.guild_id = ?1 AND dq.owner_id = j.value AND dq.code = 'diamonds_paid' "
    "LEFT JOIN member_names n ON n.guild_id = ?1 AND n.user_id = j.value"
)
# One row per sender: wallet, the columns of budget_ops.spending_rules (prefs, budget), then
# their stored name.
_SENDERS = (
    "SELECT j.value, promo.id, promo.balance, paid.id, paid.balance, "
    "p.user_id, p.timezone, p.weekly_digest, p.low_balance_below, p.age_confirmed_at, "
    "b.user_id, b.limit_coins, b.period, b.mode, b.pending_limit, b.pending_period, b.pending_mode, "
    "b.pending_clear, b.pending_from, b.thresholds, n.name "
    "FROM json_each(?2) j "
    "LEFT JOIN accounts promo ON promo.guild_id = ?1 AND promo.owner_id = j.value "
    "AND promo.code = 'coins_promo' "
    "LEFT JOIN accounts paid ON paid.guild_id = ?1 AND paid.owner_id = j.value AND paid.code = 'coins_paid' "
    "LEFT JOIN member_prefs p ON p.guild_id = ?1 AND p.user_id = j.value "
    "LEFT JOIN budgets b ON b.guild_id = ?1 AND b.user_id = j.value "
    "LEFT JOIN member_names n ON n.guild_id = ?1 AND n.user_id = j.value"
)
# [member, period, period start] triples.
_COUNTERS = (
    "SELECT s.user_id, s.period, s.period_start, s.spent FROM json_each(?2) j "
    "CROSS JOIN spend_counters s ON s.guild_id = ?1 AND s.user_id = json_extract(j.value, '$[0]') "
    "AND s.period = json_extract(j.value, '$[1]') AND s.period_start = json_extract(j.value, '$[2]')"
)
_WALLET = (
    "SELECT code, id, balance FROM accounts WHERE guild_id = ? AND owner_id = ? "
    "AND code IN ('coins_promo', 'coins_paid')"
)


# -- one at a time (what a gift reads when the prefetch did not) ----------------------------


def entry(conn: sqlite3.Connection, key: str) -> tuple[int, str] | None:
    """(id, kind) of the entry written under `key`, if any."""
    row = conn.execute("SELECT id, kind FROM entries WHERE idempotency_key = ?", (key,)).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def wallet(conn: sqlite3.Connection, batch: Batch, guild_id: int, user_id: int) -> Wallet:
    """The member's coins as this batch sees them (read once, then kept current by its gifts)."""
    found = batch.wallets.get((guild_id, user_id))
    if found is None:
        accounts = {
            code: (account, balance) for code, account, balance in conn.execute(_WALLET, (guild_id, user_id))
        }
        promo = accounts.get("coins_promo")
        paid = accounts.get("coins_paid")
        found = _wallet(
            batch,
            None if promo is None else promo[0],
            None if promo is None else promo[1],
            None if paid is None else paid[0],
            None if paid is None else paid[1],
        )
        batch.wallets[(guild_id, user_id)] = found
    return found


def _wallet(
    batch: Batch, promo_id: int | None, promo: int | None, paid_id: int | None, paid: int | None
) -> Wallet:
    held = batch.balances  # debits of the batch not written yet (none, as a rule, when this runs)
    return (
        promo_id,
        0 if promo_id is None else int(promo or 0) + held.get(promo_id, 0),
        paid_id,
        0 if paid_id is None else int(paid or 0) + held.get(paid_id, 0),
    )


# -- a run of gifts at once -----------------------------------------------------------------


def prefetch(conn: sqlite3.Connection, batch: Batch, calls: list[dict[str, Any]]) -> None:
    """Fill the batch's lookups for these send_gift calls (their keyword arguments)."""
    try:
        _prefetch(conn, batch, [call for call in calls if _plain(call)])
    except Exception:  # a bug here must not fail the gifts: each reads what it needs itself
        log.exception("prefetching a batch of gifts failed; each gift reads its own rows")


def _plain(call: dict[str, Any]) -> bool:
    """Arguments of the types the JSON lists carry exactly; anything else reads on its own."""
    return (
        type(call.get("guild_id")) is int
        and type(call.get("sender_id")) is int
        and type(call.get("creator_id")) is int
        and type(call.get("gift_id")) is int
        and type(call.get("at_ms")) is int
        and type(call.get("key")) is str
        and isinstance(call.get("policy") or _NO_POLICY, SpendPolicy)
    )


def _prefetch(conn: sqlite3.Connection, batch: Batch, calls: list[dict[str, Any]]) -> None:
    batch.read_entry_ids()
    known = batch.known
    keys = [c["key"] for c in calls if c["key"] not in batch.keys and ("entry", c["key"]) not in known]
    if keys:
        entries: dict[str, tuple[int, str] | None] = dict.fromkeys(keys)
        for key, entry_id, kind in conn.execute(_ENTRIES, (json.dumps(keys),)):
            entries[key] = (entry_id, kind)
        for key, found in entries.items():  # only once all were read: a failure leaves them unread
            known[("entry", key)] = found
    by_guild: dict[int, list[dict[str, Any]]] = {}
    for call in calls:
        by_guild.setdefault(call["guild_id"], []).append(call)
    for guild_id, guild_calls in by_guild.items():
        _guild(conn, batch, guild_id, guild_calls)


def _guild(conn: sqlite3.Connection, batch: Batch, guild_id: int, calls: list[dict[str, Any]]) -> None:
    known = batch.known
    if ("timezone", guild_id) not in known:
        known[("timezone", guild_id)] = rollups.guild_timezone(conn, guild_id)
    if ("system", guild_id) not in known:
        known[("system", guild_id)] = ledger.system_accounts(conn, guild_id)

    gift_ids = list({c["gift_id"] for c in calls if ("gift", guild_id, c["gift_id"]) not in known})
    if gift_ids:
        found: dict[int, GiftItem | None] = dict.fromkeys(gift_ids)
        for row in conn.execute(_GIFTS, (guild_id, json.dumps(gift_ids))):
            found[row[0]] = gift_from_row(row)
        for gift_id, gift in found.items():
            known[("gift", guild_id, gift_id)] = gift

    creators = list({c["creator_id"] for c in calls if ("creator", guild_id, c["creator_id"]) not in known})
    if creators:
        for creator_id, is_creator, promo, paid, name in conn.execute(
            _CREATORS, (guild_id, json.dumps(creators))
        ):
            known[("creator", guild_id, creator_id)] = bool(is_creator)
            if name is not None:
                batch.stored_name(guild_id, creator_id, name)
            if promo is not None:
                known[("account", guild_id, creator_id, "diamonds_promo")] = promo
            if paid is not None:
                known[("account", guild_id, creator_id, "diamonds_paid")] = paid

    defaults: dict[int, set[Budget | None]] = {}
    for c in calls:
        defaults.setdefault(c["sender_id"], set()).add((c.get("policy") or _NO_POLICY).default_budget)
    senders = [s for s in defaults if (guild_id, s) not in batch.wallets]
    budgeted = False
    if senders:
        no_rules: dict[Budget | None, Any] = {}  # members without prefs or budget share one answer
        for row in conn.execute(_SENDERS, (guild_id, json.dumps(senders))):
            sender_id = row[0]
            batch.wallets[(guild_id, sender_id)] = _wallet(batch, *row[1:5])
            rules = row[5:20]
            if row[20] is not None:
                batch.stored_name(guild_id, sender_id, row[20])
            for default in defaults[sender_id]:
                if rules[0] is None and rules[5] is None:
                    found_rules = no_rules.get(default)
                    if found_rules is None:
                        found_rules = no_rules[default] = budget_ops.rules_from_row(rules, default)
                else:
                    found_rules = budget_ops.rules_from_row(rules, default)
                known.setdefault(("spending", guild_id, sender_id, default), found_rules)
                budgeted = budgeted or default is not None or rules[5] is not None
    if budgeted:
        _counters(conn, batch, guild_id, calls)


def _counters(conn: sqlite3.Connection, batch: Batch, guild_id: int, calls: list[dict[str, Any]]) -> None:
    """The spend counters the budgeted senders' gifts will check (as stored, not what the batch
    adds: a gift adds batch.pending_spend itself)."""
    known = batch.known
    wanted: dict[budget_ops.CounterKey, None] = {}
    for c in calls:
        sender_id, at_ms = c["sender_id"], c["at_ms"]
        default = (c.get("policy") or _NO_POLICY).default_budget
        rules = known.get(("spending", guild_id, sender_id, default))
        if rules is None:
            continue
        prefs, stored = rules
        state = stored.state
        if prefs.timezone is None or (state.current is None and state.pending is None):
            continue  # no budget, or spending that is their gifters score: read by the gift
        budget = state.effective(from_millis(at_ms))
        if budget is None:
            continue
        try:
            bucket = rollups.buckets(at_ms, prefs.timezone or known[("timezone", guild_id)])[budget.period]
        except Exception:  # a bad timezone: the gift itself will fail on it
            continue
        key = (guild_id, sender_id, budget.period.value, bucket)
        if ("spent", key) not in known:
            wanted[key] = None
    if not wanted:
        return
    spent: dict[budget_ops.CounterKey, int] = dict.fromkeys(wanted, 0)
    triples = json.dumps([[user_id, period, start] for _, user_id, period, start in wanted])
    for user_id, period, start, coins in conn.execute(_COUNTERS, (guild_id, triples)):
        spent[(guild_id, user_id, period, start)] = int(coins)
    for key, coins in spent.items():
        known[("spent", key)] = coins

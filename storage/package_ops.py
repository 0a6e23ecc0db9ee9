"""A guild's coin packages (and the Discord SKUs they are sold as) and its promotions.

Every change a moderator makes owes an audit post, queued in the same transaction under the
command's interaction key, so a redelivered command is posted once.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from bot.economy.clock import from_millis, to_millis
from bot.economy.models import Currency
from bot.economy.packages import CoinPackage, Promotion
from bot.economy.purchases import PackageConflict, PromotionOver, SkuInUse, UnknownPackage, UnknownPromotion

from . import audit_trail, ledger

_PACKAGE = "SELECT id, guild_id, coins, bonus, sku_id, enabled FROM coin_packages "
_PROMOTION = "SELECT id, guild_id, percent, starts_at, ends_at, created_by, cancelled_at FROM promotions "


def _package(row: tuple[Any, ...]) -> CoinPackage:
    return CoinPackage(
        id=row[0], guild_id=row[1], coins=row[2], bonus=row[3], sku_id=row[4], enabled=bool(row[5])
    )


def _promotion(row: tuple[Any, ...]) -> Promotion:
    return Promotion(
        id=row[0],
        guild_id=row[1],
        percent=row[2],
        starts_at=from_millis(row[3]),
        ends_at=from_millis(row[4]),
        created_by=row[5],
        cancelled_at=from_millis(row[6]) if row[6] is not None else None,
    )


# -- packages ------------------------------------------------------------------------------------


def list_packages(
    conn: sqlite3.Connection, guild_id: int, *, include_disabled: bool = False
) -> list[CoinPackage]:
    rows = conn.execute(
        _PACKAGE + "WHERE guild_id = ? AND (enabled = 1 OR ?) ORDER BY coins, bonus, id",
        (guild_id, int(include_disabled)),
    ).fetchall()
    return [_package(row) for row in rows]


def package(conn: sqlite3.Connection, guild_id: int, package_id: int) -> CoinPackage | None:
    row = conn.execute(_PACKAGE + "WHERE guild_id = ? AND id = ?", (guild_id, package_id)).fetchone()
    return _package(row) if row else None


def for_sku(conn: sqlite3.Connection, guild_id: int, sku_id: int) -> CoinPackage | None:
    """The package this guild sells as `sku_id`, if it sells one."""
    row = conn.execute(
        _PACKAGE + "WHERE guild_id = ? AND sku_id = ? AND enabled = 1", (guild_id, sku_id)
    ).fetchone()
    return _package(row) if row else None


def sells_coins(conn: sqlite3.Connection, guild_id: int) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM coin_packages WHERE guild_id = ? AND sku_id IS NOT NULL AND enabled = 1 LIMIT 1",
            (guild_id,),
        ).fetchone()
        is not None
    )


def sku_sold_anywhere(conn: sqlite3.Connection, sku_id: int) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM coin_packages WHERE sku_id = ? AND enabled = 1 LIMIT 1", (sku_id,)
        ).fetchone()
        is not None
    )


def _live_package(conn: sqlite3.Connection, guild_id: int, package_id: int) -> CoinPackage:
    found = package(conn, guild_id, package_id)
    if found is None or not found.enabled:
        raise UnknownPackage()
    return found


def _audit_package(
    conn: sqlite3.Connection, event: str, found: CoinPackage, *, actor_id: int, key: str, at_ms: int
) -> None:
    audit_trail.owe_audit(
        conn,
        guild_id=found.guild_id,
        event=event,
        dedupe_key=f"{key}:{event}",
        actor_id=actor_id,
        at_ms=at_ms,
        amount=found.total,
        currency=Currency.COIN.value,
        details={"package_id": found.id, "coins": found.coins, "bonus": found.bonus, "sku_id": found.sku_id},
    )


def add_package(
    conn: sqlite3.Connection, *, guild_id: int, coins: int, bonus: int, actor_id: int, key: str, at_ms: int
) -> CoinPackage:
    """A new package, not for sale until mapped to an SKU. Re-adding a removed one revives it."""
    ledger.ensure_guild(conn, guild_id, at_ms)
    row = conn.execute(
        _PACKAGE + "WHERE guild_id = ? AND coins = ? AND bonus = ?", (guild_id, coins, bonus)
    ).fetchone()
    if row is not None and row[5]:
        raise PackageConflict(coins, bonus)
    if row is not None:
        conn.execute("UPDATE coin_packages SET enabled = 1, updated_at = ? WHERE id = ?", (at_ms, row[0]))
        package_id = int(row[0])
    else:
        package_id = int(
            conn.execute(
                "INSERT INTO coin_packages (guild_id, coins, bonus, sku_id, enabled, updated_at) "
                "VALUES (?, ?, ?, NULL, 1, ?)",
                (guild_id, coins, bonus, at_ms),
            ).lastrowid
            or 0
        )
    added = _live_package(conn, guild_id, package_id)
    _audit_package(conn, "package_added", added, actor_id=actor_id, key=key, at_ms=at_ms)
    return added


def remove_package(
    conn: sqlite3.Connection, *, guild_id: int, package_id: int, actor_id: int, key: str, at_ms: int
) -> CoinPackage:
    """Stop selling a package. Its row stays (purchases point at it), without its SKU."""
    found = _live_package(conn, guild_id, package_id)
    conn.execute(
        "UPDATE coin_packages SET enabled = 0, sku_id = NULL, updated_at = ? WHERE id = ?", (at_ms, found.id)
    )
    _audit_package(conn, "package_removed", found, actor_id=actor_id, key=key, at_ms=at_ms)
    return found


def map_package(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    package_id: int,
    sku_id: int | None,
    actor_id: int,
    key: str,
    at_ms: int,
) -> tuple[CoinPackage, CoinPackage]:
    """Sell a package as `sku_id` (None: stop selling it). Returns it before and after."""
    before = _live_package(conn, guild_id, package_id)
    if sku_id is not None:
        other = conn.execute(
            _PACKAGE + "WHERE guild_id = ? AND sku_id = ? AND id <> ?", (guild_id, sku_id, package_id)
        ).fetchone()
        if other is not None:
            raise SkuInUse(sku_id, _package(other))
    conn.execute(
        "UPDATE coin_packages SET sku_id = ?, updated_at = ? WHERE id = ?", (sku_id, at_ms, package_id)
    )
    after = _live_package(conn, guild_id, package_id)
    if before.sku_id != after.sku_id:
        event = "package_mapped" if sku_id is not None else "package_unmapped"
        _audit_package(
            conn, event, after if sku_id is not None else before, actor_id=actor_id, key=key, at_ms=at_ms
        )
    return before, after


# -- promotions ----------------------------------------------------------------------------------


def promotion(conn: sqlite3.Connection, guild_id: int, promotion_id: int) -> Promotion | None:
    row = conn.execute(_PROMOTION + "WHERE guild_id = ? AND id = ?", (guild_id, promotion_id)).fetchone()
    return _promotion(row) if row else None


def promotions(conn: sqlite3.Connection, guild_id: int, *, limit: int = 50) -> list[Promotion]:
    """The guild's promotions, latest start first."""
    rows = conn.execute(
        _PROMOTION + "WHERE guild_id = ? ORDER BY starts_at DESC, id DESC LIMIT ?", (guild_id, limit)
    ).fetchall()
    return [_promotion(row) for row in rows]


def promotions_at(conn: sqlite3.Connection, guild_id: int, at_ms: int) -> list[Promotion]:
    """The promotions running at `at_ms` (one cancelled later still ran then)."""
    rows = conn.execute(
        _PROMOTION + "WHERE guild_id = ? AND starts_at <= ? AND ends_at > ? "
        "AND (cancelled_at IS NULL OR cancelled_at > ?)",
        (guild_id, at_ms, at_ms, at_ms),
    ).fetchall()
    return [_promotion(row) for row in rows]


def _audit_promotion(
    conn: sqlite3.Connection, event: str, found: Promotion, *, actor_id: int, key: str, at_ms: int
) -> None:
    audit_trail.owe_audit(
        conn,
        guild_id=found.guild_id,
        event=event,
        dedupe_key=f"{key}:{event}",
        actor_id=actor_id,
        at_ms=at_ms,
        amount=found.percent,
        currency="percent",
        details={
            "promotion_id": found.id,
            "percent": found.percent,
            "starts_at": to_millis(found.starts_at),
            "ends_at": to_millis(found.ends_at),
        },
    )


def create_promotion(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    percent: int,
    starts_ms: int,
    ends_ms: int,
    actor_id: int,
    key: str,
    at_ms: int,
) -> tuple[Promotion, bool]:
    """A promotion, once per `key`: a redelivered command finds the first. (promotion, created)."""
    ledger.ensure_guild(conn, guild_id, at_ms)
    created = conn.execute(
        "INSERT INTO promotions (guild_id, percent, starts_at, ends_at, created_by, created_at, "
        "idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
        (guild_id, percent, starts_ms, ends_ms, actor_id, at_ms, key),
    ).rowcount
    row = conn.execute(_PROMOTION + "WHERE idempotency_key = ?", (key,)).fetchone()
    found = _promotion(row)
    if created:
        _audit_promotion(conn, "promotion_created", found, actor_id=actor_id, key=key, at_ms=at_ms)
    return found, bool(created)


def cancel_promotion(
    conn: sqlite3.Connection, *, guild_id: int, promotion_id: int, actor_id: int, key: str, at_ms: int
) -> Promotion:
    """End a running or upcoming promotion now. Purchases made before stay as credited."""
    found = promotion(conn, guild_id, promotion_id)
    if found is None:
        raise UnknownPromotion()
    if found.cancelled_at is not None or to_millis(found.ends_at) <= at_ms:
        raise PromotionOver()
    conn.execute(
        "UPDATE promotions SET cancelled_at = ?, cancelled_by = ? WHERE id = ?", (at_ms, actor_id, found.id)
    )
    cancelled = promotion(conn, guild_id, promotion_id)
    assert cancelled is not None
    _audit_promotion(conn, "promotion_cancelled", cancelled, actor_id=actor_id, key=key, at_ms=at_ms)
    return cancelled

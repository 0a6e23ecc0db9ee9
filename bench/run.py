"""The suite's steps in order, each on its own copy of a cached database."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import boards, coldstart, dataset, handlers, rss, throughput
from .config import Plan
from .dataset import Shape


def history_shape(gifts: int) -> Shape:
    """The server a gift history of this size comes from: one wallet per ten gifts, at least
    1,000 and at most 100,000 (so the 1,000,000-gift server has 100,000 wallets)."""
    return Shape(wallets=min(100_000, max(1_000, gifts // 10)), gifts=gifts)


def step(title: str) -> None:
    print(f"· {title}", flush=True)


def fresh(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)


async def run_suite(plan: Plan, work: Path) -> dict[str, Any]:
    fresh(work)
    results: dict[str, Any] = {}
    wallets, history = Shape(plan.wallets, 0), history_shape(plan.board_gifts)

    step(f"databases: {wallets.wallets:,} wallets; {history.gifts:,} gifts over {history.wallets:,} wallets")
    dataset.database(wallets)
    dataset.database(history)
    if plan.quick:  # the generator against giftbot's own checks, on a small database, every run
        problems = dataset.verify(dataset.database(history), recompute=True)
        if problems:
            raise RuntimeError(f"the generated database fails giftbot's checks: {problems}")

    step(f"gift throughput: {plan.load_gifts:,} gifts, 200 concurrent senders, {plan.wallets:,} wallets")
    orders = throughput.plan_gifts(wallets, plan.load_gifts, seed=1, tag="load")
    load_db = dataset.copy_of(wallets, work / "load.sqlite3")
    load = await throughput.measure_load(load_db, orders)
    results["gift_throughput_per_s"] = round(load.per_s)
    results["load"] = {
        "gifts": load.gifts,
        "refused": load.refused,
        "seconds": round(load.seconds, 3),
        "transactions": load.batches,
        "gifts_per_transaction": round(load.gifts / max(load.batches, 1), 1),
    }

    step("ledger checks after the load (balances, rollups and counters recounted)")
    problems = dataset.verify(load_db, recompute=True)
    if load.refused or load.gifts != len(orders):
        problems.append(f"{load.refused} of {len(orders)} gifts were refused: {load.refusals[:3]}")
    results["invariants_ok"] = not problems
    results["invariant_problems"] = problems
    load_db.unlink()

    step(f"raw ceiling: record {plan.ceiling_gifts:,} gifts' SQL, replay it with plain sqlite3")
    recorded = await throughput.record(
        dataset.copy_of(wallets, work / "record.sqlite3"), orders[: plan.ceiling_gifts]
    )
    seconds = throughput.replay(dataset.copy_of(wallets, work / "replay.sqlite3"), recorded)
    ceiling = recorded.gifts / seconds
    results["raw_ceiling_per_s"] = round(ceiling)
    results["ratio_to_ceiling"] = round(load.per_s / ceiling, 3)
    results["ceiling"] = {
        "gifts": recorded.gifts,
        "statements": recorded.statements,
        "statements_per_gift": round(recorded.statements / max(recorded.gifts, 1), 1),
        "transactions": len(recorded.batches),
        "seconds": round(seconds, 3),
    }
    del recorded
    for name in ("record.sqlite3", "replay.sqlite3"):
        (work / name).unlink()

    step(f"leaderboards: top 10 of every board and period over {history.gifts:,} gifts")
    timings = await boards.measure_boards(dataset.database(history), plan.board_repeats)
    results["leaderboard_p95_ms"] = round(max(t.p95_ms for t in timings), 3)
    results["boards"] = [asdict(t) for t in timings]

    step("scale: throughput by wallets, leaderboards by gifts")
    results["scale"] = await _scale(plan, work, load.per_s, results["leaderboard_p95_ms"])

    step(f"handlers in SimCord: {plan.handler_samples} × /gift and /balance, {history.gifts:,} gifts")
    bot_db = dataset.copy_of(history, work / "bot.sqlite3")
    handler_timings = await handlers.measure_handlers(bot_db, plan.handler_samples)
    results["handler_p50_ms"] = round(max(h.p50_ms for h in handler_timings), 3)
    results["handler_p99_ms"] = round(max(h.p99_ms for h in handler_timings), 3)
    results["handlers"] = [asdict(h) for h in handler_timings]

    step(f"memory: a plain bot process, {plan.balance_queries:,} balances and every leaderboard")
    results["rss_mb"] = round(rss.measure_rss(bot_db, plan.balance_queries), 1)

    step(f"cold start: process start to ready on the {history.gifts:,}-gift server")
    results["cold_start_s"] = round(coldstart.spawn_and_time(bot_db, plan.cold_starts), 3)
    bot_db.unlink()
    shutil.rmtree(work)
    return results


async def _scale(plan: Plan, work: Path, headline_per_s: float, headline_p95: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for size in plan.scales:
        if size == plan.wallets:
            per_s = headline_per_s
        else:
            shape = Shape(size, 0)
            db = dataset.copy_of(shape, work / "scale.sqlite3")
            orders = throughput.plan_gifts(shape, plan.load_gifts, seed=2, tag="scale")
            per_s = (await throughput.measure_load(db, orders)).per_s
            db.unlink()
        if size == plan.board_gifts:
            p95 = headline_p95
        else:
            timings = await boards.measure_boards(dataset.database(history_shape(size)), plan.board_repeats)
            p95 = max(t.p95_ms for t in timings)
        rows.append({"size": size, "gifts_per_s": round(per_s), "leaderboard_p95_ms": round(p95, 3)})
    # 200 members gifting again and again (a live room), rather than a new wallet each time.
    shape = Shape(plan.wallets, 0)
    db = dataset.copy_of(shape, work / "scale.sqlite3")
    orders = throughput.plan_gifts(shape, plan.load_gifts, seed=4, tag="room", members=200)
    per_s = (await throughput.measure_load(db, orders)).per_s
    db.unlink()
    rows.append(
        {
            "size": plan.wallets,
            "what": f"{plan.wallets:,} wallets, 200 members gifting in turn",
            "gifts_per_s": round(per_s),
            "leaderboard_p95_ms": None,
        }
    )
    # The same load on the server with the whole gift history: the cost of a million ledger rows.
    history = history_shape(plan.board_gifts)
    db = dataset.copy_of(history, work / "scale.sqlite3")
    orders = throughput.plan_gifts(history, plan.load_gifts, seed=3, tag="history")
    per_s = (await throughput.measure_load(db, orders)).per_s
    db.unlink()
    rows.append(
        {
            "size": history.gifts,
            "what": f"{history.wallets:,} wallets with {history.gifts:,} gifts of history",
            "gifts_per_s": round(per_s),
            "leaderboard_p95_ms": round(headline_p95, 3),
        }
    )
    return rows

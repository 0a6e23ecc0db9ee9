"""The printed table, the machine description and the targets of issue 6."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

# key -> (target text, test): the full mode's figures must pass these.
TARGETS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "ratio_to_ceiling": (">= 0.5", lambda v: v >= 0.5),
    "gift_throughput_per_s": (">= 10,000", lambda v: v >= 10_000),
    "leaderboard_p95_ms": ("< 5", lambda v: v < 5),
    "handler_p99_ms": ("< 25", lambda v: v < 25),
    "rss_mb": ("< 150", lambda v: v < 150),
    "cold_start_s": ("< 1.5", lambda v: v < 1.5),
    "invariants_ok": ("true", lambda v: v is True),
}


def targets_met(results: dict[str, Any]) -> dict[str, bool]:
    return {key: check(results[key]) for key, (_, check) in TARGETS.items() if key in results}


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "system": platform.platform(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain")),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, cwd=Path(__file__).parent
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 100 else f"{value:,.0f}"
    return str(value)


def print_report(results: dict[str, Any]) -> None:
    met = results.get("targets_met", {})
    note = "" if results["mode"] == "full" else ": its figures do not count"
    print(f"\ngiftbot benchmarks ({results['mode']} mode{note})")
    print(f"{'figure':<24} {'value':>12}  {'target':<10} ok")
    for key in (
        "gift_throughput_per_s",
        "raw_ceiling_per_s",
        "ratio_to_ceiling",
        "leaderboard_p95_ms",
        "handler_p50_ms",
        "handler_p99_ms",
        "rss_mb",
        "cold_start_s",
        "invariants_ok",
    ):
        target = TARGETS.get(key, ("", None))[0]
        mark = "" if key not in met else ("yes" if met[key] else "NO")
        print(f"{key:<24} {_fmt(results[key]):>12}  {target:<10} {mark}")
    print("\nhandlers (ms)           p50      p99   SimCord's own, p50")
    for h in results["handlers"]:
        own = h["simcord_overhead_p50_ms"]
        print(f"  {h['command']:<18} {h['p50_ms']:>8.3f} {h['p99_ms']:>8.3f} {own:>10.3f}")
    print(f"\n{'scale':<46} {'gifts/s':>8}   leaderboard p95 (ms)")
    for row in results["scale"]:
        label = row.get("what") or f"{row['size']:,} wallets / gifts"
        p95 = row["leaderboard_p95_ms"]
        print(f"  {label:<44} {row['gifts_per_s']:>8,}   {'' if p95 is None else f'{p95:>8.3f}'}")
    ceiling = results["ceiling"]
    print(
        f"\nceiling: {ceiling['gifts']:,} gifts replayed as {ceiling['statements']:,} statements "
        f"({ceiling['statements_per_gift']} a gift) in {ceiling['transactions']} transactions"
    )
    if results["invariant_problems"]:
        print("ledger problems:", *results["invariant_problems"], sep="\n  ")

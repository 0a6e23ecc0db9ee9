"""`python -m bench [--quick]`: run the benchmark suite, print a table, write the results JSON.

Full mode is what docs/benchmarks.md reports (several minutes, and a first run builds the
multi-gigabyte databases it caches in bench/.data). --quick runs every step at toy sizes in
under a minute, inside `make test`, so the suite never rots; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from bot.gc_tuning import pace_collector

from .config import DATA_DIR, FULL, QUICK, RESULTS, Plan
from .report import machine, print_report, targets_met
from .run import run_suite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes, under a minute (make test)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"where to write the JSON (default: {RESULTS.name}, or results-quick.json with --quick)",
    )
    args = parser.parse_args(argv)
    plan: Plan = QUICK if args.quick else FULL
    out = args.out or (RESULTS.with_name("results-quick.json") if args.quick else RESULTS)
    pace_collector()  # as `giftbot run` does: the figures are the bot process's
    started = time.perf_counter()
    results: dict[str, Any] = asyncio.run(run_suite(plan, DATA_DIR / "run"))
    results["mode"] = "quick" if plan.quick else "full"
    results["machine"] = machine()
    results["targets_met"] = targets_met(results)
    results["suite_seconds"] = round(time.perf_counter() - started, 1)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_report(results)
    print(f"\nwrote {out} in {results['suite_seconds']} s")
    if not results["invariants_ok"]:
        print("the ledger checks FAILED after the load", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bench.ab REV [--runs N] [--gifts G] [--wallets W]`: the headline load, REV against
the working tree, back to back.

This machine's speed drifts by up to a factor of two over an hour, so two `make bench` runs taken
apart compare poorly; the same load run alternately, one side then the other, compares well.
REV is checked out in a temporary git worktree (removed afterwards) that shares this checkout's
cached databases (their names carry the schema, so two schemas never share one). Each run is
`python -m bench.profile G W` in its own process, with this interpreter.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .config import BENCH_DIR, DATA_DIR

ROOT = BENCH_DIR.parent
_RATE = re.compile(r"gifts in [\d.]+ s: ([\d,]+)/s")


def rate(output: str) -> int:
    """Gifts a second from `bench.profile`'s summary line."""
    found = _RATE.search(output)
    if found is None:
        raise ValueError(f"no throughput in the profile's output: {output.strip()[-200:]!r}")
    return int(found.group(1).replace(",", ""))


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def run_load(tree: Path, gifts: int, wallets: int) -> int:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.profile", str(gifts), str(wallets)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the load failed in {tree}:\n{done.stderr.strip()[-2000:]}")
    return rate(done.stdout)


def compare(rev: str, *, runs: int, gifts: int, wallets: int) -> tuple[list[int], list[int]]:
    """(REV's rates, the working tree's), alternating, REV first in each round."""
    commit = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="giftbot-ab-") as scratch:
        tree = Path(scratch) / "tree"
        _git("worktree", "add", "--detach", str(tree), commit)
        try:
            if not (tree / "bench" / "profile.py").exists():
                raise SystemExit(f"{rev} has no bench/profile.py to run")
            (tree / "bench" / ".data").symlink_to(DATA_DIR, target_is_directory=True)
            before: list[int] = []
            after: list[int] = []
            for round_ in range(1, runs + 1):
                before.append(run_load(tree, gifts, wallets))
                after.append(run_load(ROOT, gifts, wallets))
                print(f"  round {round_}: {rev} {before[-1]:,}/s, working tree {after[-1]:,}/s", flush=True)
        finally:
            _git("worktree", "remove", "--force", str(tree))
    return before, after


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the git revision to compare the working tree with")
    parser.add_argument("--runs", type=int, default=3, help="rounds, each one load on either side")
    parser.add_argument("--gifts", type=int, default=20_000)
    parser.add_argument("--wallets", type=int, default=100_000)
    args = parser.parse_args(argv)
    rounds = f"{args.runs} round" + ("s" if args.runs != 1 else "")
    print(f"headline load, {args.gifts:,} gifts over {args.wallets:,} wallets, {rounds}")
    before, after = compare(args.rev, runs=args.runs, gifts=args.gifts, wallets=args.wallets)
    old, new = statistics.median(before), statistics.median(after)
    print(f"median: {args.rev} {old:,.0f}/s, working tree {new:,.0f}/s: ×{new / old:.2f}")


if __name__ == "__main__":
    main()

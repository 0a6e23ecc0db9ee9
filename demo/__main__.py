"""`python -m demo [--db PATH]`: play the scripted session and print it as a chat log."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from .script import DEFAULT_DB, run_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="Run giftbot offline in SimCord through a scripted community session.",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=DEFAULT_DB,
        help=f"SQLite file to recreate and leave behind (default: {DEFAULT_DB})",
    )
    args = parser.parse_args(argv)
    return asyncio.run(run_demo(args.db))


if __name__ == "__main__":
    sys.exit(main())

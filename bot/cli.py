"""The `giftbot` command: run the bot, or migrate its database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.settings import Settings, get_settings

README_HINT = "See README.md, section “Running it for real”."


def _load_settings() -> Settings | None:
    """Settings, or None after printing one line per bad value (never a traceback)."""
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            print(f"giftbot: {where.upper()}: {error['msg']}. {README_HINT}", file=sys.stderr)
        return None


def _run() -> int:
    from bot.app import create_bot
    from bot.logging_setup import setup_logging

    settings = _load_settings()
    if settings is None:
        return 2
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        print(f"giftbot: DISCORD_TOKEN is not set. {README_HINT}", file=sys.stderr)
        return 2
    token = settings.discord_token.get_secret_value()
    setup_logging(settings.log_level, secrets=[token])
    bot = create_bot(settings)

    async def main() -> None:
        async with bot:
            await bot.start(token)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0


def _migrate() -> int:
    from storage import Storage

    settings = _load_settings()
    if settings is None:
        return 2

    async def main() -> list[str]:
        store = Storage(settings.database_path)
        try:
            return await store.open()
        finally:
            await store.close()

    try:
        applied = asyncio.run(main())
    except RuntimeError as exc:  # e.g. a database from a newer giftbot
        print(f"giftbot: {exc}", file=sys.stderr)
        return 1
    print(f"{settings.database_path}: " + (", ".join(applied) if applied else "already up to date"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="giftbot", description="A TikTok-LIVE-style coin economy for Discord."
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (needs DISCORD_TOKEN)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return _migrate()
    return _run()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

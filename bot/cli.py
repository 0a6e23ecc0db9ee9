"""The `giftbot` command: run the bot, or migrate its database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from bot.settings import get_settings

README_HINT = "See README.md, section “Running it for real”."


def _run() -> int:
    from bot.app import create_bot
    from bot.logging_setup import setup_logging

    settings = get_settings()
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

    settings = get_settings()

    async def main() -> list[str]:
        store = Storage(settings.database_path)
        try:
            return await store.open()
        finally:
            await store.close()

    applied = asyncio.run(main())
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

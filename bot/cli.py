"""The `giftbot` command: run the bot, migrate, check, back up or restore its database, forget a member."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot.settings import Settings, get_settings

if TYPE_CHECKING:
    from storage.audit import AuditReport

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
    import discord

    from bot.app import create_bot
    from bot.gc_tuning import pace_collector
    from bot.logging_setup import setup_logging

    settings = _load_settings()
    if settings is None:
        return 2
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        print(f"giftbot: DISCORD_TOKEN is not set. {README_HINT}", file=sys.stderr)
        return 2
    token = settings.discord_token.get_secret_value()
    setup_logging(settings.log_level, secrets=[token])
    pace_collector()
    bot = create_bot(settings)

    async def main() -> None:
        async with bot:
            await bot.start(token)

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
    except discord.LoginFailure:
        print(
            f"giftbot: Discord refused DISCORD_TOKEN; reset it in the developer portal. {README_HINT}",
            file=sys.stderr,
        )
        return 2
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


def _database(args: argparse.Namespace) -> Path | None:
    """--database, else GIFTBOT_DATABASE_PATH (settings are read only when needed)."""
    if args.database is not None:
        return Path(args.database)
    settings = _load_settings()
    return None if settings is None else settings.database_path


def _render(report: AuditReport) -> str:
    counts = " · ".join(f"{number:,} {what}" for what, number in report.counts.items())
    lines = [
        f"giftbot check: {report.path}",
        f"schema {report.schema} (this giftbot: {report.latest}) · {counts}",
    ]
    for check in report.checks:
        status = "skip" if check.skipped else "ok" if check.ok else "FAIL"
        lines.append(f"  {status:<5} {check.name:<20} {check.skipped or check.description}")
        lines += [f"        - {problem}" for problem in check.problems]
        if check.total > len(check.problems):
            lines.append(f"        … and {check.total - len(check.problems):,} more")
    failed = report.failed
    if failed:
        names = ", ".join(check.name for check in failed)
        lines.append(f"{len(failed)} of {len(report.checks)} checks failed: {names}.")
    else:
        lines.append(f"All {len(report.checks)} checks passed.")
    return "\n".join(lines)


def _check(args: argparse.Namespace) -> int:
    from storage.audit import AuditRefused, audit_file

    database = _database(args)
    if database is None:
        return 2
    try:
        report = audit_file(database)
    except AuditRefused as exc:
        print(f"giftbot: {exc}", file=sys.stderr)
        return 2
    print(_render(report))
    return 0 if report.ok else 1


def _backup(args: argparse.Namespace) -> int:
    from storage.audit import AuditRefused, audit_file
    from storage.backup import BackupError, backup

    database = _database(args)
    if database is None:
        return 2
    try:
        copied = backup(database, args.path, force=args.force)
        print(f"backed up {database} to {copied.path} ({copied.pages:,} pages in {copied.steps:,} steps)")
        if args.no_check:
            return 0
        report = audit_file(copied.path)
    except (BackupError, AuditRefused) as exc:
        print(f"giftbot: {exc}", file=sys.stderr)
        return 2
    print(_render(report))
    return 0 if report.ok else 1


def _restore(args: argparse.Namespace) -> int:
    from storage.audit import AuditRefused
    from storage.backup import BackupError, restore

    database = _database(args)
    if database is None:
        return 2
    try:
        report = restore(args.path, database)
    except (BackupError, AuditRefused) as exc:
        print(f"giftbot: {exc}", file=sys.stderr)
        return 2
    print(_render(report))
    if not report.ok:
        print(f"giftbot: {args.path} failed its check, so {database} was left as it was.", file=sys.stderr)
        return 1
    print(f"restored {args.path} into {database}")
    return 0


def _forget(args: argparse.Namespace) -> int:
    from bot.forget_command import run

    database = _database(args)
    if database is None:
        return 2
    return run(database, args.guild, args.user, yes=args.yes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="giftbot", description="A TikTok-LIVE-style coin economy for Discord."
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (needs DISCORD_TOKEN)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--database", metavar="PATH", help="the database (default: GIFTBOT_DATABASE_PATH)")
    sub.add_parser(
        "check",
        parents=[database],
        help="audit the database (safe while the bot runs); exit 1 if anything is off",
    )
    backup = sub.add_parser(
        "backup", parents=[database], help="copy the database to PATH while the bot runs, then check it"
    )
    backup.add_argument("path", metavar="PATH", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    backup.add_argument("--no-check", action="store_true", help="skip checking the backup")
    restore = sub.add_parser(
        "restore", parents=[database], help="check a backup and put it in place (stop the bot first)"
    )
    restore.add_argument("path", metavar="PATH", help="the backup file to restore")
    forget = sub.add_parser(
        "forget", parents=[database], help="forget a member of a server on request (data deletion)"
    )
    forget.add_argument("guild", metavar="GUILD", type=int, help="the server's id")
    forget.add_argument("user", metavar="USER", type=int, help="the member's user id")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return _migrate()
    if args.command == "check":
        return _check(args)
    if args.command == "backup":
        return _backup(args)
    if args.command == "restore":
        return _restore(args)
    if args.command == "forget":
        return _forget(args)
    return _run()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Numbers, times and names as members should read them."""

from __future__ import annotations

from datetime import datetime

import discord


def number(n: int) -> str:
    return f"{n:,}"


def coins(n: int) -> str:
    return f"🪙 {n:,}"


def diamonds(n: int) -> str:
    return f"💎 {n:,}"


def plural(n: int, one: str, many: str | None = None) -> str:
    """`1 coin`, `2 coins`, `1,000 coins`: a count with its noun."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else f"{n:,}"


def when(moment: datetime, style: str = "R") -> str:
    """A Discord timestamp: each reader sees it in their own timezone and language."""
    return discord.utils.format_dt(moment, style=style)  # type: ignore[arg-type]


def safe(text: str, limit: int = 100) -> str:
    """User text made inert: no markdown, no mentions, bounded length."""
    if len(text) > limit:  # cut first, so an escape sequence is never split
        text = text[: limit - 1] + "…"
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def display_name(user: discord.abc.User) -> str:
    return getattr(user, "display_name", None) or user.name

"""Numbers, times and names as members should read them."""

from __future__ import annotations

import re
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


# Discord's markdown, escaped one character at a time (Discord shows `\X` as `X` for any
# punctuation): discord.utils.escape_markdown leaves whatever sits between `[` and a later `](…)`,
# or after a URL, unescaped. Escaped brackets make no link; `>`, `#` and `-` only mean something
# at the start of a line.
_MARKDOWN = re.compile(r"(^\s*)([>#-])|[\\*_~`|\[\]]", re.MULTILINE)
# Embedding, override and isolate controls: a right-to-left override in a name would reverse the
# rest of our line.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def _escape(match: re.Match[str]) -> str:
    if match.group(2):
        return match.group(1) + "\\" + match.group(2)
    return "\\" + match.group()


def safe(text: str, limit: int = 100) -> str:
    """User text made inert: no markdown, no mentions, no bidi overrides, bounded length."""
    text = text.translate(_BIDI_CONTROLS)
    if len(text) > limit:  # cut first, so an escape sequence is never split
        text = text[: limit - 1] + "…"
    return discord.utils.escape_mentions(_MARKDOWN.sub(_escape, text))


def display_name(user: discord.abc.User) -> str:
    return getattr(user, "display_name", None) or user.name


def person(user_id: int | None) -> str:
    """A member as a mention; a forgotten member (a negative tombstone id) as plain words."""
    if user_id is None:
        return "someone"
    return f"<@{user_id}>" if user_id > 0 else "a forgotten member"

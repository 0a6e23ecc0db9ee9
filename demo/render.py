"""Discord messages as plain chat-log text: embeds, buttons, mentions and timestamps made readable.

SimCord's own `env.transcript()` is a debug log of gateway and REST traffic; this is what a member
would read instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord

BOT_NAME = "giftbot"
INLINE_PER_ROW = 3
ARROW = "▸"
_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_CHANNEL = re.compile(r"<#(\d+)>")
_TIME = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
_JUMP = re.compile(r"https://(?:\w+\.)?discord(?:app)?\.com/channels/(\d+|@me)/(\d+)/\d+")
_CUSTOM_EMOJI = re.compile(r"<a?(:\w+:)\d+>")
_ESCAPED = re.compile(r"\\([\\*_~`|>#\-\[\]()@])")


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# Roughly how Discord words a relative time: the largest unit, rounded.
_UNITS = (("year", 365 * 86_400), ("month", 30 * 86_400), ("day", 86_400), ("hour", 3_600), ("minute", 60))


def relative(moment: datetime, now: datetime) -> str:
    """`<t:…:R>` as Discord reads it out at `now`: "in 4 days", "2 minutes ago"."""
    seconds = (moment - now).total_seconds()
    size = abs(seconds)
    if size < 45:
        return "in a few seconds" if seconds > 0 else "a few seconds ago"
    unit, length = next(((u, n) for u, n in _UNITS if size >= n * 0.9), _UNITS[-1])
    count = max(1, round(size / length))
    amount = f"{count} {unit}" + ("s" if count > 1 else "")
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


@dataclass
class Names:
    """Who is who, so `<@id>` reads as @Alice and `<#id>` as #live."""

    users: dict[int, str] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)
    channels: dict[int, str] = field(default_factory=dict)
    skus: dict[int, str] = field(default_factory=dict)
    """SKU names, for premium buttons (Discord labels them with the SKU, not with text we send)."""
    now: Callable[[], datetime] | None = None
    """The (virtual) clock relative timestamps are read against; without one they read as dates."""

    def user(self, user_id: int) -> str:
        return self.users.get(user_id, f"user {user_id}")

    def text(self, raw: str) -> str:
        """Discord markup to plain text: mentions, timestamps, bold, code spans and escapes."""
        text = _USER.sub(lambda m: "@" + self.user(int(m[1])), raw)
        text = _ROLE.sub(lambda m: "@" + self.roles.get(int(m[1]), "role"), text)
        text = _CHANNEL.sub(lambda m: "#" + self.channels.get(int(m[1]), "channel"), text)
        text = _TIME.sub(self._time, text)
        text = _JUMP.sub(lambda m: "#" + self.channels.get(int(m[2]), "channel") + " › message", text)
        text = _CUSTOM_EMOJI.sub(r"\1", text)
        text = text.replace("**", "").replace("__", "").replace("`", "")
        return _ESCAPED.sub(r"\1", text)

    def _time(self, match: re.Match[str]) -> str:
        moment = datetime.fromtimestamp(int(match[1]), UTC)
        style = match[2]
        if style == "R" and self.now is not None:
            return relative(moment, self.now())
        if style in ("d", "D"):
            return f"{moment:%Y-%m-%d}"
        if style in ("t", "T"):
            return f"{moment:%H:%M} UTC"
        return utc(moment)


def embed_lines(embed: discord.Embed, names: Names) -> list[str]:
    """Title, description, `name: value` fields, then the footer (with the embed's time)."""
    lines: list[str] = []
    if embed.author and embed.author.name:
        lines.append(names.text(embed.author.name))
    if embed.title:
        lines.append(names.text(embed.title))
    if embed.description:
        lines.extend(names.text(embed.description).splitlines())
    row: list[str] = []  # short inline fields sit side by side, up to three a row, as in Discord
    for embed_field in embed.fields:
        name, value = names.text(embed_field.name or ""), names.text(embed_field.value or "")
        value_lines = value.splitlines() or [""]
        short = len(value_lines) == 1
        if row and (not (short and embed_field.inline) or len(row) == INLINE_PER_ROW):
            lines.append(" · ".join(row))
            row = []
        if short:
            (row if embed_field.inline else lines).append(f"{name}: {value_lines[0]}".strip())
        else:  # a list (e.g. leaderboard rows) reads better under its heading
            lines.append(name)
            lines.extend("  " + line for line in value_lines)
    if row:
        lines.append(" · ".join(row))
    footer = [names.text(embed.footer.text)] if embed.footer and embed.footer.text else []
    if embed.timestamp:
        footer.append(utc(embed.timestamp))
    if footer:
        lines.append("— " + " · ".join(footer))
    if embed.image and embed.image.url:
        lines.append(f"[image: {_file_name(embed.image.url)}]")
    return lines


PREMIUM = 6  # a button that opens Discord's checkout for a SKU


def button_line(components: Iterable[Mapping[str, Any]], skus: Mapping[int, str] | None = None) -> str | None:
    """Enabled buttons as `[🎁 Send it] [Cancel]`, a premium one as `[🛒 800 coins]` (its SKU's
    name); None when there is nothing to press."""
    labels = []
    for component in walk(components):
        if component.get("type") != 2 or component.get("disabled"):
            continue
        if component.get("style") == PREMIUM:
            sku_id = int(component.get("sku_id") or 0)
            labels.append(f"[🛒 {(skus or {}).get(sku_id, f'SKU {sku_id}')}]")
            continue
        emoji = (component.get("emoji") or {}).get("name")
        label = component.get("label") or ""
        labels.append("[" + " ".join(part for part in (emoji, label) if part) + "]")
    return " ".join(labels) or None


def walk(components: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    """Every component, nested ones (action rows, V2 layouts) included."""
    for component in components:
        yield component
        yield from walk(component.get("components") or ())


def _file_name(url: str) -> str:
    return url.removeprefix("attachment://").rsplit("/", 1)[-1].split("?", 1)[0]


@dataclass(frozen=True)
class Shown:
    """A bot message as the demo prints it, from a SimCord response or a channel message."""

    id: int
    content: str
    embeds: list[discord.Embed]
    components: list[dict[str, Any]]
    attachments: list[str]
    ephemeral: bool

    @classmethod
    def of(cls, message: Any) -> Shown:
        """Accepts `simcord.ResponseMessage` and `discord.Message` alike."""
        if isinstance(message, discord.Message):
            components: list[dict[str, Any]] = [dict(c.to_dict()) for c in message.components]
            ephemeral = message.flags.ephemeral
        else:
            components = message.components
            ephemeral = message.ephemeral
        return cls(
            id=message.id,
            content=message.content or "",
            embeds=list(message.embeds),
            components=components,
            attachments=[a.filename for a in message.attachments],
            ephemeral=ephemeral,
        )


def message_lines(
    shown: Shown,
    names: Names,
    *,
    viewer: str | None = None,
    edited: bool = False,
    place: str | None = None,
) -> list[str]:
    """`giftbot ▸ …` with the body indented under it; ephemeral replies say who sees them, and a
    message outside the main channel says where it is (`place`: "DM to Erin", "#audit")."""
    body: list[str] = []
    if shown.content:
        body.extend(names.text(shown.content).splitlines())
    for embed in shown.embeds:
        body.extend(embed_lines(embed, names))
    # An attachment an embed already shows as its image is one picture, not two.
    pictured = {line for line in body if line.startswith("[image: ")}
    body.extend(line for line in (f"[image: {name}]" for name in shown.attachments) if line not in pictured)
    buttons = button_line(shown.components, names.skus)
    if buttons:
        body.append(buttons)
    head = f"  {BOT_NAME} {ARROW} "
    if edited:
        head += "(edited) "
    if place:
        head += f"({place}) "
    if shown.ephemeral:
        head += f"(only {viewer or 'the sender'} sees this) "
    body = [line.rstrip() for line in body if line.strip()]  # blank lines would split a message
    if not body:
        body = ["(empty message)"]
    indent = " " * (len(BOT_NAME) + 5)
    return [head + body[0], *(indent + line for line in body[1:])]


def option_text(value: Any, name_of: Callable[[Any], str | None]) -> str:
    """How Discord's input box shows an option: members by name, numbers and text as typed."""
    named = name_of(value)
    if named is not None:
        return named
    if hasattr(value, "value") and not isinstance(value, int | str):
        return str(value.value)
    return str(value)


def command_line(
    actor: str, command: str, options: Mapping[str, Any], name_of: Callable[[Any], str | None]
) -> str:
    typed = " ".join(f"{key}:{option_text(value, name_of)}" for key, value in options.items())
    return f"{actor} {ARROW} /{command}" + (f" {typed}" if typed else "")

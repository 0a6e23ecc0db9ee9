"""Creators' thank-you lines: a short template with a few named placeholders."""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping

from .errors import InvalidSetting

MAX_TEMPLATE = 200
PLACEHOLDERS = ("sender", "gift", "count", "coins")
DEFAULT_TEMPLATE = "Thank you {sender} for the {gift} x{count}!"


def check_template(template: str) -> str:
    """A template a creator may save, or InvalidSetting saying exactly what is wrong."""
    text = template.strip()
    if not text:
        raise InvalidSetting("The thank-you line is empty.")
    if len(text) > MAX_TEMPLATE:
        raise InvalidSetting(f"Keep the thank-you line to {MAX_TEMPLATE} characters (it has {len(text)}).")
    allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise InvalidSetting(
            f"The thank-you line has an unmatched brace. Use only these placeholders: {allowed}; "
            "write {{ or }} for a literal brace."
        ) from exc
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
            raise InvalidSetting(f"{shown} is not a placeholder I know. Use only: {allowed}.")
    return text


def render(
    template: str,
    *,
    sender: str,
    gift: str,
    count: int,
    coins: int,
    escape: Callable[[str], str] = lambda text: text,
) -> str:
    """Fill a checked template. `escape` makes user text inert (markdown, mentions) for Discord;
    the template itself is user text too, so its literal parts are escaped the same way."""
    values: Mapping[str, str] = {
        "sender": escape(sender),
        "gift": escape(gift),
        "count": f"{count:,}",
        "coins": f"{coins:,}",
    }
    out = []
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(escape(literal))
        if name is not None:
            out.append(values[name])
    return "".join(out)

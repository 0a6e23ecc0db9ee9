"""The default gift catalogue a guild starts with, and gift-name rules."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .errors import InvalidSetting

MAX_GIFT_NAME = 32
MAX_GIFT_PRICE = 1_000_000


@dataclass(frozen=True, slots=True)
class DefaultGift:
    tiktok_id: int
    name: str
    emoji: str
    price: int
    comboable: bool


@cache
def default_gifts() -> tuple[DefaultGift, ...]:
    """TikTok's gifts (January 2024 list) with an emoji each; a guild edits its own copy."""
    text = resources.files(__package__).joinpath("data/default_gifts.csv").read_text("utf-8")
    return tuple(
        DefaultGift(
            tiktok_id=int(row["tiktok_id"]),
            name=row["name"],
            emoji=row["emoji"],
            price=int(row["coins"]),
            comboable=row["comboable"] == "1",
        )
        for row in csv.DictReader(io.StringIO(text))
    )


def name_key(name: str) -> str:
    """How gift names compare: case- and space-insensitive, so “rose” finds “Rose”."""
    return " ".join(name.split()).casefold()


def clean_gift_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidSetting("A gift needs a name.")
    if len(cleaned) > MAX_GIFT_NAME:
        raise InvalidSetting(f"Gift names are at most {MAX_GIFT_NAME} characters.")
    return cleaned


def check_price(price: int) -> int:
    if price < 1 or price > MAX_GIFT_PRICE:
        raise InvalidSetting(f"A gift's price must be between 1 and {MAX_GIFT_PRICE:,} coins.")
    return price


CUSTOM_EMOJI = re.compile(r"<a?:[A-Za-z0-9_]{2,32}:[0-9]{1,21}>")
KEYCAP_BASES = "#*0123456789"
EMOJI_JOINERS = {"\u200d"} | {chr(code) for code in range(0xE0020, 0xE0080)}  # ZWJ, flag tags


def _looks_like_emoji(text: str) -> bool:
    """Unicode emoji only: the emoji is shown as it is, so it must carry no text, markdown,
    mention or bidi control. Letters, digits, ASCII and invisible formatting are refused, except
    a keycap's base (1️⃣) and the joiners inside emoji sequences."""
    for index, char in enumerate(text):
        if char in KEYCAP_BASES and text[index + 1 : index + 2] in ("\ufe0f", "\u20e3"):
            continue
        category = unicodedata.category(char)
        if char.isascii() or category[0] in "LNZ" or category == "Cc":
            return False
        if category == "Cf" and char not in EMOJI_JOINERS:
            return False
    return True


def clean_emoji(emoji: str) -> str:
    cleaned = emoji.strip()
    if (
        not cleaned
        or len(cleaned) > 64
        or not (CUSTOM_EMOJI.fullmatch(cleaned) or _looks_like_emoji(cleaned))
    ):
        raise InvalidSetting("Give one emoji, such as 🌹 or a server emoji like <:rose:123>.")
    return cleaned

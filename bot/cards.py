"""Leaderboard card images (PNG) for announcements and boards.

The card is opaque, so its text contrast does not depend on Discord's dark or light theme, and it is
drawn with the DejaVu Sans files shipped in bot/assets/fonts (never a system font). Member names are
arbitrary Unicode: characters the font cannot draw become one neutral placeholder instead of tofu
boxes, invisible/format characters are dropped, and anything too wide is cut with an ellipsis.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]

# Palette. Text colours are chosen so every one of them has a WCAG contrast of at least 4.5:1
# against every background colour (tests/test_cards.py checks the whole grid).
BACKGROUND: RGB = (30, 31, 34)
ROW_STRIPE: RGB = (43, 45, 49)  # every other row, so long rows stay easy to follow
ACCENT: RGB = (155, 89, 182)  # bot/ui/theme.py BOARD purple; a decorative bar, never under text
TEXT: RGB = (242, 243, 245)
MUTED: RGB = (181, 186, 193)
GOLD: RGB = (255, 200, 61)
SILVER: RGB = (199, 206, 214)
BRONZE: RGB = (230, 150, 90)
SCORE: RGB = (37, 244, 238)
BACKGROUNDS: tuple[RGB, ...] = (BACKGROUND, ROW_STRIPE)
TEXT_COLOURS: tuple[RGB, ...] = (TEXT, MUTED, GOLD, SILVER, BRONZE, SCORE)
RANK_COLOURS: dict[int, RGB] = {1: GOLD, 2: SILVER, 3: BRONZE}

# Geometry (pixels).
WIDTH = 800
PADDING = 32
ACCENT_HEIGHT = 6
HEADER_HEIGHT = 110
ROW_HEIGHT = 56
FOOTER_HEIGHT = 24
MAX_ROWS = 10
GAP = 16

PLACEHOLDER = "•"  # stands for a run of characters the font cannot draw
EMPTY_NAME = "(no name)"
EMPTY_STATE = "No one is on this board yet."
MAX_MARKS = 2  # combining marks kept per character: stops "zalgo" text spilling into other rows
MAX_INPUT = 300  # characters looked at; longer input is cut (and gets an ellipsis) before shaping

_FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
_PROBE_SIZE = 32
_NOTDEF_PROBE = "\U0010fffd"  # a private-use code point no font maps: draws the .notdef box


@dataclass(frozen=True)
class CardRow:
    rank: int
    name: str
    score: int  # coins


def contrast_ratio(rgb1: RGB, rgb2: RGB) -> float:
    """WCAG 2 contrast ratio, from 1.0 (same colour) to 21.0 (black on white)."""
    lighter, darker = sorted((_luminance(rgb1), _luminance(rgb2)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(rgb: RGB) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def card_height(row_count: int) -> int:
    """Height of a card for that many rows (0 rows: an empty-state card two rows tall)."""
    rows = min(max(row_count, 0), MAX_ROWS)
    return HEADER_HEIGHT + (rows * ROW_HEIGHT if rows else 2 * ROW_HEIGHT) + FOOTER_HEIGHT


@lru_cache(maxsize=2)
def _font_bytes(bold: bool) -> bytes:
    return (resources.files("bot") / "assets" / "fonts" / _FONT_FILES[bold]).read_bytes()


@lru_cache(maxsize=16)
def _font(bold: bool, size: int, basic: bool = False) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.BASIC if basic else None  # None: Pillow's best (Raqm when present)
    return ImageFont.truetype(io.BytesIO(_font_bytes(bold)), size, layout_engine=engine)


def _glyph_mask(char: str, bold: bool) -> bytes:
    """The character drawn alone, without shaping, so a missing glyph shows as .notdef."""
    image = Image.new("L", (_PROBE_SIZE * 2, _PROBE_SIZE * 2))
    font = _font(bold, _PROBE_SIZE, basic=True)
    ImageDraw.Draw(image).text((_PROBE_SIZE // 2, _PROBE_SIZE * 3 // 2), char, 255, font, "ls")
    return image.tobytes()


@lru_cache(maxsize=4096)
def has_glyph(char: str, bold: bool = False) -> bool:
    """Whether the shipped font draws this character (rather than its .notdef box)."""
    return _glyph_mask(char, bold) != _glyph_mask(_NOTDEF_PROBE, bold)


def _invisible(char: str) -> bool:
    # Controls, format characters (zero-width joiners, bidi overrides), surrogates, private use,
    # unassigned, and variation selectors: nothing a reader should see, and risky to shape.
    code = ord(char)
    return unicodedata.category(char)[0] == "C" or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Me") or unicodedata.combining(char) != 0


def clean_text(text: str, bold: bool = False) -> str:
    """Text reduced to what the font can draw: whitespace normalised, invisible characters and
    unsupported marks dropped, each run of unsupported characters inside the text replaced by one
    PLACEHOLDER (runs at either end are dropped; a text with nothing drawable becomes PLACEHOLDER)."""
    out: list[str] = []
    marks = 0
    for char in unicodedata.normalize("NFC", text[:MAX_INPUT]):
        if char.isspace():
            if out and out[-1] != " ":
                out.append(" ")
            marks = 0
        elif _invisible(char):
            continue
        elif _is_mark(char):
            if out and out[-1] not in (" ", PLACEHOLDER) and marks < MAX_MARKS and has_glyph(char, bold):
                out.append(char)
                marks += 1
        elif has_glyph(char, bold):
            out.append(char)
            marks = 0
        elif not out or out[-1] != PLACEHOLDER:
            out.append(PLACEHOLDER)
            marks = 0
    cleaned = "".join(out).strip(" " + PLACEHOLDER)  # "🎁 Queen 🎁" reads better as "Queen"
    return cleaned or (PLACEHOLDER if PLACEHOLDER in out else "")


def _fit(text: str, font: ImageFont.FreeTypeFont, width: float, cut: bool = False) -> str:
    """The text, or its longest prefix plus '…' that fits the width (never splitting a character
    from its combining marks). cut=True: the text was already shortened, so the ellipsis is due."""
    if not cut and font.getlength(text) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # longest prefix that fits together with the ellipsis
        middle = (low + high + 1) // 2
        if font.getlength(text[:middle].rstrip() + "…") <= width:
            low = middle
        else:
            high = middle - 1
    while 0 < low < len(text) and _is_mark(text[low]):
        low -= 1
    return text[:low].rstrip() + "…"


def _label(text: str, font: ImageFont.FreeTypeFont, width: float, bold: bool, fallback: str = "") -> str:
    """User text made drawable and fitted: clean_text, a fallback when nothing is left, _fit."""
    cleaned = clean_text(text, bold) or fallback
    return _fit(cleaned, font, width, cut=len(text) > MAX_INPUT)


def score_text(score: int) -> str:
    """A score as the card writes it: words, not a coin emoji the font may lack."""
    return f"{score:,} coin" if score == 1 else f"{score:,} coins"


def render_leaderboard_card(title: str, subtitle: str, rows: Sequence[CardRow]) -> bytes:
    """The leaderboard as a PNG: a header (title, subtitle) and up to MAX_ROWS ranked rows.

    Rows past MAX_ROWS are not drawn. Same input, same bytes."""
    shown = list(rows)[:MAX_ROWS]
    height = card_height(len(shown))
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH - 1, ACCENT_HEIGHT - 1), fill=ACCENT)

    content = WIDTH - 2 * PADDING
    title_font, subtitle_font = _font(True, 30), _font(False, 18)
    draw.text((PADDING, 52), _label(title, title_font, content, True), TEXT, title_font, "ls")
    draw.text((PADDING, 84), _label(subtitle, subtitle_font, content, False), MUTED, subtitle_font, "ls")

    if not shown:
        middle = HEADER_HEIGHT + ROW_HEIGHT
        draw.text((WIDTH // 2, middle), EMPTY_STATE, MUTED, _font(False, 22), "mm")
        return _png(image)

    rank_font, name_font, score_font = _font(True, 24), _font(False, 22), _font(True, 22)
    ranks = [_fit(f"#{row.rank}", rank_font, content / 4) for row in shown]
    rank_width = max(64.0, *(rank_font.getlength(text) for text in ranks))
    scores = [_fit(score_text(row.score), score_font, content / 2) for row in shown]
    for index, (row, rank, score) in enumerate(zip(shown, ranks, scores, strict=True)):
        top = HEADER_HEIGHT + index * ROW_HEIGHT
        if index % 2 == 0:
            draw.rounded_rectangle(
                (PADDING // 2, top, WIDTH - PADDING // 2 - 1, top + ROW_HEIGHT - 1), 10, ROW_STRIPE
            )
        middle = top + ROW_HEIGHT // 2
        draw.text((PADDING, middle), rank, RANK_COLOURS.get(row.rank, MUTED), rank_font, "lm")
        draw.text((WIDTH - PADDING, middle), score, SCORE, score_font, "rm")
        name_left = PADDING + rank_width + GAP
        name_width = WIDTH - PADDING - score_font.getlength(score) - GAP - name_left
        name = _label(row.name, name_font, name_width, False, EMPTY_NAME)
        draw.text((name_left, middle), name, TEXT, name_font, "lm")
    return _png(image)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=6)  # no timestamps or metadata: deterministic bytes
    return buffer.getvalue()

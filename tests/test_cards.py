"""The leaderboard card: a readable, opaque PNG whatever the names, the same bytes for the same board."""

from __future__ import annotations

import io
from itertools import pairwise

import pytest
from PIL import Image

from bot import cards
from bot.cards import CardRow, contrast_ratio, render_leaderboard_card

HARD_NAMES = [
    "🎁🔥 Gift Queen 👑",
    "👨‍👩‍👧‍👦 family",  # emoji joined by zero-width joiners
    "山田太郎",  # CJK: not in DejaVu Sans
    "محمد علي",  # Arabic, right-to-left
    "שלום עולם",  # Hebrew, right-to-left
    "\u202eevil\u202c",  # right-to-left override
    "Z̴̢̛a̶̡l̷g̸o̵̧",  # stacked combining marks
    "e\u0301\u0301\u0301\u0301",  # one letter, many accents
    "\u0301 starts with a mark",
    "zero\u200bwidth\u200c\u200dspaces\ufeff",
    "tab\tnew\nline\x00nul",
    "lone surrogate \ud800 here",
    "🇫🇷 flag, 1️⃣ keycap, 👍🏽 skin tone",
    "𝕱𝖗𝖆𝖐𝖙𝖚𝖗 math letters",
    "",
    "   ",
    "x" * 200,
    "🔥" * 200,
]


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def board(count: int, name: str = "Member") -> list[CardRow]:
    return [CardRow(rank, f"{name} {rank}", 1000 * (count - rank + 1)) for rank in range(1, count + 1)]


def card(rows: list[CardRow], title: str = "Top gifters", subtitle: str = "This week") -> Image.Image:
    return decode(render_leaderboard_card(title, subtitle, rows))


def row_box(index: int, left: int, right: int) -> tuple[int, int, int, int]:
    top = cards.HEADER_HEIGHT + index * cards.ROW_HEIGHT
    return (left, top, right, top + cards.ROW_HEIGHT)


def colours(image: Image.Image, box: tuple[int, int, int, int]) -> list[tuple[int, int, int]]:
    """The colours in a box, most common first."""
    counts = image.crop(box).getcolors(maxcolors=1 << 16) or []
    return [colour for _count, colour in sorted(counts, reverse=True)]


def background_at(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """The colour the text of a box sits on: the box's most common colour."""
    return colours(image, box)[0]


def ink(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """The colour text is drawn in: the most common colour in the box other than its background."""
    found = colours(image, box)
    assert len(found) > 1, f"no text in {box}"
    return found[1]


def text_columns(image: Image.Image, box: tuple[int, int, int, int]) -> list[int]:
    background = background_at(image, box)
    region = image.crop(box)
    return [
        box[0] + x
        for x in range(region.width)
        if any(region.getpixel((x, y)) != background for y in range(region.height))
    ]


NAME_BOX = (120, 400)  # left of the name column .. well before the scores
RANK_BOX = (cards.PADDING, cards.PADDING + 60)
SCORE_BOX = (cards.WIDTH - cards.PADDING - 100, cards.WIDTH - cards.PADDING)


@pytest.mark.parametrize(("count", "height"), [(1, 190), (3, 302), (10, 694)])
def test_the_card_is_800_wide_and_grows_a_row_at_a_time(count, height):
    image = card(board(count))
    assert image.format == "PNG"
    assert image.size == (cards.WIDTH, height) == (800, cards.card_height(count))


def test_rows_past_the_tenth_are_not_drawn():
    assert card(board(25)).size == card(board(10)).size
    assert render_leaderboard_card("T", "S", board(25)) == render_leaderboard_card("T", "S", board(25)[:10])


def test_an_empty_board_gets_an_empty_state_card():
    image = card([])
    assert image.size == (800, cards.card_height(0))
    message = (cards.PADDING, cards.HEADER_HEIGHT, cards.WIDTH - cards.PADDING, image.height)
    assert ink(image, message) == cards.MUTED


@pytest.mark.parametrize("count", [0, 1, 3, 10])
def test_the_card_is_opaque_and_not_blank(count):
    image = card(board(count))
    assert image.mode in {"RGB", "RGBA"}
    if image.mode == "RGBA":
        assert image.getchannel("A").getextrema() == (255, 255)
    assert len(image.getcolors(maxcolors=1 << 16) or []) > 50  # anti-aliased text in several colours
    for corner in [(0, 0), (image.width - 1, 0), (0, image.height - 1), (image.width - 1, image.height - 1)]:
        assert image.getpixel(corner) in {cards.BACKGROUND, cards.ACCENT}


def test_every_text_colour_reads_on_every_background_colour():
    for text in cards.TEXT_COLOURS:
        for background in cards.BACKGROUNDS:
            assert contrast_ratio(text, background) >= 4.5, (text, background)


def test_contrast_ratio_follows_wcag():
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)
    assert contrast_ratio((49, 51, 56), (49, 51, 56)) == pytest.approx(1.0)
    assert contrast_ratio((0x76, 0x76, 0x76), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)


def test_the_drawn_text_has_the_palette_colours_and_reads_on_what_it_sits_on():
    image = card(board(5, name="Illuminati"), title="Illuminating gifts", subtitle="Midsummer Hill")
    header = [
        ((cards.PADDING, cards.ACCENT_HEIGHT, 400, 60), cards.TEXT),
        ((cards.PADDING, 64, 400, cards.HEADER_HEIGHT - 4), cards.MUTED),
    ]
    rank_colours = [cards.GOLD, cards.SILVER, cards.BRONZE, cards.MUTED, cards.MUTED]
    rows = [
        (row_box(index, *box), colour)
        for index, rank_colour in enumerate(rank_colours)
        for box, colour in [(RANK_BOX, rank_colour), (NAME_BOX, cards.TEXT), (SCORE_BOX, cards.SCORE)]
    ]
    for box, colour in header + rows:
        background = background_at(image, box)
        assert background in cards.BACKGROUNDS, box
        drawn = ink(image, box)
        assert drawn == colour, box
        assert contrast_ratio(drawn, background) >= 4.5, box


def test_rows_alternate_between_the_palette_backgrounds():
    image = card(board(4))
    left = (cards.PADDING // 2 + 2, cards.PADDING - 2)  # the strip of each row before the rank
    assert [background_at(image, row_box(index, *left)) for index in range(4)] == [
        cards.ROW_STRIPE,
        cards.BACKGROUND,
        cards.ROW_STRIPE,
        cards.BACKGROUND,
    ]


def test_scores_have_thousands_separators_and_no_emoji():
    assert cards.score_text(12345) == "12,345 coins"
    assert cards.score_text(1) == "1 coin"
    assert cards.score_text(1_000_000) == "1,000,000 coins"
    assert all(cards.has_glyph(char, bold=True) for char in cards.score_text(1_234_567_890))


@pytest.mark.parametrize("name", HARD_NAMES)
def test_any_name_renders_with_only_characters_the_font_has(name):
    image = card([CardRow(1, name, 10), CardRow(2, "Bob", 5)], title=name, subtitle=name)
    assert image.size == (800, cards.card_height(2))
    for bold in (False, True):
        cleaned = cards.clean_text(name, bold)
        assert all(cards.has_glyph(char, bold) for char in cleaned), cleaned
        assert "\u200b" not in cleaned and "\u200d" not in cleaned and "\u202e" not in cleaned


def test_glyph_coverage_is_read_from_the_shipped_font():
    assert cards.has_glyph("A") and cards.has_glyph("é") and cards.has_glyph("ب")
    assert cards.has_glyph(cards.PLACEHOLDER) and cards.has_glyph(cards.PLACEHOLDER, bold=True)
    assert not cards.has_glyph("山") and not cards.has_glyph("🪙") and not cards.has_glyph("🇫")


def test_characters_the_font_lacks_become_one_placeholder_never_a_box():
    def row(name: str) -> bytes:
        return render_leaderboard_card("Top", "Week", [CardRow(1, name, 1)])

    assert cards.clean_text("Bob 🪙🪙🪙 Ström") == "Bob • Ström"
    assert row("Bob 🪙🪙🪙 Ström") == row("Bob • Ström")
    assert row("山田太郎") == row("🪙") == row(cards.PLACEHOLDER)
    assert row("🎁 Gift Queen 👑") == row("Gift Queen")
    assert row("Gi\u200bft\u200d Qu\ufe0fe\u202een") == row("Gift Queen")
    assert row("") == row("  ") == row("\u200b") == row(cards.EMPTY_NAME)


def test_right_to_left_names_are_drawn_not_dropped():
    image = card([CardRow(1, "محمد علي", 10)])
    assert ink(image, row_box(0, *NAME_BOX)) == cards.TEXT


def test_combining_marks_are_capped_so_text_stays_in_its_row():
    assert cards.clean_text("e" + "\u0301" * 50) == "é\u0301\u0301"  # NFC, then two marks at most
    assert cards.clean_text("\u0301\u0301x") == "x"


def test_long_names_are_cut_with_an_ellipsis_before_the_score():
    def image(name: str) -> Image.Image:
        return card([CardRow(1, name, 1_234_567)])

    long = image("W" * 200)
    assert long.tobytes() == image("W" * 80).tobytes() == image("W" * 5000).tobytes()
    assert long.tobytes() != image("W" * 10).tobytes()
    left, top, right, bottom = row_box(0, 112, cards.WIDTH - cards.PADDING // 2 - 1)
    inked = text_columns(long, (left, top + 10, right, bottom - 10))  # clear of the stripe's corners
    gaps = [right - left for left, right in pairwise(inked)]
    assert max(gaps) >= cards.GAP  # the name stops well before the score begins
    assert inked[-1] <= cards.WIDTH - cards.PADDING
    assert cards._fit("W" * 200, cards._font(False, 22), 300).endswith("…")


def test_long_titles_are_cut_to_the_card():
    image = card(board(1), title="Top gifters " * 30, subtitle="week " * 100)
    for top, bottom in [(cards.ACCENT_HEIGHT, 60), (64, cards.HEADER_HEIGHT - 4)]:
        columns = text_columns(image, (0, top, cards.WIDTH, bottom))
        assert columns[-1] <= cards.WIDTH - cards.PADDING


def test_the_same_board_gives_the_same_bytes():
    rows = [CardRow(1, "Alice 🎁", 29_999), CardRow(2, "محمد", 1_000), CardRow(3, "山田", 1)]
    first = render_leaderboard_card("Top gifters — week", "Server", rows)
    assert first == render_leaderboard_card("Top gifters — week", "Server", list(rows))
    assert first != render_leaderboard_card("Top gifters — week", "Server", rows[:2])
    assert first.startswith(b"\x89PNG\r\n\x1a\n")

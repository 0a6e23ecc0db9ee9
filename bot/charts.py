"""The /budget status chart (PNG): this period's spending by day against the limit.

Bars are the coins spent each day; the gold line is the running total, so a member sees both
which days cost the most and how close the period came to the dashed limit line. Drawn with the
leaderboard card's palette and shipped fonts (bot/cards.py), on an opaque background, so it reads
the same in Discord's dark and light themes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.cards import BACKGROUND, GOLD, MUTED, RGB, ROW_STRIPE, SCORE, TEXT, _fit, _font, _label, _png

# Bars of days on which the running total went past the limit.
OVER: RGB = (255, 99, 120)  # a light red: the bar's value is written on it in the background colour
TEXT_COLOURS: tuple[RGB, ...] = (TEXT, MUTED)  # on the background
BAR_COLOURS: tuple[RGB, ...] = (SCORE, OVER)  # with BACKGROUND-coloured text on them

WIDTH, HEIGHT = 640, 320
PADDING = 24
PLOT_TOP = 96  # below the title and subtitle
PLOT_BOTTOM = HEIGHT - 40  # above the day labels
LABEL_Y = HEIGHT - 18
HEADROOM = 1.1  # the top of the plot is 10% above the highest value shown
MIN_BAR = 3  # pixels: the height of the smallest bar
LABEL_INSIDE = 20  # pixels: a bar at least this tall has its value written inside it
BAR_SHARE = 0.7  # of each day's slot; the rest is the gap between bars
DASH, GAP = 8, 6


@dataclass(frozen=True)
class DaySpend:
    label: str  # under the bar: "Mon", "5"
    coins: int
    today: bool = False


def plot_scale(days: Sequence[DaySpend], limit: int | None) -> int:
    """The coin value at the top of the plot (at least 1)."""
    running = sum(max(day.coins, 0) for day in days)
    return max(1, round(max(running, limit or 0) * HEADROOM))


def y_of(value: int, scale: int) -> int:
    """The pixel row of a coin value on the plot."""
    return round(PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * min(value, scale) / scale)


def _slots(count: int) -> list[tuple[int, int]]:
    """(left, right) of each day's bar."""
    width = (WIDTH - 2 * PADDING) / max(count, 1)
    bar = max(2.0, width * BAR_SHARE)
    return [
        (round(PADDING + i * width + (width - bar) / 2), round(PADDING + i * width + (width + bar) / 2))
        for i in range(count)
    ]


def _dashed(draw: ImageDraw.ImageDraw, y: int, colour: RGB) -> None:
    x = PADDING
    while x < WIDTH - PADDING:
        draw.line((x, y, min(x + DASH, WIDTH - PADDING), y), fill=colour, width=2)
        x += DASH + GAP


def _day_labels(
    draw: ImageDraw.ImageDraw, days: Sequence[DaySpend], slots: list[tuple[int, int]], today: int | None
) -> None:
    """Every day's label for a week or less; for a month, one a week and today's (in bold)."""
    day_font, today_font = _font(False, 13), _font(True, 13)
    for index, (day, (left, right)) in enumerate(zip(days, slots, strict=True)):
        weekly = index % 7 == 0 and (today is None or abs(index - today) > 1)
        if len(days) <= 7 or weekly or index == today:
            font = today_font if index == today else day_font
            label = _fit(day.label, font, max(right - left + 16, 24))
            colour = TEXT if index == today else MUTED
            draw.text(((left + right) // 2, LABEL_Y), label, colour, font, "ms")


def render_spending_chart(
    title: str, subtitle: str, days: Sequence[DaySpend], *, limit: int | None, empty: str = "No gifts yet."
) -> bytes:
    """One bar per day (in order), the running total, and the limit. Same input, same bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    content = WIDTH - 2 * PADDING
    title_font, subtitle_font = _font(True, 24), _font(False, 16)
    draw.text((PADDING, 40), _label(title, title_font, content, True), TEXT, title_font, "ls")
    draw.text((PADDING, 68), _label(subtitle, subtitle_font, content, False), MUTED, subtitle_font, "ls")
    draw.line((PADDING, PLOT_BOTTOM, WIDTH - PADDING, PLOT_BOTTOM), fill=ROW_STRIPE, width=2)

    scale = plot_scale(days, limit)
    if limit is not None:
        limit_y = y_of(limit, scale)
        _dashed(draw, limit_y, MUTED)
        small = _font(False, 13)
        draw.text((WIDTH - PADDING, limit_y - 4), f"limit {limit:,}", MUTED, small, "rb")

    slots = _slots(len(days))
    today = next((index for index, day in enumerate(days) if day.today), None)
    value_font = _font(True, 12)
    running, points, values = 0, [], []
    for day, (left, right) in zip(days, slots, strict=True):
        coins = max(day.coins, 0)
        running += coins
        if coins:
            top = min(y_of(coins, scale), PLOT_BOTTOM - MIN_BAR)  # a tiny spend still shows
            over = limit is not None and running > limit
            draw.rectangle((left, top, right, PLOT_BOTTOM - 1), fill=OVER if over else SCORE)
            if value_font.getlength(f"{coins:,}") <= right - left - 4:
                values.append(((left + right) // 2, top, f"{coins:,}"))
        points.append(((left + right) // 2, y_of(running, scale)))
    _day_labels(draw, days, slots, today)

    if today is not None:
        points = points[: today + 1]  # the running total stops today: the rest is still to come
    if running:
        if len(points) > 1:
            draw.line(points, fill=GOLD, width=3, joint="curve")
        for x, y in points:
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=GOLD)
        for x, top, value in values:  # on top of the line, so they stay readable
            if PLOT_BOTTOM - top >= LABEL_INSIDE:
                draw.text((x, top + 5), value, BACKGROUND, value_font, "mt")
            else:
                draw.text((x, top - 3), value, TEXT, value_font, "mb")
    else:
        middle = (PLOT_TOP + PLOT_BOTTOM) // 2
        draw.text((WIDTH // 2, middle), _fit(empty, _font(False, 18), content), MUTED, _font(False, 18), "mm")
    return _png(image)

"""The /budget status chart: an opaque PNG with a bar per day, the running total and the limit."""

from __future__ import annotations

import io
from collections import Counter

from PIL import Image

from bot import charts
from bot.cards import BACKGROUND, GOLD, MUTED, contrast_ratio
from bot.charts import OVER, SCORE, DaySpend, plot_scale, render_spending_chart, y_of

WEEK = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def week(*coins: int, today: int = 2) -> list[DaySpend]:
    return [
        DaySpend(label, c, index == today) for index, (label, c) in enumerate(zip(WEEK, coins, strict=True))
    ]


def pixels(image: Image.Image) -> Counter[tuple[int, int, int]]:
    """How many pixels of each colour."""
    return Counter({colour: count for count, colour in image.getcolors(maxcolors=1 << 18) or []})


def column(image: Image.Image, x: int) -> Counter[tuple[int, int, int]]:
    """The colours down one pixel column of the plot."""
    return Counter(image.getpixel((x, y)) for y in range(charts.PLOT_TOP, charts.PLOT_BOTTOM))


def bar_centre(index: int, count: int) -> int:
    left, right = charts._slots(count)[index]
    return (left + right) // 2


def test_the_chart_is_an_opaque_png_of_a_fixed_size():
    image = decode(
        render_spending_chart(
            "Your spending this week", "300 of 1,000", week(100, 0, 200, 0, 0, 0, 0), limit=1000
        )
    )
    assert image.format == "PNG" and image.mode == "RGB"
    assert image.size == (charts.WIDTH, charts.HEIGHT)
    assert len(image.getcolors(maxcolors=1 << 16) or []) > 10  # not blank: text, bars, lines


def bar_top(image: Image.Image, index: int, count: int) -> int | None:
    """The highest pixel row of a day's bar (None: no bar), looked for near the bar's left edge."""
    x = charts._slots(count)[index][0] + 1
    rows = [y for y in range(charts.PLOT_TOP, charts.PLOT_BOTTOM) if image.getpixel((x, y)) in (SCORE, OVER)]
    return min(rows) if rows else None


def test_each_day_with_spending_gets_a_bar_in_proportion():
    days = week(100, 0, 300, 0, 0, 0, 0)
    image = decode(render_spending_chart("t", "s", days, limit=1000))
    scale = plot_scale(days, 1000)
    assert bar_top(image, 1, 7) is None  # no spending, no bar
    # (the running total's line may cover a pixel or two of a bar's top)
    assert abs(bar_top(image, 0, 7) - y_of(100, scale)) <= 3
    assert abs(bar_top(image, 2, 7) - y_of(300, scale)) <= 3
    assert charts.PLOT_BOTTOM - y_of(300, scale) > 2.5 * (charts.PLOT_BOTTOM - y_of(100, scale))


def test_the_limit_is_a_dashed_line_and_days_past_it_turn_red():
    days = week(600, 300, 200, 0, 0, 0, 0, today=3)
    image = decode(render_spending_chart("t", "s", days, limit=1000))
    limit_row = y_of(1000, plot_scale(days, 1000))
    row = [image.getpixel((x, limit_row)) for x in range(charts.PADDING, charts.WIDTH // 2)]
    assert MUTED in row and BACKGROUND in row  # dashes, with gaps between them
    assert column(image, bar_centre(0, 7))[SCORE] > 0  # 600: under the limit
    assert column(image, bar_centre(2, 7))[OVER] > 0  # the running total reached 1,100 that day


def test_the_running_total_is_drawn_in_gold():
    image = decode(render_spending_chart("t", "s", week(100, 100, 100, 0, 0, 0, 0), limit=1000))
    assert pixels(image)[GOLD] > 50


def test_an_empty_period_still_shows_the_limit_and_says_so():
    days = week(0, 0, 0, 0, 0, 0, 0)
    empty = decode(render_spending_chart("t", "s", days, limit=500, empty="No gifts yet this week."))
    spent = decode(render_spending_chart("t", "s", week(50, 0, 0, 0, 0, 0, 0), limit=500))
    assert pixels(empty)[SCORE] == 0 and pixels(empty)[GOLD] == 0
    assert pixels(empty)[MUTED] > 0  # the limit line and the empty-state text
    assert empty.tobytes() != spent.tobytes()


def test_a_month_and_a_single_day_fit():
    month = [DaySpend(str(d), d * 10, d == 15) for d in range(1, 32)]
    day = [DaySpend("Thu 1 Jan", 70, True)]
    for days in (month, day):
        image = decode(render_spending_chart("t", "s", days, limit=100_000_000))
        assert image.size == (charts.WIDTH, charts.HEIGHT)
        assert pixels(image)[SCORE] > 0  # tiny against a huge limit, but visible


def test_the_same_input_gives_the_same_bytes():
    days = week(1, 2, 3, 4, 5, 6, 7)
    assert render_spending_chart("t", "s", days, limit=30) == render_spending_chart("t", "s", days, limit=30)


def test_text_colours_are_readable_on_what_they_are_written_on():
    for colour in charts.TEXT_COLOURS:
        assert contrast_ratio(colour, BACKGROUND) >= 4.5
    for bar in charts.BAR_COLOURS:  # a bar's value, written inside it
        assert contrast_ratio(BACKGROUND, bar) >= 4.5


def test_the_running_total_stops_at_today():
    image = decode(render_spending_chart("t", "s", week(100, 100, 100, 0, 0, 0, 0, today=2), limit=1000))
    past_today = bar_centre(3, 7)
    assert all(
        image.getpixel((x, y)) != GOLD
        for x in range(past_today, charts.WIDTH - charts.PADDING)
        for y in range(charts.PLOT_TOP, charts.PLOT_BOTTOM)
    )
    assert any(
        image.getpixel((bar_centre(2, 7), y)) == GOLD for y in range(charts.PLOT_TOP, charts.PLOT_BOTTOM)
    )

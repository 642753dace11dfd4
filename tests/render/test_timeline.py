"""The uptime picture is a real PNG of the size the layout says, each cell in its condition's colour."""

from __future__ import annotations

import io

from PIL import Image

from bot.render.palette import BACKGROUND, condition_colour
from bot.render.timeline import cell_box, picture_size, timeline_png
from bot.store.uptime import Condition

ROWS = [
    [Condition.UP, Condition.DOWN, Condition.CRASHED, Condition.NO_DATA, Condition.UP, Condition.UP, Condition.UP],
    [Condition.NO_DATA] * 3 + [Condition.UP] * 4,
]


def test_the_picture_is_a_png_of_the_expected_size_and_colours() -> None:
    data = timeline_png(ROWS)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    Image.open(io.BytesIO(data)).verify()  # a complete, valid PNG
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.size == picture_size(2, 7)
    for row, conditions in enumerate(ROWS):
        for cell, condition in enumerate(conditions):
            left, top, right, bottom = cell_box(row, cell, 7)
            for x, y in ((left, top), (right, bottom), ((left + right) // 2, (top + bottom) // 2)):
                assert image.getpixel((x, y)) == condition_colour(condition).to_rgb()
    assert image.getpixel((0, 0)) == BACKGROUND.to_rgb()


def test_every_condition_has_its_own_colour_and_none_is_the_background() -> None:
    colours = {condition_colour(condition).to_rgb() for condition in Condition}
    assert len(colours) == len(Condition)
    assert BACKGROUND.to_rgb() not in colours


def test_hourly_cells_of_two_days_fit_and_a_long_window_keeps_cells_visible() -> None:
    assert picture_size(1, 48)[0] <= 600
    width, _ = picture_size(3, 365)
    assert width >= 365 * 4

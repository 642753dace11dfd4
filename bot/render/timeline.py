"""The uptime picture: a small PNG, one row per server, one cell per hour or per day, coloured by condition
(palette: green up, grey down, red crashed, dark no data). Drawn with Pillow; no text is drawn, so no name
of a server ever reaches the picture: the message lists the rows in the same order."""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.render.palette import BACKGROUND, condition_colour
from bot.store.uptime import Condition

PADDING = 4
GAP = 1
ROW_HEIGHT = 16
TARGET_WIDTH = 480  # of the cells together, about: a day of hours or a week of days stays readable
MIN_CELL, MAX_CELL = 4, 40
FILENAME = "uptime.png"


def cell_width(cells: int) -> int:
    return max(MIN_CELL, min(MAX_CELL, TARGET_WIDTH // max(cells, 1)))


def picture_size(rows: int, cells: int) -> tuple[int, int]:
    """Width and height in pixels of the picture of `rows` servers of `cells` cells each."""
    width = 2 * PADDING + cells * cell_width(cells) + (cells - 1) * GAP
    height = 2 * PADDING + rows * ROW_HEIGHT + (rows - 1) * GAP
    return width, height


def cell_box(row: int, cell: int, cells: int) -> tuple[int, int, int, int]:
    """The pixels (left, top, right, bottom; inclusive) of one cell."""
    width = cell_width(cells)
    left = PADDING + cell * (width + GAP)
    top = PADDING + row * (ROW_HEIGHT + GAP)
    return left, top, left + width - 1, top + ROW_HEIGHT - 1


def timeline_png(rows: Sequence[Sequence[Condition]]) -> bytes:
    """The picture of `rows` (each the cells of one server, all of one length), as PNG bytes."""
    # Imported on the first /uptime, not at start-up: Pillow costs an idle bot about 4.5 MiB of its memory.
    from PIL import Image, ImageDraw  # noqa: PLC0415

    cells = max((len(row) for row in rows), default=1)
    image = Image.new("RGB", picture_size(max(len(rows), 1), cells), BACKGROUND.to_rgb())
    draw = ImageDraw.Draw(image)
    for index, row in enumerate(rows):
        for cell, condition in enumerate(row):
            draw.rectangle(cell_box(index, cell, cells), fill=condition_colour(condition).to_rgb())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()

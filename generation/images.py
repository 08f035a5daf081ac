"""Pictures out of the engine, made ready to post (PIL only: no torch import)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image

POST_SIZE = 256  # images are posted at least this wide/high (DALL·E Mini's own size)
GUTTER = 4  # pixels of white between the tiles of a grid, so each picture reads as its own


def grid_shape(count: int, columns: int | None = None) -> tuple[int, int]:
    """(columns, rows) of the grid for `count` images: square-ish unless `columns` is given."""
    if count < 1:
        raise ValueError("no images to tile")
    columns = columns or math.ceil(math.sqrt(count))
    return columns, math.ceil(count / columns)


def make_grid(
    images: Sequence[Image.Image], columns: int | None = None, *, gutter: int = GUTTER
) -> Image.Image:
    """Tile images (all the same size) row by row, `gutter` white pixels between them."""
    if not images:
        raise ValueError("no images to tile")
    if len(images) == 1:
        return images[0]
    columns, rows = grid_shape(len(images), columns)
    w, h = images[0].size
    grid = Image.new("RGB", (columns * w + (columns - 1) * gutter, rows * h + (rows - 1) * gutter), "white")
    for i, image in enumerate(images):
        grid.paste(image, ((i % columns) * (w + gutter), (i // columns) * (h + gutter)))
    return grid


def split_grid(grid: Image.Image, count: int, *, gutter: int = GUTTER) -> list[Image.Image]:
    """The `count` tiles of a grid `make_grid` made (its default columns and this gutter)."""
    if count == 1:
        return [grid]
    columns, rows = grid_shape(count)
    w = (grid.width - (columns - 1) * gutter) // columns
    h = (grid.height - (rows - 1) * gutter) // rows
    if w < 1 or h < 1:
        raise ValueError(f"a {grid.width}×{grid.height} image is not a grid of {count}")
    boxes = [((i % columns) * (w + gutter), (i // columns) * (h + gutter)) for i in range(count)]
    return [grid.crop((x, y, x + w, y + h)) for x, y in boxes]


def to_post_size(image: Image.Image, size: int = POST_SIZE) -> Image.Image:
    """Upsample an image smaller than `size` (the embedded model draws 64×64) to `size` wide."""
    if image.width >= size:
        return image
    scale = size / image.width
    return image.resize((size, round(image.height * scale)), Image.Resampling.LANCZOS)

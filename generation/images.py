"""Pictures out of the engine, made ready to post (PIL only: no torch import)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image

POST_SIZE = 256  # images are posted at least this wide/high (DALL·E Mini's own size)


def make_grid(images: Sequence[Image.Image], columns: int | None = None) -> Image.Image:
    """Tile images (all the same size) row by row; columns default to a square-ish layout."""
    if not images:
        raise ValueError("no images to tile")
    if len(images) == 1:
        return images[0]
    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    w, h = images[0].size
    grid = Image.new("RGB", (columns * w, rows * h), "white")
    for i, image in enumerate(images):
        grid.paste(image, ((i % columns) * w, (i // columns) * h))
    return grid


def to_post_size(image: Image.Image, size: int = POST_SIZE) -> Image.Image:
    """Upsample an image smaller than `size` (the embedded model draws 64×64) to `size` wide."""
    if image.width >= size:
        return image
    scale = size / image.width
    return image.resize((size, round(image.height * scale)), Image.Resampling.LANCZOS)

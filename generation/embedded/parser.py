"""A classical parser for world images and the prompt-fidelity score built on it.

Deterministic and free of learned parts, so it can judge the model: colour segmentation
(nearest palette colour), connected components per colour, shape classification by overlap
with the world's own shape templates, size from the area, and relations from the centres.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from PIL import Image

from generation.embedded.world import BACKGROUNDS, COLOURS, IMAGE_SIZE, SHAPES, SIZES, Claims, shape_mask

_MAX_COLOUR_DISTANCE = 70.0  # RGB distance beyond which a pixel is "no palette colour"
_MIN_AREA = 20  # components smaller than this are noise (the smallest shape has > 40 pixels)
_PALETTE_NAMES = (*COLOURS, *(f"bg:{b}" for b in BACKGROUNDS))
_PALETTE = np.array([*COLOURS.values(), *BACKGROUNDS.values()], np.float32)


@dataclass(frozen=True)
class ParsedObject:
    shape: str
    colour: str
    size: str
    x: float  # centre of the bounding box, pixels of the 64×64 image
    y: float
    area: int


@dataclass(frozen=True)
class ParsedImage:
    background: str
    objects: tuple[ParsedObject, ...]


def parse(image: Image.Image | np.ndarray) -> ParsedImage:
    """List the objects (shape, colour, size, centre) and the background an image shows."""
    pixels = _as_array(image)
    labels = _segment(pixels)
    n_colours = len(COLOURS)
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    border = border[border >= n_colours]
    bg_index = int(np.bincount(border).argmax()) if border.size else n_colours
    background = _PALETTE_NAMES[bg_index].removeprefix("bg:")
    objects = []
    for index, colour in enumerate(COLOURS):
        for component in _components(labels == index):
            if len(component[0]) >= _MIN_AREA:
                objects.append(_describe(component, colour))
    objects.sort(key=lambda o: (o.y, o.x))
    return ParsedImage(background, tuple(objects))


def _as_array(image: Image.Image | np.ndarray) -> np.ndarray:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image = image.convert("RGB")
    if image.size != (IMAGE_SIZE, IMAGE_SIZE):
        image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)
    return np.asarray(image, np.float32)


def _segment(pixels: np.ndarray) -> np.ndarray:
    """Palette index per pixel; -1 where no palette colour is near."""
    distance = np.linalg.norm(pixels[:, :, None, :] - _PALETTE[None, None], axis=-1)  # (H, W, P)
    labels = distance.argmin(-1)
    labels[distance.min(-1) > _MAX_COLOUR_DISTANCE] = -1
    return labels


def _components(mask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """4-connected components of a boolean mask as (rows, cols) index arrays."""
    seen = np.zeros_like(mask)
    height, width = mask.shape
    found = []
    for start_y, start_x in zip(*np.nonzero(mask), strict=True):
        if seen[start_y, start_x]:
            continue
        seen[start_y, start_x] = True
        queue, rows, cols = deque([(start_y, start_x)]), [], []
        while queue:
            y, x = queue.popleft()
            rows.append(y)
            cols.append(x)
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < height and 0 <= nx < width and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    queue.append((ny, nx))
        found.append((np.array(rows), np.array(cols)))
    return found


def _describe(component: tuple[np.ndarray, np.ndarray], colour: str) -> ParsedObject:
    rows, cols = component
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    extent = max(bottom - top, right - left)
    nearest = min(SIZES, key=lambda s: abs(2 * SIZES[s] - extent))
    crop = np.zeros((bottom - top, right - left), bool)
    crop[rows - top, cols - left] = True
    shape = max(SHAPES, key=lambda s: _overlap(crop, s, SIZES[nearest]))
    # size from the area against that shape's templates: a blurred star's thin tips shrink its
    # extent much more than its area, and the three sizes differ by 2–3× in area
    area = len(rows)
    size = min(SIZES, key=lambda s: abs(np.log(area / shape_mask(shape, SIZES[s]).sum())))
    return ParsedObject(shape, colour, size, (left + right) / 2, (top + bottom) / 2, area)


def _overlap(crop: np.ndarray, shape: str, r: int) -> float:
    """IoU of a component with a shape template stretched to the component's bounding box."""
    template = shape_mask(shape, r)
    ys, xs = np.nonzero(template)
    template = template[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape
    rows = (np.arange(h) + 0.5) * template.shape[0] / h
    cols = (np.arange(w) + 0.5) * template.shape[1] / w
    stretched = template[rows.astype(int)[:, None], cols.astype(int)[None, :]]
    union = np.logical_or(crop, stretched).sum()
    return float(np.logical_and(crop, stretched).sum() / max(union, 1))


# -- scoring ---------------------------------------------------------------------------------


def check(parsed: ParsedImage, claims: Claims) -> list[str]:
    """What the image gets wrong against the caption's claims; empty when everything matches."""
    errors = []
    if claims.background and parsed.background != claims.background:
        errors.append(f"background {parsed.background}, wanted {claims.background}")
    if len(parsed.objects) != len(claims.objects):
        errors.append(f"{len(parsed.objects)} objects, wanted {len(claims.objects)}")
    assigned = _assign(parsed.objects, claims)
    for index, claim in enumerate(claims.objects):
        obj = assigned.get(index)
        if obj is None:
            errors.append(f"no {claim.colour} {claim.shape}")
            continue
        if claim.size and obj.size != claim.size:
            errors.append(f"{claim.colour} {claim.shape} is {obj.size}, wanted {claim.size}")
        if claim.position and not _at(obj, claim.position):
            errors.append(f"{claim.colour} {claim.shape} not at {claim.position}")
    for subject, relation, other in claims.relations:
        a, b = assigned.get(subject), assigned.get(other)
        if a is not None and b is not None and not _related(a, relation, b):
            errors.append(f"object {subject} not {relation} object {other}")
    return errors


def matches(image: Image.Image | np.ndarray, claims: Claims) -> bool:
    """Whether every object, colour, shape, size, count, position and relation is right."""
    return not check(parse(image), claims)


def object_hits(parsed: ParsedImage, claims: Claims) -> int:
    """How many of the claimed objects the image shows with the claimed shape and colour."""
    return len(_assign(parsed.objects, claims))


def _assign(objects: tuple[ParsedObject, ...], claims: Claims) -> dict[int, ParsedObject]:
    free = list(objects)
    assigned = {}
    for index, claim in enumerate(claims.objects):
        candidates = [o for o in free if (o.colour, o.shape) == (claim.colour, claim.shape)]
        if claim.size:
            candidates.sort(key=lambda o: o.size != claim.size)
        if candidates:
            assigned[index] = candidates[0]
            free.remove(candidates[0])
    return assigned


def _at(obj: ParsedObject, position: str) -> bool:
    third = IMAGE_SIZE / 3
    if position == "left":
        return obj.x < IMAGE_SIZE / 2 - 4
    if position == "right":
        return obj.x > IMAGE_SIZE / 2 + 4
    if position == "top":
        return obj.y < IMAGE_SIZE / 2 - 4
    if position == "bottom":
        return obj.y > IMAGE_SIZE / 2 + 4
    return abs(obj.x - IMAGE_SIZE / 2) < third / 2 and abs(obj.y - IMAGE_SIZE / 2) < third / 2


def _related(a: ParsedObject, relation: str, b: ParsedObject) -> bool:
    dx, dy = b.x - a.x, b.y - a.y  # from subject to object
    if relation == "above":
        return dy > 4 and abs(dy) > abs(dx)
    if relation == "below":
        return dy < -4 and abs(dy) > abs(dx)
    if relation == "left":
        return dx > 4 and abs(dx) > abs(dy)
    if relation == "right":
        return dx < -4 and abs(dx) > abs(dy)
    if relation == "beside":
        return abs(dx) > 4 and abs(dx) > abs(dy)
    raise ValueError(f"unknown relation {relation!r}")

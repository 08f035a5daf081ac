"""Object-part image tokens of the things world: which object a patch belongs to, and which part.

Because the world draws on the token grid (centres on multiples of 8), an object at a size always
covers the same patches, cut the same way: 2×2 patches for half-extent 6 (a small shape), 4×4 for
10 and 14, 6×6 for 20.
So every non-empty patch is (class, part): the class a thing at a size, or a shape in a colour at
a size; the part its place in the object's box (row × 6 + column). The codebook is every class's
non-empty parts, rendered once: complete and exact, nothing to fit, and no held-out scene can
miss it. A transformer head factored as (group = background or class, index = background or
part) then gives an unsure patch a part of some thing, never the group of one code and the index
of another (the failure of factoring arbitrary code ids, `things_train.head_sizes`).

Overlaps: where two objects cover one patch (the world's "on" puts the upper object's bottom edge
in the lower one's top row of patches), the patch is the part of the object drawn last that has a
pixel there; the other's pixels in that patch are lost. `things_train.vqgan_figures` measures
what that costs (the painted held-out scenes' PSNR and detection).

Token ids: 0..9 the backgrounds (`things_world.BACKGROUNDS` in order), then 10 + the code's row.
"""

from __future__ import annotations

import numpy as np
import torch

from generation.embedded.things import things
from generation.embedded.things_vq import ThingCodebooks
from generation.embedded.things_world import (
    BACKGROUNDS,
    IMAGE_SIZE,
    RADII,
    SHAPE_RADII,
    ThingScene,
    object_pixels,
)
from generation.embedded.vqgan_train import PATCH
from generation.embedded.world import COLOURS, SHAPES

PART_COLUMNS = 6  # the widest object box, in patches (half-extent 20 at a grid corner)
PARTS = PART_COLUMNS * PART_COLUMNS
_GRID = IMAGE_SIZE // PATCH
_BACKGROUND_COUNT = len(BACKGROUNDS)

ObjectClass = tuple[str, str | None, int]  # (thing or shape, colour of a shape, half-extent)


def object_classes() -> list[ObjectClass]:
    """Every object the world can draw, in a fixed order: each thing at each of its sizes, then
    each shape in each colour at each of its sizes."""
    found: list[ObjectClass] = [(t, None, r) for t in sorted(things()) for r in sorted(RADII.values())]
    return found + [(s, c, r) for s in SHAPES for c in COLOURS for r in sorted(SHAPE_RADII.values())]


def _first_patch(centre: int, r: int) -> int:
    return (centre - r) // PATCH


def class_parts(obj: ObjectClass) -> dict[int, np.ndarray]:
    """part -> its (256,) premultiplied RGBA patch, 0..1 (rounded to 3 places), for the non-empty
    patches of the object drawn with its centre on a grid corner."""
    thing, colour, r = obj
    rgb, alpha = object_pixels(thing, colour, r)
    centre = IMAGE_SIZE // 2
    layer = np.zeros((IMAGE_SIZE, IMAGE_SIZE, 4), np.float32)
    layer[centre - r : centre + r, centre - r : centre + r, :3] = rgb / 255.0 * alpha[..., None]
    layer[centre - r : centre + r, centre - r : centre + r, 3] = alpha
    first, last = _first_patch(centre, r), (centre + r - 1) // PATCH
    parts = {}
    for py in range(first, last + 1):
        for px in range(first, last + 1):
            patch = layer[py * PATCH : (py + 1) * PATCH, px * PATCH : (px + 1) * PATCH]
            if patch[..., 3].max() > 0:
                parts[(py - first) * PART_COLUMNS + (px - first)] = np.round(patch.reshape(-1), 3)
    return parts


def object_codebooks() -> ThingCodebooks:
    """Every class's non-empty parts as content codes, labelled (class, part)."""
    rows, labels = [], []
    for c, obj in enumerate(object_classes()):
        for part, patch in class_parts(obj).items():
            rows.append(patch)
            labels.append((c, part))
    return ThingCodebooks(np.stack(rows).astype(np.float32), np.array(labels, np.int64))


def head_table(codebooks: ThingCodebooks) -> tuple[tuple[int, int, int], torch.Tensor]:
    """The factored head's part sizes (groups, indices, 1) and every token id's (group, index, 0):
    a background is (0, PARTS + background), a content code (1 + class, part). Backgrounds get
    indices of their own, so an index the head is unsure of is a part or a background, not both."""
    if codebooks.labels is None:
        raise ValueError("head_table needs object-part codebooks (things_tokens.object_codebooks)")
    labels = torch.from_numpy(codebooks.labels)
    background = torch.stack([torch.zeros(_BACKGROUND_COUNT, dtype=torch.long),
                              PARTS + torch.arange(_BACKGROUND_COUNT)], dim=1)  # fmt: skip
    table = torch.cat([background, torch.stack([labels[:, 0] + 1, labels[:, 1]], dim=1)])
    table = torch.cat([table, torch.zeros(len(table), 1, dtype=torch.long)], dim=1)  # (V, 3)
    groups = int(labels[:, 0].max()) + 2
    return (groups, PARTS + _BACKGROUND_COUNT, 1), table


def encode_objects(scenes: list[ThingScene], codebooks: ThingCodebooks) -> np.ndarray:
    """Scenes -> token ids (B, 64) int64 from their objects' classes and places (no pixels read):
    the background's id where no object has a pixel, else the last-drawn object's part there."""
    if codebooks.labels is None:
        raise ValueError("encode_objects needs object-part codebooks (things_tokens.object_codebooks)")
    classes = {obj: c for c, obj in enumerate(object_classes())}
    parts: dict[int, list[tuple[int, int]]] = {}
    for row, (c, part) in enumerate(codebooks.labels.tolist()):
        parts.setdefault(c, []).append((part, _BACKGROUND_COUNT + row))
    names = list(BACKGROUNDS)
    out = np.empty((len(scenes), _GRID, _GRID), np.int64)
    for i, scene in enumerate(scenes):
        out[i] = names.index(scene.background)
        for obj in scene.objects:
            key = (obj.thing, obj.colour if obj.thing in SHAPES else None, obj.r)
            x0, y0 = _first_patch(obj.x, obj.r), _first_patch(obj.y, obj.r)
            for part, token in parts[classes[key]]:
                py, px = y0 + part // PART_COLUMNS, x0 + part % PART_COLUMNS
                if 0 <= py < _GRID and 0 <= px < _GRID:
                    out[i, py, px] = token
    return out.reshape(len(scenes), _GRID * _GRID)

"""Seeing the things world: which objects (things or coloured shapes) an image shows, and where.

Template matching against the world's own renders. The background is the world's background
nearest to the image's border. Every box the world can draw — centres on a grid of `step` pixels,
half-extents 10, 14, 20 for a thing, 6, 10, 14 for a shape — is compared with every object
template of that size composited onto that background
(mean squared error over the box, one matrix product per size); a box holds an object when its
best template explains it at least `ratio` times better than bare background, and below
`max_error`. Boxes are then taken best first, skipping any that overlaps one already taken.
`check` compares what was seen with a prompt's claims, as `parser.check` does for the shapes world.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from PIL import Image

from generation.embedded.claims import PromptClaims, ThingClaim
from generation.embedded.things import things
from generation.embedded.things_world import BACKGROUNDS, IMAGE_SIZE, RADII, SHAPE_RADII, object_pixels
from generation.embedded.world import BACKGROUNDS as SHAPE_BACKGROUNDS
from generation.embedded.world import COLOURS, SHAPES

# Every background a claim can name; the shapes world's "white" is the things world's "plain".
ALL_BACKGROUNDS = {**BACKGROUNDS, **{k: v for k, v in SHAPE_BACKGROUNDS.items() if k != "white"}}


@dataclass(frozen=True)
class Detection:
    thing: str  # a thing id or a shape
    colour: str | None  # a shape's colour
    r: int  # half-extent in pixels
    x: int  # centre, pixels of the 64×64 image
    y: int
    error: float  # mean squared error of the box against the template, 0-255 scale


@dataclass(frozen=True)
class Seen:
    background: str
    objects: tuple[Detection, ...]


class Detector:
    """Template matcher over every thing and coloured shape (or the given subset of thing ids)."""

    def __init__(self, thing_ids: list[str] | None = None, *, step: int = 8, ratio: float = 4.0,
                 max_error: float = 900.0) -> None:  # fmt: skip
        ids = sorted(things()) if thing_ids is None else list(thing_ids)
        self.classes: list[tuple[str, str | None]] = [(t, None) for t in ids]
        self.classes += [(s, c) for s in SHAPES for c in COLOURS]
        self.step, self.ratio, self.max_error = step, ratio, max_error

    @cached_property
    def _sized_classes(self) -> dict[int, list[tuple[str, str | None]]]:
        """r -> the classes drawn at that half-extent (things and shapes have sizes of their own)."""
        radii = sorted({*RADII.values(), *SHAPE_RADII.values()})
        return {
            r: [(t, c) for t, c in self.classes if r in (SHAPE_RADII if t in SHAPES else RADII).values()]
            for r in radii
        }

    @cached_property
    def _templates(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """r -> (premultiplied rgb (N_r, D), alpha repeated per channel (N_r, D)), D = 2r·2r·3."""
        built = {}
        for r, classes in self._sized_classes.items():
            if not classes:
                continue
            rgb, alpha = zip(*(object_pixels(t, c, r) for t, c in classes), strict=True)
            a = np.stack(alpha)[..., None].repeat(3, -1).reshape(len(classes), -1)
            built[r] = (np.stack(rgb).reshape(len(classes), -1) * a, a)
        return built

    @lru_cache(maxsize=16)  # noqa: B019 (one detector per evaluation; the cache is its point)
    def _composites(self, background: str) -> dict[int, np.ndarray]:
        """r -> every template composited onto the background (N, D)."""
        colour = np.array(ALL_BACKGROUNDS[background], np.float32)
        return {r: p + np.tile(colour, (2 * r) ** 2)[None] * (1 - a) for r, (p, a) in self._templates.items()}

    def __call__(self, image: Image.Image | np.ndarray) -> Seen:
        """What the image shows: its background and the objects found, top to bottom."""
        pixels = _as_array(image)
        background = nearest_background(pixels)
        colour = np.array(ALL_BACKGROUNDS[background], np.float32)
        found: list[tuple[float, Detection]] = []
        for r, composite in self._composites(background).items():
            first = self.step * -(-r // self.step)  # centres on the grid with the whole box inside
            spots = range(first, IMAGE_SIZE - r + 1, self.step)
            centres = [(x, y) for y in spots for x in spots]
            if not centres:
                continue
            patches = np.stack(
                [pixels[y - r : y + r, x - r : x + r].reshape(-1) for x, y in centres]
            )  # (M, D)
            errors = (patches**2).sum(1)[:, None] - 2 * patches @ composite.T + (composite**2).sum(1)[None]
            errors /= patches.shape[1]  # (M, N)
            empty = ((patches - np.tile(colour, (2 * r) ** 2)[None]) ** 2).mean(1)  # (M,)
            best = errors.argmin(1)
            for (x, y), k, e, bare in zip(
                centres, best, errors[np.arange(len(centres)), best], empty, strict=True
            ):
                if e < self.max_error and e * self.ratio < bare:
                    thing, shade = self._sized_classes[r][k]
                    explained = (bare - e) * patches.shape[1]  # squared error the object accounts for
                    found.append((explained, Detection(thing, shade, r, x, y, float(max(e, 0.0)))))
        # most explained first: a solid square is one big square, not a small one inside it
        taken: list[Detection] = []
        for _, candidate in sorted(found, key=lambda f: -f[0]):
            if not any(_overlap(candidate, other) for other in taken):
                taken.append(candidate)
        return Seen(background, tuple(sorted(taken, key=lambda d: (d.y, d.x))))


def nearest_background(pixels: np.ndarray) -> str:
    """The claimable background closest (median distance) to the image's border pixels."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])  # (4·64, 3)
    names = list(ALL_BACKGROUNDS)
    palette = np.array([ALL_BACKGROUNDS[n] for n in names], np.float32)
    distance = np.linalg.norm(border[:, None] - palette[None], axis=-1)  # (P, B)
    return names[int(np.median(distance, axis=0).argmin())]


def _as_array(image: Image.Image | np.ndarray) -> np.ndarray:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image = image.convert("RGB")
    if image.size != (IMAGE_SIZE, IMAGE_SIZE):
        image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)
    return np.asarray(image, np.float32)


def _overlap(a: Detection, b: Detection) -> bool:
    """Boxes share more than a sliver (touching boxes, as in "on", do not overlap)."""
    w = min(a.x + a.r, b.x + b.r) - max(a.x - a.r, b.x - b.r)
    h = min(a.y + a.r, b.y + b.r) - max(a.y - a.r, b.y - b.r)
    return w > 2 and h > 2


# -- checking against claims -------------------------------------------------------------------


def check(seen: Seen, claims: PromptClaims) -> list[str]:
    """What the image gets wrong against the claims; empty when everything matches."""
    errors = []
    wanted = {"white": "plain"}.get(claims.background or "", claims.background)
    if wanted and seen.background != wanted:
        errors.append(f"background {seen.background}, wanted {wanted}")
    if len(seen.objects) != claims.count():
        errors.append(f"{len(seen.objects)} objects, wanted {claims.count()}")
    assigned = assign(seen, claims)
    for index, claim in enumerate(claims.objects):
        got = assigned[index]
        name = f"{claim.colour + ' ' if claim.colour else ''}{claim.thing}"
        if len(got) < claim.count:
            errors.append(f"{len(got)} {name}, wanted {claim.count}")
        for obj in got:
            if claim.size and not _sized(obj, claim.size):
                errors.append(f"{name} has half-extent {obj.r}, wanted {claim.size}")
            if claim.position and not _at(obj, claim.position):
                errors.append(f"{name} not at {claim.position}")
    for subject, relation, other in claims.relations:
        a, b = assigned[subject], assigned[other]
        if a and b and not _related(a[0], relation, b[0]):
            errors.append(f"object {subject} not {relation} object {other}")
    return errors


def assign(seen: Seen, claims: PromptClaims) -> dict[int, list[Detection]]:
    """Claim index -> the detections that stand for it (same thing and colour, sizes that fit first)."""
    free = list(seen.objects)
    assigned: dict[int, list[Detection]] = {}
    for index, claim in enumerate(claims.objects):
        candidates = [d for d in free if _is(d, claim)]
        candidates.sort(key=lambda d: not (claim.size is None or _sized(d, claim.size)))
        assigned[index] = candidates[: claim.count]
        for d in assigned[index]:
            free.remove(d)
    return assigned


def object_accuracy(seen: Seen, claims: PromptClaims) -> tuple[int, int]:
    """(claimed objects found with the right thing and colour, claimed objects)."""
    found = sum(len(v) for v in assign(seen, claims).values())
    return found, claims.count()


def _is(d: Detection, claim: ThingClaim) -> bool:
    return d.thing == claim.thing and (claim.colour is None or d.colour == claim.colour)


def _sized(d: Detection, size: str) -> bool:
    if d.thing in SHAPES:  # a shape's sizes are the shapes world's, judged as its parser judges them
        return d.r == SHAPE_RADII[size]
    if size == "medium":
        return d.r == RADII["medium"]
    return d.r <= RADII["small"] if size == "small" else d.r >= RADII["medium"]


def _at(d: Detection, position: str) -> bool:
    middle = IMAGE_SIZE / 2
    return {
        "left": d.x < middle - 4, "right": d.x > middle + 4, "top": d.y < middle - 4,
        "bottom": d.y > middle + 4, "centre": abs(d.x - middle) <= 8 and abs(d.y - middle) <= 8,
    }[position]  # fmt: skip


def _related(a: Detection, relation: str, b: Detection) -> bool:
    dx, dy = b.x - a.x, b.y - a.y  # from subject to object
    return {
        "above": dy > 4 and abs(dy) > abs(dx), "below": dy < -4 and abs(dy) > abs(dx),
        "left": dx > 4 and abs(dx) > abs(dy), "right": dx < -4 and abs(dx) > abs(dy),
        "beside": abs(dx) > 4 and abs(dx) > abs(dy), "on": dy > 4 and abs(dx) <= 8,
    }[relation]  # fmt: skip

"""A seeded caption → image world of flat shapes: what the embedded model is trained and judged on.

Images are 64×64 RGB. Object centres sit on multiples of 8 pixels — the corners of the VQGAN's
8×8 token grid — so that every object of a given shape and size covers the same token patches
wherever it stands. That keeps the set of patch contents finite, which lets a small codebook
reconstruct images almost exactly and a small transformer learn layouts in CPU-minutes; the
world's variety lives in the combinations (shape × colour × size × position × relation ×
count × background) and in the wording, which is what composition is about.

A `Scene` carries its caption and `Claims`: the facts the caption states, which is what the
fidelity evaluator checks an image against (unstated attributes are free).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

IMAGE_SIZE = 64

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "diamond", "cross")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (240, 210, 30),
    "orange": (245, 140, 30),
    "purple": (140, 60, 190),
    "pink": (250, 130, 200),
    "cyan": (40, 200, 210),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255),
    "black": (0, 0, 0),
    "gray": (128, 128, 128),
    "beige": (235, 225, 195),
}
SIZES: dict[str, int] = {"small": 6, "medium": 10, "large": 14}  # half-extent in pixels
POSITIONS: tuple[str, ...] = ("left", "right", "top", "bottom", "centre")
RELATIONS: tuple[str, ...] = ("above", "below", "left", "right", "beside")

# Combinations that never occur in training: the held-out split measures composition.
HELDOUT_COLOUR_SHAPE: frozenset[tuple[str, str]] = frozenset(
    {
        ("red", "star"),
        ("blue", "triangle"),
        ("green", "cross"),
        ("yellow", "circle"),
        ("purple", "square"),
        ("orange", "diamond"),
    }
)
# (relation, shape of the relation's subject): "a star above …" never occurs in training.
HELDOUT_RELATION_SHAPE: frozenset[tuple[str, str]] = frozenset(
    {("above", "star"), ("below", "circle"), ("left", "diamond"), ("right", "square")}
)

_SHAPE_WORDS = {
    "circle": (("circle", "circles"), ("circle", "circles"), ("sphere", "spheres"), ("disc", "discs")),
    "square": (("square", "squares"), ("square", "squares"), ("cube", "cubes"), ("box", "boxes")),
    "triangle": (("triangle", "triangles"), ("triangle", "triangles"), ("pyramid", "pyramids")),
    "star": (("star", "stars"),),
    "diamond": (("diamond", "diamonds"), ("diamond", "diamonds"), ("rhombus", "rhombuses")),
    "cross": (("cross", "crosses"), ("cross", "crosses"), ("plus", "pluses")),
}
# (singular, plural) of every word for each shape, for readers of prompts (prompt.py)
SHAPE_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    shape: tuple(dict.fromkeys(words)) for shape, words in _SHAPE_WORDS.items()
}
_COLOUR_WORDS = {"purple": ("purple", "purple", "violet")}
# the words and phrases for its backgrounds (the things world's phrasing.py says them too)
BACKGROUND_WORDS = {"gray": ("gray", "grey"), "beige": ("beige", "cream")}
_SIZE_WORDS = {
    "small": ("small", "small", "tiny", "little"),
    "medium": ("", "", "", "", "medium", "medium sized"),
    "large": ("large", "big", "big", "huge"),
}
_POSITION_PHRASES = {
    "left": ("on the left", "on the left side", "at the left"),
    "right": ("on the right", "on the right side", "at the right"),
    "top": ("at the top", "near the top", "at the top of the picture"),
    "bottom": ("at the bottom", "near the bottom", "at the bottom of the picture"),
    "centre": ("in the centre", "in the center", "in the middle"),
}
_RELATION_PHRASES = {
    "above": ("above", "on top of", "over"),
    "below": ("below", "beneath", "under", "underneath"),
    "left": ("to the left of", "left of", "on the left of"),
    "right": ("to the right of", "right of", "on the right of"),
    "beside": ("next to", "beside"),
}
_FRAMES = (
    "{}",
    "{}",
    "{}",
    "a picture of {}",
    "an image of {}",
    "a drawing of {}",
    "draw {}",
    "there is {}",
    "a simple illustration of {}",
    "show me {}",
)
BACKGROUND_PHRASES = ("on a {} background", "against a {} background", "with a {} background")
_COUNT_WORDS = {2: ("two", "two", "a pair of"), 3: ("three",)}

_SLOT = 8  # object centres are multiples of this (the token patch size)


@dataclass(frozen=True)
class Obj:
    """One drawn shape: centre (x, y) in pixels, half-extent from its size."""

    shape: str
    colour: str
    size: str
    x: int
    y: int


@dataclass(frozen=True)
class ObjectClaim:
    """What the caption says about one object; None means the caption leaves it free."""

    shape: str
    colour: str
    size: str | None = None
    position: str | None = None


@dataclass(frozen=True)
class Claims:
    """Everything a caption states: exactly these objects, these relations, this background."""

    objects: tuple[ObjectClaim, ...]
    relations: tuple[tuple[int, str, int], ...] = ()  # (subject index, relation, object index)
    background: str | None = None


@dataclass(frozen=True)
class Scene:
    caption: str
    objects: tuple[Obj, ...]
    background: str
    claims: Claims
    tags: frozenset[str] = field(default_factory=frozenset)  # held-out combinations it uses


def render(scene: Scene) -> np.ndarray:
    """Draw a scene: uint8 array (64, 64, 3)."""
    image = np.empty((IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    image[:] = BACKGROUNDS[scene.background]
    for obj in scene.objects:
        r = SIZES[obj.size]
        mask = shape_mask(obj.shape, r)
        patch = image[obj.y - r : obj.y + r, obj.x - r : obj.x + r]
        patch[mask] = COLOURS[obj.colour]
    return image


@lru_cache(maxsize=64)
def shape_mask(shape: str, r: int) -> np.ndarray:
    """Boolean (2r, 2r) mask of a shape filling a 2r×2r box (pixel centres sampled)."""
    c = (np.arange(2 * r) + 0.5 - r) / r  # pixel centres in [-1, 1]
    u, v = np.meshgrid(c, c)  # u: right, v: down
    if shape == "circle":
        mask = u * u + v * v <= 1.0
    elif shape == "square":
        mask = np.ones_like(u, bool)
    elif shape == "diamond":
        mask = np.abs(u) + np.abs(v) <= 1.0
    elif shape == "cross":
        arm = 0.36
        mask = ((np.abs(u) <= arm) & (np.abs(v) <= 1)) | ((np.abs(v) <= arm) & (np.abs(u) <= 1))
    elif shape == "triangle":
        mask = np.abs(u) <= (v + 1.0) / 2.0
    elif shape == "star":
        angles = -np.pi / 2 + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, 1.0, 0.48)
        # the five tips span y in [-1, cos 36°]: shift down to centre the star in its box
        poly = np.stack([radii * np.cos(angles), radii * np.sin(angles) + 0.095], axis=1) * 1.04
        mask = _inside_polygon(u, v, poly)
    else:
        raise ValueError(f"unknown shape {shape!r}; known: {SHAPES}")
    mask.setflags(write=False)
    return mask


def _inside_polygon(u: np.ndarray, v: np.ndarray, poly: np.ndarray) -> np.ndarray:
    inside = np.zeros_like(u, bool)
    for (x0, y0), (x1, y1) in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        crosses = (y0 > v) != (y1 > v)
        x_at = x0 + (v - y0) * (x1 - x0) / (y1 - y0 + 1e-12)
        inside ^= crosses & (u < x_at)
    return inside


class World:
    """Seeded scene sampler. `split` is "train" (no held-out combination), "heldout" (each scene
    uses at least one held-out combination) or "any"."""

    def __init__(self, seed: int, split: str = "train") -> None:
        if split not in ("train", "heldout", "any"):
            raise ValueError(f"split must be train, heldout or any, not {split!r}")
        self.rng = random.Random(seed)
        self.split = split

    def sample(self) -> Scene:
        """One scene drawn from the split's distribution."""
        while True:
            scene = self._heldout_scene() if self.split == "heldout" else self._any_scene()
            if self.split == "train" and scene.tags:
                continue
            if self.split == "heldout" and not scene.tags:
                continue
            return scene

    def scenes(self, n: int) -> list[Scene]:
        return [self.sample() for _ in range(n)]

    # -- scene kinds ----------------------------------------------------------------------

    def _any_scene(self) -> Scene:
        kind = self.rng.choices(
            ("single", "relation", "pair", "count", "triple"), weights=(30, 35, 10, 15, 10)
        )[0]
        return getattr(self, f"_{kind}")()

    def _heldout_scene(self) -> Scene:
        rng = self.rng
        if rng.random() < 0.5:
            colour, shape = rng.choice(sorted(HELDOUT_COLOUR_SHAPE))
            kind = rng.choice(("single", "relation", "pair", "count"))
            return getattr(self, f"_{kind}")(first=(colour, shape))
        relation, shape = rng.choice(sorted(HELDOUT_RELATION_SHAPE))
        return self._relation(first=(None, shape), relation=relation)

    def _pick(self, first: tuple[str | None, str] | None = None) -> tuple[str, str]:
        colour = first[0] if first and first[0] else self.rng.choice(list(COLOURS))
        shape = first[1] if first else self.rng.choice(SHAPES)
        return colour, shape

    def _size(self, allowed: tuple[str, ...] = ("small", "medium", "large")) -> str:
        return self.rng.choice(allowed)

    def _single(self, first: tuple[str | None, str] | None = None) -> Scene:
        rng = self.rng
        colour, shape = self._pick(first)
        size = self._size()
        position = rng.choice((None, None, *POSITIONS))
        r = SIZES[size]
        lo, hi = _SLOT * -(-r // _SLOT), IMAGE_SIZE - _SLOT * -(-r // _SLOT)
        x, y = 32, 32
        if position == "left":
            x = 16
        elif position == "right":
            x = 48
        elif position == "top":
            y = 16
        elif position == "bottom":
            y = 48
        x, y = min(max(x, lo), hi), min(max(y, lo), hi)
        obj = Obj(shape, colour, size, x, y)
        said_size = size if rng.random() < 0.85 else None
        text = self._np(obj, said_size)
        if position:
            text = f"{text} {rng.choice(_POSITION_PHRASES[position])}"
        claim = ObjectClaim(shape, colour, said_size, position)
        return self._finish(text, (obj,), Claims((claim,)))

    def _relation(self, first: tuple[str | None, str] | None = None, relation: str | None = None) -> Scene:
        rng = self.rng
        ca, sa = self._pick(first)
        while True:
            cb, sb = self._pick()
            if (cb, sb) != (ca, sa):
                break
        relation = relation or rng.choice(RELATIONS)
        size_a, size_b = self._size(), self._size()
        (xa, ya), (xb, yb) = _relation_layout(relation, rng)
        a, b = Obj(sa, ca, size_a, xa, ya), Obj(sb, cb, size_b, xb, yb)
        said_a = size_a if rng.random() < 0.7 else None
        said_b = size_b if rng.random() < 0.7 else None
        phrase = rng.choice(_RELATION_PHRASES[relation])
        text = f"{self._np(a, said_a)} {phrase} {self._np(b, said_b)}"
        claims = Claims(
            (ObjectClaim(sa, ca, said_a), ObjectClaim(sb, cb, said_b)), relations=((0, relation, 1),)
        )
        return self._finish(text, (a, b), claims)

    def _pair(self, first: tuple[str | None, str] | None = None) -> Scene:
        rng = self.rng
        ca, sa = self._pick(first)
        while True:
            cb, sb = self._pick()
            if (cb, sb) != (ca, sa):
                break
        size_a, size_b = self._size(), self._size()
        a = Obj(sa, ca, size_a, 16, 32)
        b = Obj(sb, cb, size_b, 48, 32)
        said_a = size_a if rng.random() < 0.7 else None
        said_b = size_b if rng.random() < 0.7 else None
        text = f"{self._np(a, said_a)} and {self._np(b, said_b)}"
        claims = Claims((ObjectClaim(sa, ca, said_a), ObjectClaim(sb, cb, said_b)))
        return self._finish(text, (a, b), claims)

    def _count(self, first: tuple[str | None, str] | None = None) -> Scene:
        rng = self.rng
        colour, shape = self._pick(first)
        n = rng.choice((2, 2, 3))
        if n == 2:
            size = self._size()
            centres = [(16, 32), (48, 32)]
        else:
            size = self._size(("small", "medium"))
            centres = [(16, 16), (48, 16), (32, 48)]
        objs = tuple(Obj(shape, colour, size, x, y) for x, y in centres)
        said = size if rng.random() < 0.7 else None
        size_word = rng.choice(_SIZE_WORDS[said]) if said else ""
        noun = rng.choice(_SHAPE_WORDS[shape])[1]
        words = [rng.choice(_COUNT_WORDS[n]), size_word, _colour_word(rng, colour), noun]
        text = " ".join(w for w in words if w)
        claims = Claims(tuple(ObjectClaim(shape, colour, said) for _ in objs))
        return self._finish(text, objs, claims)

    def _triple(self) -> Scene:
        rng = self.rng
        picked: list[tuple[str, str]] = []
        while len(picked) < 3:
            pair = self._pick()
            if pair not in picked:
                picked.append(pair)
        objs = tuple(
            Obj(s, c, self._size(("small", "medium")), x, y)
            for (c, s), (x, y) in zip(picked, [(16, 16), (48, 16), (32, 48)], strict=True)
        )
        said = [o.size if rng.random() < 0.5 else None for o in objs]
        parts = [self._np(o, s) for o, s in zip(objs, said, strict=True)]
        text = f"{parts[0]}, {parts[1]} and {parts[2]}"
        claims = Claims(tuple(ObjectClaim(o.shape, o.colour, s) for o, s in zip(objs, said, strict=True)))
        return self._finish(text, objs, claims)

    # -- wording ---------------------------------------------------------------------------

    def _np(self, obj: Obj, said_size: str | None) -> str:
        rng = self.rng
        size_word = rng.choice(_SIZE_WORDS[said_size]) if said_size else ""
        words = [size_word, _colour_word(rng, obj.colour), rng.choice(_SHAPE_WORDS[obj.shape])[0]]
        body = " ".join(w for w in words if w)
        article = "an" if body[0] in "aeiou" else "a"
        return f"{article} {body}"

    def _finish(self, text: str, objs: tuple[Obj, ...], claims: Claims) -> Scene:
        rng = self.rng
        background = "white"
        said_background = None
        roll = rng.random()
        if roll < 0.35:
            background = rng.choice([b for b in BACKGROUNDS if b != "white"])
            said_background = background
        elif roll < 0.45:
            said_background = "white"
        if said_background:
            word = rng.choice(BACKGROUND_WORDS.get(said_background, (said_background,)))
            text = f"{text} {rng.choice(BACKGROUND_PHRASES).format(word)}"
        text = rng.choice(_FRAMES).format(text)
        claims = Claims(claims.objects, claims.relations, said_background)
        return Scene(text, objs, background, claims, _heldout_tags(objs, claims))


def _colour_word(rng: random.Random, colour: str) -> str:
    return rng.choice(_COLOUR_WORDS.get(colour, (colour,)))


def _relation_layout(relation: str, rng: random.Random) -> tuple[tuple[int, int], tuple[int, int]]:
    """Centres for a subject/object pair; "beside" picks a side at random."""
    if relation == "beside":
        relation = rng.choice(("left", "right"))
    if relation in ("above", "below"):
        top, bottom = (32, 16), (32, 48)
        return (top, bottom) if relation == "above" else (bottom, top)
    left, right = (16, 32), (48, 32)
    return (left, right) if relation == "left" else (right, left)


def _heldout_tags(objs: tuple[Obj, ...], claims: Claims) -> frozenset[str]:
    tags = {f"{o.colour} {o.shape}" for o in objs if (o.colour, o.shape) in HELDOUT_COLOUR_SHAPE}
    for subject, relation, _ in claims.relations:
        shape = claims.objects[subject].shape
        if (relation, shape) in HELDOUT_RELATION_SHAPE:
            tags.add(f"{shape} {relation}")
    return frozenset(tags)

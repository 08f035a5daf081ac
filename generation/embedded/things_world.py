"""A seeded world of things: scenes of 1–4 emoji and shapes, captioned the way people write.

Images are 64×64 RGB, like the shapes world (`world.py`), with object centres on multiples of 8
(the token grid's corners). An object is a thing (an emoji of `things.py`) or one of the shapes
world's coloured shapes, at one of three sizes: a thing at half-extent 10, 14 or 20 pixels
("small", unsaid, "big"), a shape at the shapes world's 6, 10 or 14 ("small", "medium" or unsaid,
"big"/"large"), so that "a large red circle" means one picture in both worlds. Scenes: one object
(maybe placed: left, right, top, bottom, centre), two related objects (above, below, left of,
right of, next to, on), two or three listed objects, 2–4 alike ("four cats"), or a scene of the
shapes world itself, captioned in its own grammar (`world.World`: "a medium sized violet cube on
a cream background"), a fifth of the time. Backgrounds: sky, night, grass, sea, snow, sand, plain
(white), and the shapes world's black, gray and beige.

Captions vary as a person's prompts do (`phrasing.py`): articles optional, counts as digits or
words, colour synonyms, every name a thing answers to, prepositional variants, framing phrases.
A `ThingScene` carries its caption and the `PromptClaims` that caption states.

Held-out compositions: a pair of things, or a thing on a background, is held out when a stable
hash of it falls in the bottom tenth; a shapes-world scene when it uses one of that world's
held-out combinations (`world.HELDOUT_COLOUR_SHAPE`, `HELDOUT_RELATION_SHAPE`). The "train" split
never shows one, "heldout" always does. The things world's own coloured shapes come in every
colour: an object-part token is a shape in a colour at a size, so a colour–shape pair never shown
could never be drawn, and the shapes world's held-out colour–shape pairs are seen there.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, replace

import numpy as np

from generation.embedded.claims import PromptClaims, ThingClaim
from generation.embedded.phrasing import (
    COLOUR_WORDS,
    FRAMES,
    NUMBER_WORDS,
    POSITION_WORDS,
    RELATION_WORDS,
    SIZE_WORDS,
    background_phrases,
    plural,
)
from generation.embedded.things import sprite, things
from generation.embedded.world import COLOURS, SHAPE_NAMES, SHAPES, SIZES, Scene, World, shape_mask

IMAGE_SIZE = 64
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "plain": (255, 255, 255),
    "sky": (150, 200, 245),
    "night": (20, 24, 64),
    "grass": (96, 168, 72),
    "sea": (36, 104, 168),
    "snow": (232, 238, 246),
    "sand": (232, 210, 160),
    # the shapes world's (its "white" is "plain")
    "black": (0, 0, 0),
    "gray": (128, 128, 128),
    "beige": (235, 225, 195),
}
RADII: dict[str, int] = {"small": 10, "medium": 14, "big": 20}  # a thing's half-extent in pixels
# a coloured shape's: the shapes world's sizes ("large" there is "big" here)
SHAPE_RADII: dict[str, int] = {"small": SIZES["small"], "medium": SIZES["medium"], "big": SIZES["large"]}
_SPOTS = {"left": (16, 32), "right": (48, 32), "top": (32, 16), "bottom": (32, 48), "centre": (32, 32)}
_LAYOUT = {  # (subject centre, object centre) per relation
    "above": ((32, 16), (32, 48)), "below": ((32, 48), (32, 16)),
    "left": ((16, 32), (48, 32)), "right": ((48, 32), (16, 32)), "on": ((32, 16), (32, 40)),
}  # fmt: skip
_GROUPS = {
    2: ((16, 32), (48, 32)),
    3: ((16, 16), (48, 16), (32, 48)),
    4: ((16, 16), (48, 16), (16, 48), (48, 48)),
}
SHAPE_SHARE = 0.15  # objects that are coloured shapes rather than things
SHAPES_WORLD_SHARE = 0.2  # scenes of the shapes world, in its own grammar
SHAPES_WORLD_SEED = 7919  # added to the world's seed: the shapes world's scenes are its own stream
_SHAPES_WORLD_SIZES = {"small": "small", "medium": "medium", "large": "big"}


@dataclass(frozen=True)
class Placed:
    """One drawn object: a thing id or a shape (then with its colour), its half-extent and centre."""

    thing: str
    colour: str | None
    r: int
    x: int
    y: int


@dataclass(frozen=True)
class ThingScene:
    caption: str
    objects: tuple[Placed, ...]
    background: str
    claims: PromptClaims
    heldout: bool


def render_things(scene: ThingScene) -> np.ndarray:
    """Draw a scene: uint8 (64, 64, 3)."""
    canvas = np.empty((IMAGE_SIZE, IMAGE_SIZE, 3), np.float32)
    canvas[:] = BACKGROUNDS[scene.background]
    for obj in scene.objects:
        rgb, alpha = object_pixels(obj.thing, obj.colour, obj.r)
        patch = canvas[obj.y - obj.r : obj.y + obj.r, obj.x - obj.r : obj.x + obj.r]
        patch[:] = patch * (1 - alpha[..., None]) + rgb * alpha[..., None]
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)


def object_pixels(thing: str, colour: str | None, r: int) -> tuple[np.ndarray, np.ndarray]:
    """(rgb (2r, 2r, 3) float32, alpha (2r, 2r)) of a thing or of a coloured shape."""
    if thing in SHAPES:
        if colour is None:
            raise ValueError(f"a {thing} needs a colour")
        alpha = shape_mask(thing, r).astype(np.float32)
        return np.broadcast_to(np.array(COLOURS[colour], np.float32), (*alpha.shape, 3)), alpha
    return sprite(thing, r)


def radius(thing: str, size: str) -> int:
    """Half-extent in pixels of a thing or shape at a size ("small", "medium", "big")."""
    return (SHAPE_RADII if thing in SHAPES else RADII)[size]


def is_heldout_pair(a: str, b: str) -> bool:
    """Whether two things (in either order) are never shown together in training."""
    return a != b and zlib.crc32("|".join(sorted((a, b))).encode()) % 10 == 0


def is_heldout_background(thing: str, background: str) -> bool:
    """Whether a thing is never shown on this background in training."""
    return background != "plain" and zlib.crc32(f"{thing}@{background}".encode()) % 10 == 0


class ThingWorld:
    """Seeded scene sampler; split "train", "heldout" or "any" (as in world.World)."""

    def __init__(self, seed: int, split: str = "train") -> None:
        if split not in ("train", "heldout", "any"):
            raise ValueError(f"split must be train, heldout or any, not {split!r}")
        self.rng = random.Random(seed)
        self.split = split
        self._ids = sorted(things())
        self._shapes_world = World(seed + SHAPES_WORLD_SEED, split)  # its own stream of scenes

    def scenes(self, n: int) -> list[ThingScene]:
        return [self.sample() for _ in range(n)]

    def sample(self) -> ThingScene:
        """One scene of the split's distribution."""
        if self.rng.random() < SHAPES_WORLD_SHARE:
            return from_shapes_scene(self._shapes_world.sample())
        return self._things_scene()

    def _things_scene(self) -> ThingScene:
        while True:
            kind = self.rng.choices(("single", "relation", "pair", "count", "triple"), (30, 35, 10, 15, 10))[
                0
            ]
            scene = getattr(self, f"_{kind}")()
            if self.split == "any" or scene.heldout == (self.split == "heldout"):
                return scene

    # -- scene kinds ------------------------------------------------------------------------

    def _object(self) -> tuple[str, str | None]:
        if self.rng.random() < SHAPE_SHARE:
            return self.rng.choice(SHAPES), self.rng.choice(list(COLOURS))
        return self.rng.choice(self._ids), None

    def _single(self) -> ThingScene:
        thing, colour = self._object()
        size = self.rng.choice(list(RADII))
        position = None if radius(thing, size) > 16 else self.rng.choice((None, None, *_SPOTS))
        x, y = _SPOTS[position or "centre"]
        said = self._said_size(size)
        text = self._np(thing, colour, said)
        if position:
            text = f"{text} {self.rng.choice(POSITION_WORDS[position])}"
        claim = ThingClaim(thing, colour, said, 1, position)
        return self._finish(text, (Placed(thing, colour, radius(thing, size), x, y),), (claim,))

    def _relation(self) -> ThingScene:
        (a, ca), (b, cb) = self._distinct(2)
        relation = self.rng.choice(("above", "below", "left", "right", "beside", "on"))
        layout = relation if relation != "beside" else self.rng.choice(("left", "right"))
        (xa, ya), (xb, yb) = _LAYOUT[layout]
        size_a = "small" if relation == "on" else self.rng.choice(("small", "medium"))
        size_b = "medium" if relation == "on" else self.rng.choice(("small", "medium"))
        said_a, said_b = self._said_size(size_a), self._said_size(size_b)
        phrase = self.rng.choice(RELATION_WORDS[relation])
        text = f"{self._np(a, ca, said_a)} {phrase} {self._np(b, cb, said_b)}"
        placed = (Placed(a, ca, radius(a, size_a), xa, ya), Placed(b, cb, radius(b, size_b), xb, yb))
        claims = (ThingClaim(a, ca, said_a), ThingClaim(b, cb, said_b))
        return self._finish(text, placed, claims, ((0, relation, 1),))

    def _pair(self) -> ThingScene:
        (a, ca), (b, cb) = self._distinct(2)
        sizes = [self.rng.choice(("small", "medium")) for _ in range(2)]
        said = [self._said_size(s) for s in sizes]
        joiner = self.rng.choice((" and ", " and ", ", ", " with "))
        text = joiner.join(self._np(t, c, s) for (t, c), s in zip(((a, ca), (b, cb)), said, strict=True))
        pairs = zip(((a, ca), (b, cb)), sizes, _GROUPS[2], strict=True)
        placed = tuple(Placed(t, c, radius(t, s), x, y) for (t, c), s, (x, y) in pairs)
        return self._finish(text, placed, (ThingClaim(a, ca, said[0]), ThingClaim(b, cb, said[1])))

    def _count(self) -> ThingScene:
        thing, colour = self._object()
        n = self.rng.choice((2, 2, 3, 4))
        size = "medium" if n == 2 and self.rng.random() < 0.5 else "small"
        said = self._said_size(size)
        words = [self.rng.choice(NUMBER_WORDS[n]), self._size_word(said), self._colour_word(colour),
                 plural(self._name(thing))]  # fmt: skip
        placed = tuple(Placed(thing, colour, radius(thing, size), x, y) for x, y in _GROUPS[n])
        return self._finish(" ".join(w for w in words if w), placed, (ThingClaim(thing, colour, said, n),))

    def _triple(self) -> ThingScene:
        picked = self._distinct(3)
        parts = [self._np(t, c, None) for t, c in picked]
        text = f"{parts[0]}, {parts[1]} and {parts[2]}" if self.rng.random() < 0.7 else " and ".join(parts)
        placed = tuple(
            Placed(t, c, radius(t, "small"), x, y) for (t, c), (x, y) in zip(picked, _GROUPS[3], strict=True)
        )
        return self._finish(text, placed, tuple(ThingClaim(t, c) for t, c in picked))

    def _distinct(self, n: int) -> list[tuple[str, str | None]]:
        picked: list[tuple[str, str | None]] = []
        while len(picked) < n:
            candidate = self._object()
            if all(candidate[0] != p[0] for p in picked):
                picked.append(candidate)
        return picked

    # -- wording ----------------------------------------------------------------------------

    def _said_size(self, size: str) -> str | None:
        return size if size != "medium" and self.rng.random() < 0.6 else None

    def _size_word(self, size: str | None) -> str:
        return self.rng.choice(SIZE_WORDS[size]) if size else ""

    def _colour_word(self, colour: str | None) -> str:
        return self.rng.choice(COLOUR_WORDS[colour][:1] * 3 + COLOUR_WORDS[colour][1:]) if colour else ""

    def _name(self, thing: str) -> str:
        if thing in SHAPES:  # the shapes world's words too: "sphere", "cube", "rhombus" …
            return thing if self.rng.random() < 0.6 else self.rng.choice(SHAPE_NAMES[thing])[0]
        names = things()[thing].names
        return names[0] if self.rng.random() < 0.6 else self.rng.choice(names)

    def _np(self, thing: str, colour: str | None, size: str | None) -> str:
        words = [self._size_word(size), self._colour_word(colour), self._name(thing)]
        body = " ".join(w for w in words if w)
        roll = self.rng.random()
        if roll < 0.25:
            return body  # article-free, as people type
        article = "the" if roll < 0.35 else ("an" if body[0] in "aeiou" else "a")
        return f"{article} {body}"

    def _finish(self, text: str, placed: tuple[Placed, ...], objects: tuple[ThingClaim, ...],
                relations: tuple[tuple[int, str, int], ...] = ()) -> ThingScene:  # fmt: skip
        rng = self.rng
        background = rng.choice(list(BACKGROUNDS)) if rng.random() < 0.7 else "plain"
        said = background if (background != "plain" and rng.random() < 0.75) or rng.random() < 0.05 else None
        if said:
            said = rng.choice(("plain", "white")) if said == "plain" else said  # the same pixels
            text = f"{text} {rng.choice(background_phrases()[said])}"
        text = rng.choice(FRAMES).format(text)
        if rng.random() < 0.1:
            text = text[0].upper() + text[1:]
        ids = [p.thing for p in placed if p.thing not in SHAPES]
        heldout = any(is_heldout_pair(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :])
        heldout |= any(is_heldout_background(t, background) for t in ids)
        return ThingScene(text, placed, background, PromptClaims(objects, relations, said), heldout)


def from_shapes_scene(scene: Scene) -> ThingScene:
    """A scene of the shapes world as a scene of this one: the same pixels, caption and claims
    (alike objects counted, "large" as "big", white drawn as plain; its "on top of" is this
    world's "on", whose check — above, centred — its layout meets)."""
    objects: list[ThingClaim] = []
    for claim in scene.claims.objects:
        size = _SHAPES_WORLD_SIZES[claim.size] if claim.size else None
        one = ThingClaim(claim.shape, claim.colour, size, 1, claim.position)
        if objects and not scene.claims.relations and objects[-1] == replace(one, count=objects[-1].count):
            objects[-1] = replace(one, count=objects[-1].count + 1)  # "three red circles"
        else:
            objects.append(one)
    on_top = " on top of " in f" {scene.caption} "
    relations = tuple((a, "on" if r == "above" and on_top else r, b) for a, r, b in scene.claims.relations)
    placed = tuple(Placed(o.shape, o.colour, SIZES[o.size], o.x, o.y) for o in scene.objects)
    background = "plain" if scene.background == "white" else scene.background
    claims = PromptClaims(tuple(objects), relations, scene.claims.background)
    return ThingScene(scene.caption, placed, background, claims, bool(scene.tags))

"""The things of the things world: 436 everyday emoji, their names, and their pictures.

`data/things.tsv` lists each thing once: an id (the everyday name, what claims speak), a category,
its CLDR name as the `emoji` package spells it, and extra names (synonyms a person uses). Names
come from three places, in this order of precedence: the id and the extra names, the CLDR name,
the `emoji` package's aliases. A name two things would share goes to the first that claims it
(aliases that collide are dropped, never shared); plurals follow `phrasing.plural`.

Pictures come from Debian's `fonts-noto-color-emoji` (OFL), rendered with Pillow at the font's
one bitmap size (109 px) when first asked for and shrunk to the size a scene needs. Nothing is
committed: a missing font is an error that says which package to install.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import emoji
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from generation.embedded.phrasing import COLOUR_WORDS, plural
from generation.embedded.world import SHAPE_NAMES

THINGS_FILE = Path(__file__).with_name("data") / "things.tsv"
FONT_ENV = "DALLEBOT_EMOJI_FONT"  # another path to NotoColorEmoji.ttf
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/noto/NotoColorEmoji.ttf"),
)
_FONT_SIZE = 109  # NotoColorEmoji is a bitmap font: Pillow only loads it at this size
# Shape words keep their meaning (a "star" is the shapes world's star, a "box" its square).
_SHAPE_NAMES = frozenset(word for forms in SHAPE_NAMES.values() for pair in forms for word in pair)


@dataclass(frozen=True)
class Thing:
    """One drawable thing: its id, category, emoji character and every name it answers to."""

    id: str
    category: str
    char: str
    names: tuple[str, ...]  # singular names, the id first


@lru_cache(maxsize=1)
def things() -> dict[str, Thing]:
    """Every thing by id, read from data/things.tsv (checked: known emoji, unique ids)."""
    rows = []
    for number, line in enumerate(THINGS_FILE.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise ValueError(f"{THINGS_FILE}:{number}: want 4 tab-separated fields, got {len(fields)}")
        thing_id, category, cldr, extra = fields
        char = emoji.emojize(f":{cldr}:")
        if char == f":{cldr}:":
            raise ValueError(f"{THINGS_FILE}:{number}: {cldr!r} is not a CLDR name the emoji package knows")
        extra_names = [n.strip() for n in extra.split(",") if n.strip()]
        rows.append((thing_id, category, char, cldr, extra_names))
    owner: dict[str, str] = {}
    reserved = _SHAPE_NAMES | {w for words in COLOUR_WORDS.values() for w in words}
    for precedence in ("own", "cldr", "alias"):
        if precedence == "cldr":  # "books" is the plural of a book before it is 📚's CLDR name
            reserved |= {plural(name) for name in owner} - set(owner)
        for thing_id, _, char, cldr, names in rows:
            for name in _names(precedence, thing_id, char, cldr, names):
                if name not in reserved and (precedence == "own" or name not in owner):
                    if precedence == "own" and owner.get(name, thing_id) != thing_id:
                        raise ValueError(
                            f"{THINGS_FILE}: {name!r} names both {owner[name]!r} and {thing_id!r}"
                        )
                    owner.setdefault(name, thing_id)
    found: dict[str, Thing] = {}
    for thing_id, category, char, _, _ in rows:
        if thing_id in found:
            raise ValueError(f"{THINGS_FILE}: id {thing_id!r} listed twice")
        own = sorted(n for n, t in owner.items() if t == thing_id and n != thing_id)
        found[thing_id] = Thing(thing_id, category, char, (thing_id, *own))
    return found


def _names(precedence: str, thing_id: str, char: str, cldr: str, extra: list[str]) -> list[str]:
    if precedence == "own":
        return [thing_id.lower(), *(e.lower() for e in extra)]
    if precedence == "cldr":
        return [cldr.replace("_", " ").lower()]
    aliases = emoji.EMOJI_DATA.get(char, {}).get("alias", [])
    words = [a.strip(":").replace("_", " ").lower() for a in aliases]
    colours = {w for words in COLOUR_WORDS.values() for w in words}
    # "red car", "blue car": an alias that says a colour would make colour words name things
    return [
        w for w in words if w.replace(" ", "").replace("-", "").isalpha() and not colours & set(w.split())
    ]


@lru_cache(maxsize=1)
def name_index() -> dict[str, tuple[str, bool]]:
    """Every name and plural -> (thing id, is plural). Singular wins where forms coincide."""
    index: dict[str, tuple[str, bool]] = {}
    for thing in things().values():
        for name in thing.names:
            index.setdefault(plural(name), (thing.id, True))
    for thing in things().values():
        for name in thing.names:
            index[name] = (thing.id, False)  # "grapes", "scissors": one thing, named in the plural
    return index


def font_path() -> Path:
    """The colour emoji font: $DALLEBOT_EMOJI_FONT, else Debian's fonts-noto-color-emoji."""
    override = os.environ.get(FONT_ENV)
    candidates = (Path(override),) if override else FONT_PATHS
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"no colour emoji font at {', '.join(map(str, candidates))}: install it with "
        f"`apt-get install fonts-noto-color-emoji` (or set {FONT_ENV} to NotoColorEmoji.ttf)"
    )


@lru_cache(maxsize=1)
def _font() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path()), _FONT_SIZE)


@cache
def glyph(thing_id: str) -> Image.Image:
    """The thing's emoji at the font's size, cropped to its pixels: RGBA."""
    thing = things()[thing_id]
    canvas = Image.new("RGBA", (2 * _FONT_SIZE, 2 * _FONT_SIZE), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text(
        (_FONT_SIZE // 4, _FONT_SIZE // 4), thing.char, font=_font(), embedded_color=True
    )
    box = canvas.getbbox()
    if box is None:
        raise ValueError(f"{font_path()} draws nothing for {thing_id!r} ({thing.char!r})")
    return canvas.crop(box)


@lru_cache(maxsize=4096)
def sprite(thing_id: str, r: int) -> tuple[np.ndarray, np.ndarray]:
    """The thing fitted into a 2r×2r box, centred, aspect kept -> rgb (2r, 2r, 3), alpha (2r, 2r)."""
    image = glyph(thing_id)
    scale = 2 * r / max(image.size)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    small = image.resize((w, h), Image.Resampling.LANCZOS)  # Pillow premultiplies alpha for RGBA
    box = Image.new("RGBA", (2 * r, 2 * r), (0, 0, 0, 0))
    box.paste(small, ((2 * r - w) // 2, (2 * r - h) // 2))
    pixels = np.asarray(box, np.float32)
    rgb, alpha = pixels[..., :3], pixels[..., 3] / 255.0
    rgb.setflags(write=False)
    alpha.setflags(write=False)
    return rgb, alpha

"""Words only the prompt reader knows: how people say what the world's own tables say plainly.

`phrasing.py` is both the reader's lexicon and the things world's caption writer, so every phrase
added there changes what the model is trained on. What people type and captions never say lives
here instead, and only `prompt.py` imports it (a test holds the caption writers to that):

- scene phrases that set a background: a place preposition, maybe an article and an adjective,
  and a noun ("over the ocean", "in a snowy field", "at the beach", "white background");
- ways to say a place in the picture ("on the far left", "in the upper half of the image") and
  the relations built on them ("on the left side of");
- counts, sizes and colours that captions do not use ("2x", "a trio of", "enormous", "maroon"),
  and the plurals people write for nouns with irregular ones ("cacti", "fishes");
- the words the reader's rules look for: postures and motions that only link a thing to where it
  is ("sitting", "perched"), the markers of an artist's name ("in the style of", "painted by"),
  and the words that say what kind of picture it is ("sketch", "painting").

The world's tables win: a phrase here never replaces one the tables already give a meaning.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product

from generation.embedded.phrasing import _regular_plural, plural
from generation.embedded.things import name_index

# -- backgrounds: <place preposition> [article] [adjective] <noun> ---------------------------------
_PLACE_PREPOSITIONS = """in|on|at|over|above|under|underneath|beneath|below|by|across|into|through|against|
along|near|out of|up in|high in|high above|deep in|far above|onto|within|inside""".replace("\n", "")
# Nouns that name a background by themselves; "ocean" is also 🌊's name, but after a place
# preposition and an article it is the sea.
_BACKGROUND_NOUNS: dict[str, tuple[str, ...]] = {
    "sea": ("sea", "ocean", "water", "open sea", "open ocean", "deep sea", "waves", "sea water"),
    "sand": ("beach", "sand", "desert", "dunes", "sand dunes", "shore", "seashore", "sandy beach"),
    "snow": ("snow", "arctic", "tundra", "north pole", "snowfield", "winter"),
    "grass": ("grass", "field", "meadow", "lawn", "garden", "park", "grassland", "pasture", "prairie"),
    "sky": ("sky", "air", "clouds", "blue sky", "heavens", "open sky"),
    "night": ("night", "night sky", "midnight", "darkness", "dark", "starry sky", "starry night"),
}
# Adjectives that set a background whatever the noun after them ("a snowy forest")
_BACKGROUND_ADJECTIVES: dict[str, tuple[str, ...]] = {
    "snow": ("snowy", "snow-covered", "snow covered", "frozen", "wintry"),
    "sand": ("sandy",),
    "grass": ("grassy", "lush"),
    "night": ("starry", "starlit", "moonlit"),
}
# A colour says a background only before a place noun: "in a green valley", never "on a green cube"
_COLOURED_PLACES = {"grass": ("green", (*_BACKGROUND_NOUNS["grass"], "hill", "hills", "valley", "landscape"))}
_BACKGROUND_NAMES = ("plain", "blank", "white", "black", "gray", "grey", "beige", "cream")
_COLOUR_BACKGROUNDS = {"blank": "plain", "grey": "gray", "cream": "beige"}

# -- places in the picture ---------------------------------------------------------------------
_POSITION_NOUNS: dict[str, tuple[str, ...]] = {
    "left": ("left", "left side", "left-hand side", "left hand side", "far left", "left half",
             "left part", "left edge", "very left"),
    "right": ("right", "right side", "right-hand side", "right hand side", "far right", "right half",
              "right part", "right edge", "very right"),
    "top": ("top", "very top", "top half", "upper half", "upper part", "top part", "top edge", "upper side"),
    "bottom": ("bottom", "very bottom", "bottom half", "lower half", "lower part", "bottom part",
               "bottom edge", "lower side"),
    "centre": ("middle", "centre", "center", "very middle", "very centre", "very center"),
}  # fmt: skip
# "in the" only before a place of two words: "in the top left corner" is a corner, which the world lacks
_POSITION_PREPOSITIONS = ("on the", "at the", "in the", "to the", "towards the", "on")
_PICTURE_NOUNS = ("picture", "image", "frame", "canvas", "scene", "photo", "page", "screen")

# -- counts, sizes, colours ----------------------------------------------------------------------
_NUMBERS: dict[int, tuple[str, ...]] = {
    1: ("1x", "x1", "a lone", "one single", "only one"),
    2: ("2x", "x2", "a couple", "couple", "a pair", "pair of", "both"),
    3: ("3x", "x3", "a trio of", "trio of", "a group of three"),
    4: ("4x", "x4", "a group of four"),
}
_SIZES: dict[str, tuple[str, ...]] = {
    "big": ("enormous", "massive", "gigantic", "colossal", "oversized", "bigger"),
    "small": ("teeny", "miniature", "itty bitty", "smaller", "smol"),
}
_COLOURS: dict[str, tuple[str, ...]] = {
    "red": ("maroon", "burgundy", "blood red"),
    "green": ("mint", "mint green"),
    "purple": ("mauve", "plum"),
    "yellow": ("mustard",),
}
# Plurals in Latin form, for the names that end in "-us"
_CLASSICAL_MIN_LENGTH = 6

# -- the words the reader's rules look for -------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Postures and motions: before a relation, a place or a background they only link the thing to
# it ("sitting on top of", "flying over the sea"); they are words left out all the same, but for
# those the world's own phrases say ("sitting on").
POSTURE_WORDS = _words(
    """sitting sits sat standing stands stood lying lies laying lays perched perching perches flying flies
hovering hovers floating floats hanging hangs dangling resting rests sleeping crawling swimming
swims walking running jumping leaping soaring sailing climbing leaning placed positioned located
parked balanced balancing peeking hiding glowing shining rising setting"""
)
# Markers of an artist's name: what follows them, to the next comma, is a name, not things
STYLE_MARKERS = ("in the style of", "style of", "in style of", "painted by", "drawn by", "art by",
                 "artwork by", "illustrated by", "inspired by", "in the manner of", "made by", "by artist",
                 "photographed by", "designed by")  # fmt: skip
# Words that say what kind of picture it is: a thing named right before one and "of" is what the
# picture is made with ("pencil sketch of a cat", "crayon drawing of a house")
MEDIUM_WORDS = _words(
    """sketch drawing painting photo photograph picture illustration render rendering portrait print doodle"""
)
SHAPED_WORDS = frozenset(("shaped", "shape"))  # "heart shaped balloon": the heart is its shape
# Words of prompts' style tails and everyday words one slip from a thing's name: never typos
# ("dramatic lighting" is not lightning, "plants" not planets)
NOT_TYPOS = _words(
    """lighting detailed realistic photorealistic cinematic rendered rendering trending artstation
masterpiece plants plant beard pocket handle saddle cage beach"""
)


def reader_phrases() -> Iterator[tuple[str, str, str | int]]:
    """Every phrase only the reader knows, as (phrase, kind, value) with the kinds of `prompt.lexicon`."""
    for background, nouns in _BACKGROUND_NOUNS.items():
        for preposition, article, noun in product(_PLACE_PREPOSITIONS.split("|"), ("", "the ", "a "), nouns):
            yield f"{preposition} {article}{noun}", "background", background
        for noun in nouns:
            yield f"{noun} background", "background", background
            yield f"of the {noun}", "background", background  # "the bottom of the sea"
    for background, adjectives in _BACKGROUND_ADJECTIVES.items():
        # the noun after the adjective is read on its own: "forest" is left out, "mountain" drawn
        for preposition, article, adjective in product(
            _PLACE_PREPOSITIONS.split("|"), ("", "the ", "a "), adjectives
        ):
            yield f"{preposition} {article}{adjective}", "background", background
    for background, (colour, places) in _COLOURED_PLACES.items():
        for preposition, article, place in product(
            _PLACE_PREPOSITIONS.split("|"), ("", "the ", "a "), places
        ):
            yield f"{preposition} {article}{colour} {place}", "background", background
    for name in _BACKGROUND_NAMES:
        background = _COLOUR_BACKGROUNDS.get(name, name)
        yield f"{name} background", "background", background
        yield f"plain {name} background", "background", background
        yield f"on a plain {name} background", "background", background
    yield from _position_phrases()
    for table, kind in ((_NUMBERS, "number"), (_SIZES, "size"), (_COLOURS, "colour")):
        for value, phrases in table.items():
            for phrase in phrases:
                yield phrase, kind, value


def _position_phrases() -> Iterator[tuple[str, str, str | int]]:
    for position, nouns in _POSITION_NOUNS.items():
        for preposition, noun in product(_POSITION_PREPOSITIONS, nouns):
            if preposition != "in the" or " " in noun:
                yield f"{preposition} {noun}", "position", position
            for picture in _PICTURE_NOUNS:
                yield f"{preposition} {noun} of the {picture}", "position", position
            if position in ("left", "right") and noun != position:  # "left of" is the tables'
                yield f"{preposition} {noun} of", "relation", position
        for noun in nouns:
            for picture in _PICTURE_NOUNS:
                yield f"{noun} of the {picture}", "position", position
    for word in ("centered", "centred", "in the centre of it", "dead centre", "dead center"):
        yield word, "position", "centre"
    for phrase in ("on the top of", "on the very top of"):  # the tables' "on top of"
        yield phrase, "relation", "on"


def plural_variants() -> Iterator[tuple[str, tuple[str, bool]]]:
    """Plurals people write that the world's plural rule does not make: the regular plural of
    a noun with an irregular one ("fishes", "mouses"), and "-us" names in Latin ("cacti")."""
    for name, (thing, is_plural) in name_index().items():
        if is_plural or " " in name:
            continue
        regular = _regular_plural(name)
        if regular != plural(name):
            yield regular, (thing, True)
        if name.endswith("us") and len(name) >= _CLASSICAL_MIN_LENGTH:
            yield name[:-2] + "i", (thing, True)

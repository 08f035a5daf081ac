"""The words of the world of things: one lexicon for the caption writer and the prompt reader.

The things world (`things_world.py`) writes its captions from these tables, and the prompt reader
(`prompt.py`) reads a person's prompt with the same tables, so a word the world can say is a word
the reader understands. Each table maps a canonical value (what `claims.py` speaks) to the ways of
saying it; the first spelling is the plainest.
"""

from __future__ import annotations

from generation.embedded.world import BACKGROUND_PHRASES as _SHAPES_BACKGROUND_PHRASES
from generation.embedded.world import BACKGROUND_WORDS as _SHAPES_BACKGROUND_WORDS

COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red", "crimson", "scarlet", "ruby"),
    "green": ("green", "lime", "emerald"),
    "blue": ("blue", "navy", "azure", "cobalt", "sapphire"),
    "yellow": ("yellow", "gold", "golden"),
    "orange": ("orange", "amber"),
    "purple": ("purple", "violet", "lilac", "lavender", "indigo"),
    "pink": ("pink", "magenta", "fuchsia"),
    "cyan": ("cyan", "teal", "turquoise", "aqua"),
}
# Digits and words up to the world's largest count (claims.MAX_COUNT)
NUMBER_WORDS: dict[int, tuple[str, ...]] = {
    1: ("one", "1", "a single", "single", "just one"),
    2: ("two", "2", "a pair of", "a couple of", "couple of"),
    3: ("three", "3"),
    4: ("four", "4"),
}
SIZE_WORDS: dict[str, tuple[str, ...]] = {
    "small": ("small", "tiny", "little", "mini"),
    "medium": ("medium", "medium sized", "medium-sized"),  # the shapes world says it
    "big": ("big", "large", "huge", "giant"),
}
RELATION_WORDS: dict[str, tuple[str, ...]] = {
    "above": ("above", "over"),
    "below": ("below", "under", "underneath", "beneath"),
    "left": ("left of", "to the left of", "on the left of", "at the left of"),
    "right": ("right of", "to the right of", "on the right of", "at the right of"),
    "beside": ("next to", "beside", "by", "near", "alongside"),
    "on": ("on", "on top of", "onto", "sitting on", "standing on", "upon"),
}
POSITION_WORDS: dict[str, tuple[str, ...]] = {
    "left": ("on the left", "at the left", "on the left side", "to the left"),
    "right": ("on the right", "at the right", "on the right side", "to the right"),
    "top": ("at the top", "on top", "near the top", "at the top of the picture"),
    "bottom": ("at the bottom", "near the bottom", "at the bottom of the picture"),
    "centre": (
        "in the middle",
        "in the centre",
        "in the center",
        "at the centre",
        "in the center of the picture",
    ),
}
# Whole phrases that set the background; "on a X background" is added for every background name.
BACKGROUND_WORDS: dict[str, tuple[str, ...]] = {
    "sky": ("in the sky", "in a blue sky", "in the blue sky", "against the sky", "in the air"),
    "night": ("at night", "in the night sky", "at nighttime", "in the dark", "under the stars"),
    "grass": (
        "on the grass",
        "on grass",
        "in the grass",
        "in a field",
        "on a lawn",
        "in a meadow",
        "on a green meadow",
        "in the park",
    ),
    "sea": (
        "in the sea",
        "in the ocean",
        "underwater",
        "under the sea",
        "on the water",
        "on the sea",
        "over the sea",
        "by the sea",
    ),
    "snow": ("in the snow", "on snow", "on the snow", "in winter"),
    "sand": ("on the beach", "on a beach", "on sand", "on the sand", "in the desert", "on the sand dunes"),
    "plain": ("on a plain background", "on a blank background"),
    # the shapes world's backgrounds, in its own phrases too ("with a cream background")
    **{
        name: (
            *(f"on {word}" for word in _SHAPES_BACKGROUND_WORDS.get(name, (name,))),
            *(
                phrase.format(word)
                for phrase in _SHAPES_BACKGROUND_PHRASES
                for word in _SHAPES_BACKGROUND_WORDS.get(name, (name,))
            ),
        )
        for name in ("white", "black", "gray", "beige")
    },
}
FRAMES: tuple[str, ...] = (
    "{}", "{}", "{}", "{}", "a picture of {}", "an image of {}", "a drawing of {}", "draw {}", "draw me {}",
    "show me {}", "there is {}", "i want {}", "{} please", "a photo of {}", "an illustration of {}",
)  # fmt: skip
ARTICLES: tuple[str, ...] = ("a", "an", "the", "some")
# Words a reader drops silently: they say nothing the world can draw, and reporting them as
# "ignored" would only be noise ("a picture of", "and", "with").
FUNCTION_WORDS: frozenset[str] = frozenset(
    [
        "a",
        "an",
        "the",
        "some",
        "of",
        "and",
        "with",
        "its",
        "their",
        "his",
        "her",
        "is",
        "are",
        "there",
        "here",
        "draw",
        "me",
        "show",
        "make",
        "please",
        "picture",
        "image",
        "drawing",
        "illustration",
        "i",
        "want",
        "each",
        "other",
    ]
)

# Plurals: English rules plus the irregular nouns the world has.
_IRREGULAR = {
    "mouse": "mice", "sheep": "sheep", "fish": "fish", "deer": "deer", "bison": "bison", "moose": "moose",
    "knife": "knives", "leaf": "leaves", "wolf": "wolves", "goose": "geese", "ox": "oxen", "scarf": "scarves",
    "potato": "potatoes", "tomato": "tomatoes", "volcano": "volcanoes", "tornado": "tornadoes",
    "mango": "mangoes", "hero": "heroes", "shrimp": "shrimp", "squid": "squid", "salmon": "salmon",
    "dice": "dice", "die": "dice", "t-rex": "t-rexes", "sushi": "sushi", "rice": "rice", "corn": "corn",
    "bread": "bread", "cheese": "cheeses", "popcorn": "popcorn", "bacon": "bacon", "milk": "milk",
    "coffee": "coffees", "tea": "teas", "honey": "honey", "chocolate": "chocolates", "lettuce": "lettuce",
}  # fmt: skip


def plural(name: str) -> str:
    """The plural of a (possibly multi-word) noun: the last word is inflected."""
    head, _, last = name.rpartition(" ")
    word = _IRREGULAR.get(last) or _regular_plural(last)
    return f"{head} {word}" if head else word


def _regular_plural(word: str) -> str:
    if word.endswith("s") and not word.endswith(("ss", "us")):
        return word  # already plural: grapes, scissors, sunglasses
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        return word[:-1] + "ies"
    return word + "s"


def background_phrases() -> dict[str, tuple[str, ...]]:
    """Every phrase that sets each background, "on a <name> background" included."""
    return {
        name: tuple(dict.fromkeys((*phrases, f"on a {name} background", f"against a {name} background")))
        for name, phrases in BACKGROUND_WORDS.items()
    }

"""Reading a person's prompt into claims: what the embedded world can draw, and what it ignores.

    read("2 crimson circles beside a navy square, please")
    -> claims: 2 red circles, 1 blue square, (0 beside 1); ignored: ("please",)

The reader knows the words of `phrasing.py` (colours and their synonyms, counts as digits and
words up to claims.MAX_COUNT, sizes, relations, positions, backgrounds), the shapes world's shape
words and every name and plural of the things world (`things.name_index`). It matches the longest
known phrase at each point, so "on the grass" is a background, "on top of" a relation and "palm
tree" one thing. Articles and other grammatical words are dropped silently; every other word it
does not know is reported in `ignored`, which is what the answer to a prompt says it left out.
A colour on a thing is dropped (a thing has its own colours); a relation with nothing after it
("two cars next to each other") is dropped; a plural without a count means two.

It also knows what people type and captions never say (`prompt_words.py`: "over the ocean",
"on the far left", "2x", "cacti"), kept out of `phrasing.py` because those tables write the
training captions. Its rules: a posture gives way to a longer place after it ("sitting | on top
of"); a thing's name is no thing inside an artist's name ("in the style of van gogh") or before
what it only modifies ("a school bus", "cherry red", "heart shaped", "pencil sketch of"); a word
one slip from exactly one name is that name ("girafe"), reported as typed when left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from generation.embedded.claims import MAX_COUNT, NaturalPrompt, PromptClaims, ThingClaim
from generation.embedded.phrasing import (
    ARTICLES,
    COLOUR_WORDS,
    FUNCTION_WORDS,
    NUMBER_WORDS,
    POSITION_WORDS,
    RELATION_WORDS,
    SIZE_WORDS,
    background_phrases,
)
from generation.embedded.prompt_words import (
    MEDIUM_WORDS,
    NOT_TYPOS,
    POSTURE_WORDS,
    SHAPED_WORDS,
    STYLE_MARKERS,
    plural_variants,
    reader_phrases,
)
from generation.embedded.things import name_index
from generation.embedded.world import SHAPE_NAMES

# Grammatical words and requests addressed to the bot: they say nothing to draw or to leave out.
_SILENT = """of and or with in at to from for into it its their his her my your our this that these those
each other is are be there here i me you we us can could would draw show make give create generate want
need"""
SILENT_WORDS = frozenset(_SILENT.split()) | frozenset(ARTICLES)
_FUNCTION_WORDS = SILENT_WORDS | FUNCTION_WORDS  # and the captions' frames ("please", "picture")
_Phrase = tuple[str, str | int | tuple[str, bool] | None, str]  # (kind, value, text)
_PLACES = ("relation", "position", "background")
_MAX_PHRASE = 8  # "on the left-hand side of the picture"
_TYPO_MIN_LENGTH = 5  # shorter words are too near other words to correct
_SLIP_MIN_LENGTH = 7  # a letter missing or doubled: only in longer words
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|,")


@dataclass(frozen=True)
class Reading:
    """A prompt read: its claims, and the words it ignored (in the order they came)."""

    claims: PromptClaims
    ignored: tuple[str, ...]


@dataclass(frozen=True)
class Rewrite:
    """A prompt in an embedded world's own wording: what the model is given instead of the prompt."""

    caption: str  # what the model is given
    ignored: tuple[str, ...]  # the words the reader left out, in the order they came
    drawable: tuple[str, ...]  # the colours and things it names, in order (what the model will draw)


@lru_cache(maxsize=1)
def lexicon() -> dict[tuple[str, ...], tuple[str, str | int | tuple[str, bool]]]:
    """Every known phrase (as a word tuple) -> (kind, value)."""
    entries: dict[tuple[str, ...], tuple[str, str | int | tuple[str, bool]]] = {}

    def add(phrase: str, kind: str, value: str | int | tuple[str, bool]) -> None:
        entries.setdefault(tuple(_WORD.findall(phrase)), (kind, value))

    for background, phrases in background_phrases().items():
        for phrase in phrases:
            add(phrase, "background", background)
    for relation, phrases in RELATION_WORDS.items():
        for phrase in phrases:
            add(phrase, "relation", relation)
    for position, phrases in POSITION_WORDS.items():
        for phrase in phrases:
            add(phrase, "position", position)
    for count, phrases in NUMBER_WORDS.items():
        for phrase in phrases:
            add(phrase, "number", count)
    for size, phrases in SIZE_WORDS.items():
        for phrase in phrases:
            add(phrase, "size", size)
    for colour, phrases in COLOUR_WORDS.items():
        for phrase in phrases:
            add(phrase, "colour", colour)
    for shape, forms in SHAPE_NAMES.items():
        for singular, plural in forms:
            add(singular, "thing", (shape, False))
            add(plural, "thing", (shape, True))
    for name, (thing, is_plural) in name_index().items():
        add(name, "thing", (thing, is_plural))
    # what only the reader knows comes last: the world's tables keep every meaning they give
    for phrase, kind, value in reader_phrases():
        add(phrase, kind, value)
    for name, (thing, is_plural) in plural_variants():
        add(name, "thing", (thing, is_plural))
    for phrase in STYLE_MARKERS:
        add(phrase, "style", phrase)
    return entries


def read(prompt: str) -> Reading:
    """The claims a prompt states in the embedded world's terms, and the words it ignored."""
    typed = _WORD.findall(prompt.lower())
    words = [_corrected(word) for word in typed]
    as_typed = {word: was for word, was in zip(words, typed, strict=True) if word != was}  # slips corrected
    objects: list[ThingClaim] = []
    relations: list[tuple[int, str, int]] = []
    background: str | None = None
    ignored: list[str] = []
    pending: dict[str, str | int] = {}  # count, size, colour, position waiting for their object
    relation: tuple[int, str] | None = None  # (subject index, relation) waiting for its object
    for kind, value, text in _apply_rules(_phrases(words)):
        if kind == "thing" and isinstance(value, tuple):
            thing, is_plural = value
            count = int(pending.pop("count", 2 if is_plural else 1))
            colour = _text(pending.pop("colour", None))
            size, position = _text(pending.pop("size", None)), _text(pending.pop("position", None))
            shape = thing in SHAPE_NAMES  # a thing has its own colours: a colour word on it says nothing
            objects.append(
                ThingClaim(thing, colour if shape else None, size, min(count, MAX_COUNT), position)
            )
            if relation is not None:
                relations.append((relation[0], relation[1], len(objects) - 1))
                relation = None
        elif kind == "relation":
            if objects:
                relation = (len(objects) - 1, str(value))
        elif kind == "position":
            if objects and objects[-1].position is None and relation is None:
                last = objects[-1]
                objects[-1] = ThingClaim(last.thing, last.colour, last.size, last.count, str(value))
            else:
                pending["position"] = str(value)
        elif kind == "background":
            background = str(value)
        elif kind in ("number", "size", "colour") and isinstance(value, str | int):
            pending["count" if kind == "number" else kind] = value
        elif kind == "unknown" and text not in SILENT_WORDS and text != ",":  # "silent": dropped
            ignored.append(as_typed.get(text, text))  # a word left out, as the person wrote it
    return Reading(PromptClaims(tuple(objects), tuple(relations), background), tuple(ignored))


def _text(value: str | int | None) -> str | None:
    return None if value is None else str(value)


def _phrases(words: list[str]) -> list[_Phrase]:
    """Longest-match segmentation -> (kind, value, text) with kind "unknown" for unmatched words.
    A posture before a longer place is passed over, so that place is matched ("sitting | on top
    of", not "sitting on | top")."""
    found: list[_Phrase] = []
    at = 0
    while at < len(words):
        kind, value, length = _match(words, at)
        if words[at] in POSTURE_WORDS and _longer_place(words, at + 1, length - 1):
            # a posture the world says ("sitting on") is no word left out; any other is
            found.append(("silent" if kind != "unknown" else "unknown", None, words[at]))
            at += 1
            continue
        found.append((kind, value, " ".join(words[at : at + length])))
        at += length
    return found


def _longer_place(words: list[str], at: int, longer_than: int) -> bool:
    """Whether a relation, position or background longer than `longer_than` words starts at `at`."""
    kind, _, length = _match(words, at)
    return kind in _PLACES and length > longer_than


def _match(words: list[str], at: int) -> tuple[str, str | int | tuple[str, bool] | None, int]:
    """The longest known phrase starting at `at` as (kind, value, length); ("unknown", None, 1) if none."""
    known = lexicon()
    for length in range(min(_MAX_PHRASE, len(words) - at), 0, -1):
        phrase = tuple(words[at : at + length])
        if phrase in known:
            kind, value = known[phrase]
            return kind, value, length
    return "unknown", None, 1


def _apply_rules(found: list[_Phrase]) -> list[_Phrase]:
    """Where a thing's name is not a thing: in an artist's name after "in the style of" or "by"
    ("van gogh"); before a colour ("cherry red"), "shaped", or a kind of picture and "of" ("pencil
    sketch of"); and, inside a noun phrase already begun, before another thing ("a school bus")."""
    out: list[_Phrase] = []
    at = 0
    while at < len(found):
        kind, _, text = found[at]
        if kind == "style" or (kind == "relation" and text == "by" and _is_name(found, at + 1)):
            end = _name_end(found, at + 1)
            out += [
                ("unknown", None, word) for _, _, phrase in found[at + 1 : end] for word in phrase.split()
            ]
            at = end
            continue
        following = [*found[at + 1 : at + 3], ("", None, ""), ("", None, "")]
        begun = at > 0 and (found[at - 1][0] in ("number", "size", "colour") or found[at - 1][2] in ARTICLES)
        if kind == "thing" and following[0][0] == "colour":
            out.append(("silent", None, text))  # it says which red
        elif kind == "thing" and (
            (following[0][0] == "thing" and begun)
            or following[0][2] in SHAPED_WORDS
            or (following[0][2] in MEDIUM_WORDS and following[1][2] == "of")
        ):
            out.append(("unknown", None, text))  # not drawn: a word left out
        else:
            out.append(found[at])
        at += 1
    return out


def _name_end(found: list[_Phrase], start: int) -> int:
    """Where a name that starts at `start` ends: at a comma, a relation, a place or a background."""
    end = start
    while end < len(found) and found[end][2] != "," and found[end][0] not in _PLACES:
        end += 1
    return end


def _is_name(found: list[_Phrase], start: int) -> bool:
    """Whether "by" starts a name, not a place: no article or count after it, and each thing in it
    followed by a word the reader does not know ("by van gogh", not "by a tree", "by tree please")."""
    run = found[start : _name_end(found, start)]
    content = [(kind, text) for kind, _, text in run if text not in _FUNCTION_WORDS]
    return (
        bool(content)
        and run[0][2] not in _FUNCTION_WORDS
        and all(kind in ("thing", "unknown") for kind, _ in content)
        and all(kind == "unknown" or (i + 1 < len(content) and content[i + 1][0] == "unknown")
                for i, (kind, _) in enumerate(content))
    )  # fmt: skip


@lru_cache(maxsize=1)
def _typo_targets() -> tuple[dict[str, str | None], frozenset[str], frozenset[str]]:
    """(slip -> the name it is a slip of, None when two names share it; the names; every known word)."""
    known = lexicon()
    names = frozenset(
        phrase[0] for phrase, (kind, _) in known.items()
        if len(phrase) == 1 and kind in ("thing", "colour") and len(phrase[0]) >= _TYPO_MIN_LENGTH
    )  # fmt: skip
    slips: dict[str, str | None] = {}
    for name in names:
        variants = {name[:i] + name[i + 1] + name[i] + name[i + 2 :] for i in range(len(name) - 1)}
        if len(name) >= _SLIP_MIN_LENGTH:
            variants |= {name[:i] + name[i + 1 :] for i in range(len(name))}
        for variant in variants - {name}:
            slips[variant] = None if slips.get(variant, name) != name else name
    words = frozenset(w for phrase in known for w in phrase) | SILENT_WORDS | POSTURE_WORDS | MEDIUM_WORDS
    return slips, names, words | NOT_TYPOS


def _corrected(word: str) -> str:
    """A word one slip from exactly one thing or colour name (two letters swapped, or in longer
    names one missing or one extra) as that name; any other word as it is."""
    slips, names, known_words = _typo_targets()
    if len(word) < _TYPO_MIN_LENGTH or word in known_words:
        return word
    found: set[str | None] = {slips[word]} if word in slips else set()
    if len(word) >= _SLIP_MIN_LENGTH:  # one letter too many: "bananna"
        found |= {word[:i] + word[i + 1 :] for i in range(len(word))} & names
    only = found.pop() if len(found) == 1 else None  # None: no name, or two names share the slip
    return only if only is not None else word


def reads_right(reading: Reading, prompt: NaturalPrompt) -> bool:
    """Whether a reading states the prompt's claims and reports every word the prompt must have ignored."""
    return claims_equal(reading.claims, prompt.claims) and set(prompt.ignored) <= set(reading.ignored)


def claims_equal(a: PromptClaims, b: PromptClaims) -> bool:
    """Whether two claims say the same, whatever order their objects are listed in."""
    return _canonical(a) == _canonical(b)


def _canonical(claims: PromptClaims) -> tuple[object, ...]:
    key = [(o.thing, o.colour or "", o.size or "", o.count, o.position or "") for o in claims.objects]
    order = sorted(range(len(key)), key=lambda i: key[i])
    rank = {old: new for new, old in enumerate(order)}
    relations = sorted((rank[a], r, rank[b]) for a, r, b in claims.relations)
    return (tuple(key[i] for i in order), tuple(relations), claims.background)

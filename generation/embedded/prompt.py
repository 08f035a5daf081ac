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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from generation.embedded.claims import MAX_COUNT, NaturalPrompt, PromptClaims, ThingClaim
from generation.embedded.phrasing import (
    ARTICLES,
    COLOUR_WORDS,
    NUMBER_WORDS,
    POSITION_WORDS,
    RELATION_WORDS,
    SIZE_WORDS,
    background_phrases,
)
from generation.embedded.things import name_index
from generation.embedded.world import SHAPE_NAMES

# Grammatical words and requests addressed to the bot: they say nothing to draw or to leave out.
_SILENT = """of and or with in at to from for into it its their his her my your our this that these those
each other is are be there here i me you we us can could would draw show make give create generate want
need"""
SILENT_WORDS = frozenset(_SILENT.split()) | frozenset(ARTICLES)
_MAX_PHRASE = 6
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
    return entries


def read(prompt: str) -> Reading:
    """The claims a prompt states in the embedded world's terms, and the words it ignored."""
    words = _WORD.findall(prompt.lower())
    objects: list[ThingClaim] = []
    relations: list[tuple[int, str, int]] = []
    background: str | None = None
    ignored: list[str] = []
    pending: dict[str, str | int] = {}  # count, size, colour, position waiting for their object
    relation: tuple[int, str] | None = None  # (subject index, relation) waiting for its object
    for kind, value, text in _phrases(words):
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
        elif kind == "unknown" and text not in SILENT_WORDS and text != ",":
            ignored.append(text)
    return Reading(PromptClaims(tuple(objects), tuple(relations), background), tuple(ignored))


def _text(value: str | int | None) -> str | None:
    return None if value is None else str(value)


def _phrases(words: list[str]) -> list[tuple[str, str | int | tuple[str, bool] | None, str]]:
    """Longest-match segmentation -> (kind, value, text) with kind "unknown" for unmatched words."""
    known = lexicon()
    found: list[tuple[str, str | int | tuple[str, bool] | None, str]] = []
    at = 0
    while at < len(words):
        for length in range(min(_MAX_PHRASE, len(words) - at), 0, -1):
            phrase = tuple(words[at : at + length])
            if phrase in known:
                kind, value = known[phrase]
                found.append((kind, value, " ".join(phrase)))
                at += length
                break
        else:
            found.append(("unknown", None, words[at]))
            at += 1
    return found


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

"""A person's prompt in the things world's own wording: what a things model is given.

A things model learned the captions of `things_world.py`, written from the tables of
`phrasing.py`; the prompt reader (`prompt.read`) reads those same tables, so everything such a
model can understand, the reader understands too. People write prompts with words no caption
has ("a majestic lion", "photo of three cute puppies, 4k") and in orders no caption has. So a
things model's prompt is read into claims and written back in the world's plainest wording
(`things_caption`) before it is tokenized, and the words the reader left out are the ones the
answer names. A prompt in which the reader finds nothing to draw goes to the model as written.

    things_caption(read("photo of 3 cute puppies on the beach, 4k").claims)
    -> "three dogs on the beach"
"""

from __future__ import annotations

from collections.abc import Collection

from generation.embedded.claims import PromptClaims, ThingClaim
from generation.embedded.phrasing import NUMBER_WORDS, POSITION_WORDS, RELATION_WORDS, SIZE_WORDS, plural
from generation.embedded.prompt import Rewrite, read
from generation.embedded.things import things
from generation.embedded.world import SHAPES

# The phrase that sets each background, as the world says it; "plain" and "white" are one picture.
_BACKGROUND_PHRASES = {
    "sky": "in the sky",
    "night": "at night",
    "grass": "on the grass",
    "sea": "in the sea",
    "snow": "in the snow",
    "sand": "on the beach",
    "plain": "on a plain background",
    "white": "on a white background",
    "black": "on a black background",
    "gray": "on a gray background",
    "beige": "on a beige background",
}


def _name(thing: str, count: int) -> str:
    name = thing if thing in SHAPES else things()[thing].names[0]
    return name if count == 1 else plural(name)


def _noun_phrase(claim: ThingClaim) -> str:
    """"a big cat", "three small red circles", "an apple at the top"."""
    size = SIZE_WORDS[claim.size][0] if claim.size else ""
    words = [size, claim.colour or "", _name(claim.thing, claim.count)]
    body = " ".join(w for w in words if w)
    if claim.count == 1:
        phrase = f"{'an' if body[0] in 'aeiou' else 'a'} {body}"
    else:
        phrase = f"{NUMBER_WORDS[claim.count][0]} {body}"
    return f"{phrase} {POSITION_WORDS[claim.position][0]}" if claim.position else phrase


def things_caption(claims: PromptClaims) -> str:
    """Claims written as the things world writes captions: objects joined by their relations
    ("a cat above a dog") or listed ("a cat, a dog and a fox"), then the background."""
    phrases = [_noun_phrase(o) for o in claims.objects]
    related = {a: (relation, b) for a, relation, b in claims.relations}
    parts: list[str] = []  # runs of objects, each run linked by relations
    done: set[int] = set()
    for start in range(len(phrases)):
        if start in done:
            continue
        run, at = phrases[start], start
        done.add(at)
        while at in related and related[at][1] not in done:
            relation, at = related[at]
            run += f" {RELATION_WORDS[relation][0]} {phrases[at]}"
            done.add(at)
        parts.append(run)
    text = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return f"{text} {_BACKGROUND_PHRASES[claims.background]}" if claims.background else text


def rewrite(prompt: str, unknown: Collection[str]) -> Rewrite | None:
    """The prompt in the things world's wording, or None when the reader finds nothing to draw
    (it goes as written). `unknown` (the words the vocabulary lacks) is not needed: the reader
    knows every word a things model was trained on, so every prompt it can read is rewritten."""
    del unknown  # the shapes rewriter's signature (understanding.Rewriter)
    reading = read(prompt)
    if not reading.claims.objects:
        return None
    words = [w for o in reading.claims.objects for w in (o.colour, _name(o.thing, 1)) if w]
    return Rewrite(things_caption(reading.claims), reading.ignored, tuple(dict.fromkeys(words)))

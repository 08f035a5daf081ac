"""A person's prompt in the shapes world's own wording: what lets the shapes model read prompts
as people write them.

The committed embedded model learned the captions of `world.py` ("a large red circle to the left
of a blue square on a gray background") and nothing else: "two crimson circles beside a navy
square" leaves it with "two", "circles", "beside", "square" and no colours. The prompt reader
(`prompt.read`) understands such prompts — colour synonyms, digits, article-free text,
prepositional variants — so a prompt the shapes world can draw is read into claims and written
back in the world's grammar before it is tokenized (`rewrite`), and the words the reader left out
are the ones the answer names. Only prompts with words the model does not know are rewritten,
and a prompt the shapes world cannot draw (a thing, a shape with no colour, more than three
objects, a background it lacks) is not: it goes to the model as written, as before.

Measured by `dallebot eval embedded` as natural_phrasing_read before this was wired in: 29 of the
189 hand-written natural prompts drawn right when read first, against 12 as written.
"""

from __future__ import annotations

import string
from collections.abc import Collection

from generation.embedded.claims import PromptClaims
from generation.embedded.prompt import Rewrite, read
from generation.embedded.world import SHAPES, Claims, ObjectClaim

_SHAPE_SIZES = {"small": "small", "big": "large"}
_SHAPE_BACKGROUNDS = {"white": "white", "plain": "white", "black": "black", "gray": "gray", "beige": "beige"}
_SHAPE_RELATIONS = {
    "above": "above",
    "below": "below",
    "left": "left",
    "right": "right",
    "beside": "beside",
    "on": "above",
}  # the shapes world has no "on": judged as above


def shapes_claims(claims: PromptClaims) -> Claims | None:
    """The claims in the shapes world's terms, or None when that world cannot draw them."""
    if any(o.thing not in SHAPES or o.colour is None for o in claims.objects) or claims.count() > 3:
        return None
    if claims.background is not None and claims.background not in _SHAPE_BACKGROUNDS:
        return None
    objects: list[ObjectClaim] = []
    first: list[int] = []  # index in `objects` of each claim's first object
    for o in claims.objects:
        first.append(len(objects))
        size = _SHAPE_SIZES[o.size] if o.size else None
        objects += [ObjectClaim(o.thing, o.colour or "", size, o.position)] * o.count
    relations = tuple((first[a], _SHAPE_RELATIONS[r], first[b]) for a, r, b in claims.relations)
    background = _SHAPE_BACKGROUNDS[claims.background] if claims.background else None
    return Claims(tuple(objects), relations, background)


def shapes_caption(claims: PromptClaims) -> str:
    """Claims written the way the shapes world's captions are ("a large red circle next to …")."""
    counts = {2: "two", 3: "three", 4: "four"}
    relation_words = {
        "above": "above",
        "below": "below",
        "left": "to the left of",
        "right": "to the right of",
        "beside": "next to",
        "on": "on top of",
    }
    phrases = []
    for o in claims.objects:
        noun = o.thing if o.count == 1 else ("crosses" if o.thing == "cross" else f"{o.thing}s")
        body = " ".join(w for w in (_SHAPE_SIZES.get(o.size or "", ""), o.colour or "", noun) if w)
        article = ("an" if body[0] in "aeiou" else "a") if o.count == 1 else counts[o.count]
        phrase = f"{article} {body}"
        if o.position:
            phrase += {"centre": " in the centre"}.get(o.position, f" at the {o.position}")
        phrases.append(phrase)
    if claims.relations and len(phrases) == 2:
        a, relation, b = claims.relations[0]
        text = f"{phrases[a]} {relation_words[relation]} {phrases[b]}"
    else:
        text = ", ".join(phrases[:-1]) + (" and " if len(phrases) > 1 else "") + phrases[-1]
    if claims.background:
        text += f" on a {_SHAPE_BACKGROUNDS.get(claims.background, claims.background)} background"
    return text


def rewrite(prompt: str, unknown: Collection[str]) -> Rewrite | None:
    """The prompt in the shapes world's wording, or None (the prompt goes as written).

    `unknown`: the prompt's words the model's vocabulary lacks. Only a prompt that would lose
    words is rewritten, and only when the reader leaves out none of the words the model knows: a
    caption in the world's own wording keeps every fact the model was trained to read (the reader
    does not know every such phrase: "against a grey background"), and "five red circles" is not
    turned into two when the model knows "five"."""
    lost = {word.strip(string.punctuation) for word in unknown}
    if not lost:
        return None
    reading = read(prompt)
    if not reading.claims.objects or shapes_claims(reading.claims) is None:
        return None
    if any(word not in lost for word in reading.ignored):
        return None
    words = [w for o in reading.claims.objects for w in (o.colour, o.thing) if w]
    return Rewrite(shapes_caption(reading.claims), reading.ignored, tuple(dict.fromkeys(words)))

"""What a prompt states, in the words of the world of things: the claims an image is judged on.

A prompt names objects — a shape ("circle") or a thing ("cat", an emoji of the things world) —
each maybe with a colour (shapes only: a thing has its own colours), a size, a count and a place
in the picture, plus relations between them and a background. Anything the prompt leaves out is
free. The natural-phrasing evaluation set (`data/natural_phrasing.jsonl`, written by hand before
any model was trained on this world, never tuned on) is a list of prompts with these claims.

One line of the set:

    {"prompt": "crimson circle next to a navy square",
     "objects": [{"thing": "circle", "colour": "red"}, {"thing": "square", "colour": "blue"}],
     "relations": [[0, "beside", 1]], "background": "white", "ignored": ["please"]}

`count` (default 1), `size`, `colour`, `position` are optional per object; `relations`,
`background` and `ignored` (content words outside the world that the answer must report as
ignored) are optional per line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

NATURAL_SET = Path(__file__).with_name("data") / "natural_phrasing.jsonl"
# The second set: written in another session by someone who had not read the reader's lexicon
# (the first set and the reader share an author), before the model it first judged was scored.
NATURAL_SET_2 = Path(__file__).with_name("data") / "natural_phrasing_2.jsonl"
# The third: its prompts (`natural_phrasing_3_prompts.txt`) typed from imagination, in another
# session, by someone who had read neither the reader's lexicon, nor the other sets, nor the world's
# thing names, and committed before those names were opened; only then annotated against
# `things.tsv`. Prompts naming what the world lacks were dropped, not reworded.
NATURAL_SET_3 = Path(__file__).with_name("data") / "natural_phrasing_3.jsonl"

CLAIM_COLOURS = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan")
CLAIM_SIZES = ("small", "medium", "big")  # "medium": as the shapes world says it
CLAIM_POSITIONS = ("left", "right", "top", "bottom", "centre")
# "on": above and touching or nearly so, centred over the other object
CLAIM_RELATIONS = ("above", "below", "left", "right", "beside", "on")
CLAIM_BACKGROUNDS = (
    "sky", "night", "grass", "sea", "snow", "sand", "plain",  # the things world's
    "white", "black", "gray", "beige",  # the shapes world's
)  # fmt: skip
MAX_COUNT = 4


@dataclass(frozen=True)
class ThingClaim:
    """One object (or `count` alike) the prompt asks for; None leaves the attribute free."""

    thing: str
    colour: str | None = None
    size: str | None = None
    count: int = 1
    position: str | None = None


@dataclass(frozen=True)
class PromptClaims:
    """Exactly these objects, these relations (subject index, relation, object index), this background."""

    objects: tuple[ThingClaim, ...]
    relations: tuple[tuple[int, str, int], ...] = ()
    background: str | None = None

    def count(self) -> int:
        """How many objects the picture should show in all."""
        return sum(o.count for o in self.objects)


@dataclass(frozen=True)
class NaturalPrompt:
    """A prompt of the natural-phrasing set: its text, its claims, the words it must report ignored."""

    prompt: str
    claims: PromptClaims
    ignored: tuple[str, ...] = ()


_LINE_KEYS = {"prompt", "objects", "relations", "background", "ignored"}
_OBJECT_KEYS = {"thing", "colour", "size", "count", "position"}


def load_natural_set(path: Path = NATURAL_SET) -> list[NaturalPrompt]:
    """Read and check a natural-phrasing set; a bad line is an error naming the file and line."""
    prompts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                prompts.append(_parse_line(json.loads(line)))
            except (ValueError, TypeError, KeyError) as error:
                raise ValueError(f"{path}:{number}: {error}") from None
    return prompts


def _parse_line(data: dict) -> NaturalPrompt:
    unknown = set(data) - _LINE_KEYS
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}; known: {sorted(_LINE_KEYS)}")
    objects = tuple(_parse_object(o) for o in data["objects"])
    if not objects:
        raise ValueError("a prompt must claim at least one object")
    relations = tuple((int(a), str(r), int(b)) for a, r, b in data.get("relations", ()))
    for a, relation, b in relations:
        if relation not in CLAIM_RELATIONS or not (0 <= a < len(objects) and 0 <= b < len(objects)) or a == b:
            raise ValueError(f"bad relation {[a, relation, b]}: relations are {CLAIM_RELATIONS}")
    background = data.get("background")
    if background is not None and background not in CLAIM_BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}; known: {CLAIM_BACKGROUNDS}")
    ignored = tuple(str(w) for w in data.get("ignored", ()))
    return NaturalPrompt(str(data["prompt"]), PromptClaims(objects, relations, background), ignored)


def _parse_object(data: dict) -> ThingClaim:
    unknown = set(data) - _OBJECT_KEYS
    if unknown:
        raise ValueError(f"unknown object keys {sorted(unknown)}; known: {sorted(_OBJECT_KEYS)}")
    count = int(data.get("count", 1))
    claim = ThingClaim(str(data["thing"]), data.get("colour"), data.get("size"), count, data.get("position"))
    for value, allowed in ((claim.colour, CLAIM_COLOURS), (claim.size, CLAIM_SIZES),
                           (claim.position, CLAIM_POSITIONS)):  # fmt: skip
        if value is not None and value not in allowed:
            raise ValueError(f"{claim.thing}: {value!r} is not one of {allowed}")
    if not 1 <= claim.count <= MAX_COUNT:
        raise ValueError(f"{claim.thing}: count {claim.count} outside 1..{MAX_COUNT}")
    return claim

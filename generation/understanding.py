"""What a model will make of a prompt, known before anything is generated.

A word with a piece outside the model's vocabulary becomes `<unk>`, which the encoder ignores
(the embedded model is trained to: see generation/embedded/text.py). So before queueing, a
prompt can be read against the tokenizer alone: which words will be ignored, and whether any
word left names something to draw. Only the tokenizer files are read (vocab.json, merges.txt
and the name in config.json), never the weights, so a front end that does not load the model
(`dallebot run --workers 0`) can still tell. Real models' byte-level BPE vocabularies cover
every character the tokenizer keeps, so for them nothing is ever ignored.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generation.tokenizer import Tokenizer, TokenizerError, normalize

if TYPE_CHECKING:
    from generation.embedded.prompt import Rewrite

EMBEDDED_NAME = "dallebot-embedded"  # config.json "name" of the model shipped in generation/embedded
THINGS_NAME = "dallebot-embedded-things"  # config.json "name" of the embedded things model (`things`)

# Words that draw nothing on their own: articles, prepositions, the framing of a request ("draw
# me a picture of"), and what only qualifies a thing (its size, place or count). A prompt whose
# known words are all here gives the model nothing to draw.
_NOT_DRAWABLE = """
    a an the this that these those some any one two three four five pair of and or but with without
    in on at to from by for into onto over under above below beneath underneath beside near next
    against between behind front across around up down off out is are was be there here it me us
    please draw drawing drawn show make create paint render generate picture image illustration
    photo simple big small tiny little large huge medium sized left right top bottom centre center
    middle side background
"""
NOT_DRAWABLE = frozenset(_NOT_DRAWABLE.split())


@dataclass(frozen=True)
class Understanding:
    """One prompt read against a vocabulary: the ignored words and the known words that draw."""

    ignored: tuple[str, ...]  # words with pieces outside the vocabulary: the model skips them
    drawable: tuple[str, ...]  # known words that name something (not in NOT_DRAWABLE)

    @property
    def nothing_understood(self) -> bool:
        """Words were ignored and none of the rest names anything to draw."""
        return bool(self.ignored) and not self.drawable


@dataclass(frozen=True)
class Repertoire:
    """What a closed-vocabulary model can draw, for telling people what to ask for."""

    shapes: tuple[str, ...]
    colours: tuple[str, ...]
    relations: tuple[str, ...]  # as phrases: "above", "left of"
    example: str
    examples: tuple[str, ...] = ()  # captions from the model's own world, to try with one click
    things: tuple[str, ...] = ()  # kinds of everyday things it also draws (the things model)
    thing_count: int = 0


def embedded_repertoire() -> Repertoire:
    """The embedded model's world: its shapes, colours and relations."""
    from generation.embedded.world import COLOURS, RELATIONS, SHAPES

    relations = tuple(f"{r} of" if r in ("left", "right") else r for r in RELATIONS)  # as captions say them
    return Repertoire(SHAPES, tuple(COLOURS), relations, "a red circle above a blue square", world_examples())


# prompts the things model draws right in every seed tried (tests/generation/embedded/test_things_model.py)
THINGS_EXAMPLES = ("a cat", "two dogs on the grass", "an apple above a banana")


def things_repertoire() -> Repertoire:
    """The embedded things model's world: everyday things by kind, plus the shapes world's shapes."""
    from generation.embedded.things import things
    from generation.embedded.world import COLOURS, SHAPES

    kinds = tuple(dict.fromkeys(t.category for t in things().values()))
    relations = ("above", "below", "left of", "right of", "next to", "on")
    return Repertoire(
        SHAPES, tuple(COLOURS), relations, THINGS_EXAMPLES[-1], THINGS_EXAMPLES, kinds, len(things())
    )


def repertoire_of(model_name: str | None) -> Repertoire | None:
    """What a closed-world (embedded) model draws, by its config name; None: open vocabulary."""
    if model_name == EMBEDDED_NAME:
        return embedded_repertoire()
    if model_name == THINGS_NAME:
        return things_repertoire()
    return None


def world_examples(count: int = 3, seed: int = 7) -> tuple[str, ...]:
    """Short captions the embedded model was trained on, drawn from its own world (not copies kept
    here, so they follow the world when it changes): one relation, one single thing, one count."""
    from generation.embedded.world import World

    world = World(seed)  # the "train" split: combinations the model has seen
    by_kind: dict[str, str] = {}
    for _ in range(500):
        scene = world.sample()
        if len(scene.caption.split()) > 9:
            continue
        relations = getattr(getattr(scene, "claims", None), "relations", ())
        kind = "relation" if relations else "single" if len(scene.objects) == 1 else "count"
        by_kind.setdefault(kind, scene.caption)
        if len(by_kind) == 3:
            break
    order = [by_kind[kind] for kind in ("relation", "single", "count") if kind in by_kind]
    return tuple(order[:count])


Rewriter = Callable[[str, Collection[str]], "Rewrite | None"]  # (prompt, words the vocabulary lacks)


def model_prompt_rewriter(model_name: str | None) -> Rewriter | None:
    """How a model's prompts are rewritten before tokenizing: the embedded models read prompts into
    their own world's wording (`generation.embedded.shapes_text`, `generation.embedded.things_text`);
    other models take them as written (None)."""
    if model_name == EMBEDDED_NAME:
        from generation.embedded.shapes_text import rewrite

        return rewrite
    if model_name == THINGS_NAME:
        from generation.embedded.things_text import rewrite as rewrite_things

        return rewrite_things
    return None


class PromptReader:
    """Reads prompts against one model's tokenizer; `repertoire` is None for open vocabularies."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        repertoire: Repertoire | None = None,
        rewriter: Rewriter | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.repertoire = repertoire
        self.rewriter = rewriter  # the model's own rewriting (the pipeline applies the same one)

    @classmethod
    def of(cls, tokenizer: Tokenizer, model_name: str | None) -> PromptReader:
        """The reader for a loaded model's tokenizer, knowing the embedded model by its name."""
        return cls(tokenizer, repertoire_of(model_name), model_prompt_rewriter(model_name))

    def read(self, prompt: str) -> Understanding:
        """Which words the model will ignore, and which known words name something to draw."""
        rewritten = None
        if self.rewriter is not None:
            rewritten = self.rewriter(prompt, self.tokenizer.encode_with_unknown(prompt).unknown_words)
        if rewritten is not None:  # the model is given the rewrite: the reader's left-out words stand
            return Understanding(rewritten.ignored, rewritten.drawable)
        ignored: dict[str, None] = {}  # ordered sets
        drawable: dict[str, None] = {}
        for word in normalize(prompt).split(" "):
            if not word:
                continue
            bare = _bare(word)
            if not self._known(word):
                ignored[bare or word] = None
            elif bare and bare not in NOT_DRAWABLE:
                drawable[bare] = None
        return Understanding(tuple(ignored), tuple(drawable))

    def _known(self, word: str) -> bool:
        """Whether every BPE piece of the word is in the vocabulary, as the tokenizer decides it
        (through its word cache: a prompt is read on every submit)."""
        return self.tokenizer.unk not in self.tokenizer.word_ids(word)

    @classmethod
    def for_model(cls, model: str | Path | None) -> PromptReader:
        """The reader for a model directory (None: the embedded model), from its tokenizer files."""
        from generation.loading import CONFIG_FILE, ModelLoadError, find_min_dalle_files, model_directory

        directory = model_directory(model)
        name = None
        if (directory / CONFIG_FILE).is_file():
            try:
                name = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8")).get("name")
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
                raise ModelLoadError(f"{directory / CONFIG_FILE}: not a JSON object ({exc})") from exc
            vocab, merges = directory / "vocab.json", directory / "merges.txt"
        else:
            files = find_min_dalle_files(directory)
            vocab, merges = files["vocab"], files["merges"]
        try:
            tokenizer = Tokenizer.from_files(vocab, merges)
        except TokenizerError as exc:
            raise ModelLoadError(str(exc)) from exc
        return cls.of(tokenizer, name)


def _bare(word: str) -> str:
    """A word without the punctuation around it ("mountains." -> "mountains")."""
    return word.strip(string.punctuation)

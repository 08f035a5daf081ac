"""Prompts read into the shapes world's wording before the shapes model sees them."""

from __future__ import annotations

import pytest

from generation import load_pipeline
from generation.embedded.shapes_text import Rewrite
from generation.embedded.shapes_text import rewrite as rewrite_with
from generation.embedded.world import World
from generation.loading import EMBEDDED_SHAPES_DIR
from generation.tokenizer import Tokenizer
from generation.understanding import PromptReader, Understanding

TOKENIZER = Tokenizer.from_files(EMBEDDED_SHAPES_DIR / "vocab.json", EMBEDDED_SHAPES_DIR / "merges.txt")


def rewrite(prompt: str) -> Rewrite | None:
    """As the pipeline does it: with the words the shapes model's vocabulary lacks."""
    return rewrite_with(prompt, TOKENIZER.encode_with_unknown(prompt).unknown_words)


@pytest.mark.parametrize(
    ("prompt", "caption", "ignored"),
    [
        ("2 crimson circles beside a navy square, please", "two red circles next to a blue square",
         ("please",)),
        ("Scarlet triangle", "a red triangle", ()),  # no article, a colour synonym
        ("three small teal stars", "three small cyan stars", ()),  # the world calls teal cyan
        ("a big amber star at the top", "a large orange star at the top", ()),
    ],
)
def test_a_drawable_prompt_is_written_in_the_worlds_wording(prompt, caption, ignored):
    rewritten = rewrite(prompt)
    assert rewritten is not None
    assert (rewritten.caption, rewritten.ignored) == (caption, ignored)


@pytest.mark.parametrize(
    "prompt",
    [
        "a cat wearing sunglasses",  # a thing: the shapes world cannot draw it
        "a circle",  # no colour: the world's captions always name one
        "sunset over the mountains",
        "a large red circle to the left of a blue square",  # every word known: the model reads it
        "the red circles against a grey background",  # known to the model, not to the reader
        "",
    ],
)
def test_what_the_world_cannot_draw_is_left_as_written(prompt):
    assert rewrite(prompt) is None


def test_the_worlds_own_captions_go_as_written():
    """Captions the model was trained on use only words it knows: none is rewritten."""
    world = World(11)
    captions = [world.sample().caption for _ in range(300)]
    assert [c for c in captions if rewrite(c) is not None] == []


def test_a_known_word_the_reader_would_drop_stops_the_rewrite():
    # "five" is beyond the reader's counts: rewriting would draw two circles and say it left "five" out
    assert rewrite_with("five crimson circles", ["crimson"]) is None
    assert rewrite_with("five crimson circles", ["crimson", "five"]) is not None


def test_the_pipeline_and_the_reader_agree_on_what_the_model_is_given():
    pipe = load_pipeline("shapes", device="cpu")  # chosen by name, the shapes model still rewrites
    reader = PromptReader.of(pipe.tokenizer, pipe.config.name)
    prompt = "2 crimson circles beside a navy square, please"
    assert pipe.model_prompt(prompt) == "two red circles next to a blue square"
    assert pipe.tokenize(prompt) == pipe.tokenizer.encode("two red circles next to a blue square")
    assert reader.read(prompt) == Understanding(("please",), ("red", "circle", "blue", "square"))
    # a prompt it cannot draw goes as written, and is read against the vocabulary as before
    assert pipe.model_prompt("a cat on a red circle") == "a cat on a red circle"
    assert reader.read("sunset over the mountains").nothing_understood

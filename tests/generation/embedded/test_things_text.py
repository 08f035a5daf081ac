"""Prompts read into the things world's wording before a things model sees them."""

from __future__ import annotations

import pytest

from generation import load_pipeline
from generation.embedded.claims import PromptClaims, ThingClaim
from generation.embedded.prompt import claims_equal, read
from generation.embedded.things_text import rewrite, things_caption
from generation.embedded.things_world import ThingWorld
from generation.understanding import THINGS_NAME, PromptReader, model_prompt_rewriter


@pytest.mark.parametrize(
    ("prompt", "caption", "ignored"),
    [
        ("a majestic lion", "a lion", ("majestic",)),
        ("photo of 3 cute puppies on the beach, 4k", "three dogs on the beach", ("photo", "cute", "4k")),
        ("Crimson circle beside a navy square", "a red circle next to a blue square", ()),
        ("kitten sitting on a car at night", "a cat on a car at night", ()),
        ("tiny owl in the center", "a small owl in the middle", ()),
        ("an apple, a banana and a pear", "an apple, a banana and a pear", ()),
    ],
)
def test_a_prompt_is_written_in_the_worlds_plainest_wording(prompt, caption, ignored):
    rewritten = rewrite(prompt, ())
    assert rewritten is not None
    assert (rewritten.caption, rewritten.ignored) == (caption, ignored)


def test_a_prompt_with_nothing_to_draw_goes_as_written():
    assert rewrite("a spaceship in the style of monet", ()) is None
    assert rewrite("", ()) is None


def test_relations_chain_in_order_and_other_objects_are_listed():
    cat, dog, fox = ThingClaim("cat"), ThingClaim("dog"), ThingClaim("fox")
    claims = PromptClaims((cat, dog, fox), ((0, "above", 1),), "snow")
    assert things_caption(claims) == "a cat above a dog and a fox in the snow"
    claims = PromptClaims((cat, dog, fox), ((0, "left", 1), (1, "on", 2)))
    assert things_caption(claims) == "a cat left of a dog on a fox"


def test_every_caption_the_world_writes_reads_back_the_same_after_rewriting():
    """The rewrite loses nothing the reader read: 1,500 captions of every kind, shapes included."""
    for scene in ThingWorld(31, "any").scenes(1500):
        reading = read(scene.caption).claims
        assert claims_equal(read(things_caption(reading)).claims, reading), scene.caption


def test_a_things_model_is_given_the_rewrite_and_the_answer_names_what_the_reader_left_out():
    assert model_prompt_rewriter(THINGS_NAME) is rewrite
    pipeline = load_pipeline("things", device="cpu")
    assert pipeline.model_prompt("a majestic lion on the grass, 8k") == "a lion on the grass"
    assert pipeline.model_prompt("a spaceship") == "a spaceship"  # nothing to draw: as written
    understanding = PromptReader.for_model("things").read("a majestic lion on the grass, 8k")
    assert understanding.ignored == ("majestic", "8k") and "lion" in understanding.drawable

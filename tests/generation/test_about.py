"""What the page says about a model, read from its files alone (issue 20)."""

from __future__ import annotations

from pathlib import Path

from generation.about import describe_model, megabytes
from generation.embedded.things import things
from generation.embedded.world import COLOURS, SHAPES
from generation.loading import EMBEDDED_SHAPES_DIR, EMBEDDED_THINGS_DIR, save_components
from generation.understanding import EMBEDDED_NAME, THINGS_EXAMPLES, THINGS_NAME, PromptReader, world_examples
from tests.generation import tiny


def test_the_shapes_model_by_name_is_named_sized_and_its_world_told() -> None:
    facts = describe_model("shapes")
    assert facts.name == EMBEDDED_NAME and facts.embedded and facts.problem is None
    assert facts.weight_bytes == (EMBEDDED_SHAPES_DIR / "model.safetensors").stat().st_size  # not vq_encoder
    assert facts.repertoire is not None and not facts.repertoire.things
    assert set(facts.repertoire.shapes) == set(SHAPES) and set(facts.repertoire.colours) == set(COLOURS)


def test_example_prompts_come_from_the_world_and_use_only_words_the_model_knows() -> None:
    examples = world_examples()
    assert len(examples) == 3 and len(set(examples)) == 3
    reader = PromptReader.for_model("shapes")
    for example in examples:
        understood = reader.read(example)
        assert understood.ignored == () and understood.drawable, example
    assert world_examples(seed=8) != examples  # drawn from the world, not a list kept somewhere


def test_an_open_vocabulary_model_has_no_repertoire_and_a_missing_one_says_why(tmp_path: Path) -> None:
    save_components(tiny.components(), tmp_path / "own")
    facts = describe_model(tmp_path / "own")
    assert facts.repertoire is None and not facts.embedded and facts.problem is None
    assert facts.weight_bytes == (tmp_path / "own" / "model.safetensors").stat().st_size
    missing = describe_model(tmp_path / "nowhere")
    assert missing.weight_bytes is None and missing.problem and "nowhere" in missing.problem


def test_sizes_read_as_people_say_them() -> None:
    assert megabytes(13_517_556) == "13.5 MB"
    assert megabytes(1_060_000_000) == "1.06 GB"


def test_the_things_model_is_told_as_a_world_of_things_not_an_open_vocabulary() -> None:
    from bot.adapters.web.views import model_words

    facts = describe_model("things")
    assert facts.name == THINGS_NAME and facts.embedded and facts.problem is None
    assert facts.weight_bytes == (EMBEDDED_THINGS_DIR / "model.safetensors").stat().st_size
    world = facts.repertoire
    assert world is not None and world.thing_count == len(things()) and "animals" in world.things
    assert world.examples == THINGS_EXAMPLES
    words = model_words(facts)
    assert f"{len(things())} everyday things (animals" in words["draws"] and "whatever" not in words["draws"]
    assert words["examples"] == list(THINGS_EXAMPLES)
    reader = PromptReader.for_model("things")
    for example in THINGS_EXAMPLES:  # every example uses only words the model knows
        assert reader.read(example).ignored == (), example

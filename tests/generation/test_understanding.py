"""Reading a prompt against a model's vocabulary from its tokenizer files alone (issue 14)."""

from __future__ import annotations

import pytest

from generation.embedded.world import COLOURS, SHAPES
from generation.loading import ModelLoadError
from generation.understanding import PromptReader, Understanding
from tests.generation import tiny


@pytest.fixture(scope="module")
def embedded() -> PromptReader:
    """The shapes model's reader (`shapes`): its small vocabulary makes what is ignored plain."""
    return PromptReader.for_model("shapes")


@pytest.mark.parametrize(
    ("prompt", "ignored", "drawable"),
    [
        ("sunset over the mountains", ("sunset", "mountains"), ()),
        ("a watercolour fox reading a newspaper", ("watercolour", "fox", "reading", "newspaper"), ()),
        ("a picture of a cat", ("cat",), ()),  # known words, but none names a thing to draw
        ("a red circle over the mountains.", ("mountains",), ("red", "circle")),  # punctuation dropped
        ("A Red Circle, a blue square", (), ("red", "circle", "blue", "square")),
        ("fox fox fox", ("fox",), ()),
    ],
)
def test_embedded_model_reads_what_it_knows(
    embedded: PromptReader, prompt: str, ignored: tuple[str, ...], drawable: tuple[str, ...]
) -> None:
    assert embedded.read(prompt) == Understanding(ignored, drawable)


def test_nothing_understood_needs_ignored_words_and_nothing_to_draw(embedded: PromptReader) -> None:
    assert embedded.read("sunset over the mountains").nothing_understood
    assert not embedded.read("a red circle over the mountains").nothing_understood
    # every word known, none drawable: nothing is ignored, so nothing is refused (a real model's case)
    assert not embedded.read("a picture of the").nothing_understood


def test_embedded_repertoire_is_the_world_and_its_example_is_understood(embedded: PromptReader) -> None:
    assert embedded.rewriter is not None  # chosen by name, the shapes model still reads prompts its way
    repertoire = embedded.repertoire
    assert repertoire is not None
    assert repertoire.shapes == SHAPES and repertoire.colours == tuple(COLOURS)
    assert "left of" in repertoire.relations
    example = embedded.read(repertoire.example)
    assert example.ignored == () and example.drawable


def test_a_vocabulary_that_covers_every_word_ignores_nothing() -> None:
    reader = PromptReader(tiny.tokenizer())  # every lowercase letter is a piece, like a real BPE's bytes
    understanding = reader.read("a quiet lake at dawn")
    assert understanding == Understanding((), ("quiet", "lake", "dawn"))
    assert reader.repertoire is None


def test_reads_own_format_and_min_dalle_directories_without_weights(tmp_path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    tiny.tokenizer().save(own)
    (own / "config.json").write_text('{"name": "tiny"}')  # no model.safetensors: never opened
    assert PromptReader.for_model(own).read("cat!").ignored == ("cat",)

    root = tmp_path / "root"
    tiny.write_min_dalle(root, tiny.components())
    reader = PromptReader.for_model(root)
    assert reader.read("cat! dog") == Understanding(("cat",), ("dog",)) and reader.repertoire is None


def test_a_missing_model_or_tokenizer_is_a_load_error(tmp_path) -> None:
    with pytest.raises(ModelLoadError, match="model directory not found"):
        PromptReader.for_model(tmp_path / "nowhere")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match=r"vocab\.json"):
        PromptReader.for_model(tmp_path)


def test_the_word_cache_is_bounded_and_changes_no_answer(embedded: PromptReader, monkeypatch) -> None:
    from generation import tokenizer

    monkeypatch.setattr(tokenizer, "MAX_CACHED_WORDS", 2)
    reader = PromptReader(embedded.tokenizer, embedded.repertoire)
    prompt = "a red fox beside a blue star"
    assert reader.read(prompt) == reader.read(prompt) == Understanding(("fox",), ("red", "blue", "star"))
    assert len(reader.tokenizer._word_ids) <= 2

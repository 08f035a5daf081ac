"""The committed shapes model: it loads by name (`shapes`) and draws what a simple caption says."""


import pytest

from generation import load_pipeline
from generation.embedded.parser import check, parse
from generation.embedded.world import Claims, ObjectClaim
from generation.loading import EMBEDDED_SHAPES_DIR

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def pipeline(one_thread):
    return load_pipeline("shapes", device="cpu")


@pytest.fixture(scope="module")
def options(pipeline):
    return pipeline.config.sampling.options()


def test_committed_files_are_small_and_complete():
    names = {p.name for p in EMBEDDED_SHAPES_DIR.iterdir()}
    assert {"config.json", "model.safetensors", "vocab.json", "merges.txt"} <= names
    assert sum(p.stat().st_size for p in EMBEDDED_SHAPES_DIR.iterdir()) <= 30 * 2**20


@pytest.mark.parametrize(
    ("caption", "claims"),
    [
        ("a big red circle", Claims((ObjectClaim("circle", "red", "large"),))),
        ("a blue square on the left", Claims((ObjectClaim("square", "blue", position="left"),))),
    ],
)
def test_generates_what_a_simple_caption_says(pipeline, options, caption, claims):
    (image,) = pipeline(caption, seed=0, **options)
    assert image.size == (64, 64)
    assert check(parse(image), claims) == []


def test_unknown_words_are_reported_and_still_drawn(pipeline, options):
    encoding = pipeline.tokenize_with_unknown("a red elephant on a black background")
    assert encoding.unknown_words == ["elephant"]
    (image,) = pipeline("a red elephant on a black background", seed=0, **options)
    assert parse(image).background == "black"

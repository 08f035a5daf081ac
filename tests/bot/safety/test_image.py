"""The real Open-NSFW classifier (shipped in its wheel) on ordinary generated-looking images."""

from __future__ import annotations

import statistics

import pytest
from PIL import Image

from bot.safety.eval import ordinary_images
from bot.safety.image import OpenNsfwClassifier


@pytest.fixture(scope="module")
def classifier() -> OpenNsfwClassifier:
    return OpenNsfwClassifier()


def test_ordinary_images_score_safe(classifier: OpenNsfwClassifier) -> None:
    scores = {name: classifier.score(image) for name, image in ordinary_images().items()}
    assert max(scores.values()) < 0.8, scores  # the default threshold
    assert statistics.median(scores.values()) < 0.05, scores
    # Skin-like flat colours are the model's weak spot: they score higher than anything else here.
    assert max(scores, key=scores.__getitem__).startswith("flat")


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P"])
def test_any_mode_and_size_gives_a_probability(classifier: OpenNsfwClassifier, mode: str) -> None:
    score = classifier.score(Image.new(mode, (300, 200)))
    assert 0.0 <= score <= 1.0

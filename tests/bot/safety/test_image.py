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


def test_folding_the_batch_norms_keeps_every_score(classifier: OpenNsfwClassifier) -> None:
    """The folded graph is the wheel's function: same scores (to float rounding) on every image."""
    shipped = OpenNsfwClassifier(fold=False)
    assert classifier.folded == 52 and shipped.folded == 0  # 53 convolutions, the last one has no norm
    images = ordinary_images()
    images["gradient"] = Image.linear_gradient("L").convert("RGB")
    for name, image in images.items():
        assert classifier.score(image) == pytest.approx(shipped.score(image), abs=1e-4), name

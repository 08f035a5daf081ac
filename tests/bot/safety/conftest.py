"""Shared fixtures: the real lexicon and model (cheap), and stand-in image classifiers."""

from __future__ import annotations

import pytest
from PIL import Image

from bot.safety.classifier import PromptModel
from bot.safety.filter import SafetyFilter
from bot.safety.settings import SafetySettings
from bot.safety.wordlists import Lexicon


class FixedScore:
    """A stand-in image classifier that returns one score (or raises it, if it is an exception)."""

    name = "fixed"

    def __init__(self, score: float | Exception) -> None:
        self.result = score
        self.calls = 0

    def score(self, image: Image.Image) -> float:
        self.calls += 1
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.fixture(scope="session")
def prompt_model() -> PromptModel:
    return PromptModel.packaged()


@pytest.fixture(scope="session")
def lexicon(prompt_model: PromptModel) -> Lexicon:
    return Lexicon.build(known_words=prompt_model.vocabulary())


def make_filter(image_score: float | Exception = 0.0, **settings: object) -> SafetyFilter:
    """A filter with the packaged prompt gate and a stand-in image classifier."""
    return SafetyFilter.from_settings(
        SafetySettings.model_validate(settings), image_classifier=FixedScore(image_score)
    )


@pytest.fixture(scope="session")
def safety() -> SafetyFilter:
    """The terms and rules alone, without the semantic classifier: what each pass's probes test."""
    return make_filter(prompt={"semantic": False})


@pytest.fixture(scope="session")
def full_gate() -> SafetyFilter:
    """The prompt gate as configured by default: terms, rules and the semantic classifier."""
    return make_filter()


@pytest.fixture(scope="session")
def all_switches_off() -> SafetyFilter:
    """Every switchable category off, everywhere and in NSFW channels: only sexual_minors is left."""
    off = {"sexual": False, "violence_gore": False, "hate": False, "self_harm": False}
    return make_filter(prompt={"categories": off, "platforms": {"discord": off}, "nsfw_channels": off})


@pytest.fixture
def image() -> Image.Image:
    return Image.new("RGB", (256, 256), (40, 90, 200))

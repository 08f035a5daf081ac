"""SafetyFilter: the one interface the bot uses for the prompt gate and the image gate.

Components are passed in (a lexicon, a prompt model, an image classifier), so tests build the
filter from tiny stand-ins; `from_settings` builds the real one. Every decision is a Verdict
carrying the gate, the score and the threshold, which the worker records with the request.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from bot.safety.classifier import PromptModel
from bot.safety.image import ImageClassifier, OpenNsfwClassifier
from bot.safety.normalize import normalize
from bot.safety.settings import SafetySettings
from bot.safety.wordlists import Lexicon

log = logging.getLogger(__name__)

Gate = Literal["prompt", "image"]
ImageAction = Literal["post", "spoiler", "block"]

PROMPT_REFUSED = (
    "This prompt asks for sexual or nude content, which this bot does not make. Please rephrase it."
)
IMAGE_BLOCKED = "The image was not posted: the safety check flagged it as possibly explicit."
IMAGE_SPOILERED = "The safety check flagged this image as possibly explicit, so it is behind a spoiler."


class SafetyUnavailable(Exception):
    """A gate could not decide (its classifier failed): nothing may be posted."""


@dataclass(frozen=True)
class Verdict:
    """One gate's decision, with what is needed to audit and tune it."""

    gate: Gate
    allowed: bool
    score: float  # 1.0 for a word-list hit; otherwise the classifier's probability
    threshold: float
    reason: str  # fit to show the user when not allowed
    detail: str | None = None  # for the operator: the list entry or classifier that decided

    @property
    def flagged(self) -> bool:
        return not self.allowed

    def record(self, action: str) -> dict[str, object]:
        """The fields Store.record_safety / Store.complete(safety=[...]) take."""
        return {
            "gate": self.gate,
            "score": self.score,
            "threshold": self.threshold,
            "flagged": self.flagged,
            "action": action,
        }


class SafetyFilter:
    """Prompt gate before queueing, image gate before posting; policy from SafetySettings."""

    def __init__(
        self,
        settings: SafetySettings,
        *,
        lexicon: Lexicon | None,
        prompt_model: PromptModel | None,
        image_classifier: ImageClassifier | None,
    ) -> None:
        self.settings = settings
        self.lexicon = lexicon
        self.prompt_model = prompt_model
        self.image_classifier = image_classifier
        if settings.prompt.enabled and (lexicon is None or prompt_model is None):
            raise ValueError("the prompt gate is enabled but no lexicon or prompt model was given")
        if settings.image.enabled and image_classifier is None:
            raise ValueError("the image gate is enabled but no image classifier was given")
        if not settings.prompt.enabled:
            log.warning("safety.prompt.enabled is false in config: prompts are NOT checked before queueing")
        if not settings.image.enabled:
            log.warning("safety.image.enabled is false in config: images are posted WITHOUT a safety check")

    @classmethod
    def from_settings(
        cls, settings: SafetySettings, *, image_classifier: ImageClassifier | None = None
    ) -> SafetyFilter:
        """Build the filter config asks for: packaged word lists and model, Open-NSFW on CPU."""
        lexicon = prompt_model = None
        if settings.prompt.enabled:
            prompt_model = PromptModel.packaged()
            lexicon = Lexicon.build(settings.prompt.deny, settings.prompt.allow, prompt_model.vocabulary())
        if settings.image.enabled and image_classifier is None:
            image_classifier = OpenNsfwClassifier()
        return cls(settings, lexicon=lexicon, prompt_model=prompt_model, image_classifier=image_classifier)

    def check_prompt(self, text: str) -> Verdict:
        """Decide whether a prompt may be queued: word lists first, then the classifier."""
        threshold = self.settings.prompt.threshold
        if not self.settings.prompt.enabled:
            return Verdict("prompt", True, 0.0, threshold, "prompt gate disabled in config", "disabled")
        assert self.lexicon is not None and self.prompt_model is not None
        # 1. fold the evasions and consult the lists
        match = self.lexicon.match(normalize(text))
        if match.deny is not None:
            detail = f"{match.deny.source} deny list: {match.deny.entry!r}"
            return Verdict("prompt", False, 1.0, threshold, PROMPT_REFUSED, detail)
        # 2. the classifier weighs the remaining words in context
        score = self.prompt_model.score(match.tokens)
        allowed = score < threshold
        detail = f"classifier {score:.3f}"
        if match.allowed:
            detail += "; allow list: " + ", ".join(repr(t.entry) for t in match.allowed)
        return Verdict("prompt", allowed, score, threshold, "" if allowed else PROMPT_REFUSED, detail)

    def check_image(self, image: Image.Image) -> Verdict:
        """Score a generated image; raises SafetyUnavailable if the classifier fails (fail closed)."""
        threshold = self.settings.image.threshold
        if not self.settings.image.enabled:
            return Verdict("image", True, 0.0, threshold, "image gate disabled in config", "disabled")
        assert self.image_classifier is not None
        name = getattr(self.image_classifier, "name", type(self.image_classifier).__name__)
        try:
            score = float(self.image_classifier.score(image))
        except Exception as exc:
            log.exception("image safety classifier %s failed; the image will not be posted", name)
            message = f"the image safety check failed ({name}: {exc}); nothing was posted"
            raise SafetyUnavailable(message) from exc
        if not math.isfinite(score) or not 0.0 <= score <= 1.0:
            log.error("image safety classifier %s returned %r; the image will not be posted", name, score)
            raise SafetyUnavailable(f"the image safety check returned an invalid score ({name}: {score!r})")
        allowed = score < threshold
        reason = "" if allowed else IMAGE_BLOCKED
        return Verdict("image", allowed, score, threshold, reason, f"{name} {score:.3f}")

    def image_action(self, verdict: Verdict, *, platform: str, nsfw_channel: bool) -> ImageAction:
        """What to do with an image: post it, or, when flagged, a spoiler where allowed, else block."""
        if verdict.gate != "image":
            raise ValueError(f"image_action needs an image verdict, got a {verdict.gate!r} one")
        if verdict.allowed:
            return "post"
        if nsfw_channel and platform in self.settings.image.spoiler_in_nsfw_channels:
            return "spoiler"
        return "block"

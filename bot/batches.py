"""What the worker asks of the pipeline, and the options that requests of one pipeline call share.

Requests claimed together are grouped by `BatchKey` (images per prompt, top_k, temperature,
cond_scale): each group is one pipeline call with one seed per request. The static and the
continuous worker group the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image

from storage.domain import Options


class ImagePipeline(Protocol):
    """What the worker needs of `generation.Pipeline` (tests pass a stand-in with this signature)."""

    def __call__(
        self,
        prompts: list[str],
        *,
        images_per_prompt: int = 1,
        seed: int | list[int] | None = None,
        top_k: int = 50,
        temperature: float = 0.7,
        cond_scale: float = 10.0,
        on_step: Callable[[int, Any], None] | None = None,  # (steps done, tokens so far)
    ) -> list[Image.Image]: ...


@dataclass(frozen=True)
class Sampling:
    """Sampling settings; a model's own come from its config (`pipeline.config.sampling`)."""

    top_k: int = 50
    temperature: float = 0.7
    cond_scale: float = 10.0


MINI_SAMPLING = Sampling()  # DALL·E Mini's, for a pipeline whose config does not say


@dataclass(frozen=True)
class BatchKey:
    """The options every request of one pipeline call must share."""

    images: int
    top_k: int
    temperature: float
    cond_scale: float


def batch_key(options: Options, defaults: Any, pipeline: Any) -> BatchKey:
    """The request's options, else `defaults` (generation.defaults), else the model's own sampling."""
    model = getattr(getattr(pipeline, "config", None), "sampling", None) or MINI_SAMPLING
    if hasattr(model, "for_images"):  # a grid samples at the model's grid temperature, if it has one
        model = model.for_images(options.images)

    def pick(name: str) -> Any:
        for value in (getattr(options, name), getattr(defaults, name)):
            if value is not None:
                return value
        return getattr(model, name)

    return BatchKey(options.images, pick("top_k"), pick("temperature"), pick("cond_scale"))

"""Stand-ins at the boundaries the core talks to: the image pipeline, the safety classifiers, a platform.

`StandInPipeline` has the real `generation.Pipeline.__call__` signature, is deterministic (each
image's colour comes from its prompt and seed) and instant; it records every call so tests can
assert batching, and can be made to fail for a prompt or to pause mid-call.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace

from PIL import Image

from bot.adapters.base import Adapter, DeliveryError
from bot.domain import Platform, Request
from bot.safety.policy import Category
from tests.storage.helpers import FakeClock as FakeClock  # re-exported: the one settable clock


@dataclass
class PipelineCall:
    prompts: list[str]
    images_per_prompt: int
    seeds: list[int]
    top_k: int
    temperature: float
    cond_scale: float


class StandInPipeline:
    """Instant, deterministic images: colour = hash(prompt, seed, image index)."""

    def __init__(self, *, size: int = 8, fail_on: str | None = None, red_on: str | None = None) -> None:
        self.size = size
        self.fail_on = fail_on  # a prompt containing this raises, like an out-of-memory error would
        self.red_on = red_on  # a prompt containing this makes pure red images (StandInSafety flags them)
        self.calls: list[PipelineCall] = []
        self.entered = threading.Event()  # set when a call starts
        self.gate: threading.Event | None = None  # when set to an unset Event, calls wait on it

    @staticmethod
    def colour(prompt: str, seed: int, index: int = 0) -> tuple[int, int, int]:
        digest = hashlib.sha256(f"{prompt}|{seed}|{index}".encode()).digest()
        return digest[0], digest[1], digest[2]

    def __call__(
        self,
        prompts: str | Sequence[str],
        *,
        images_per_prompt: int = 1,
        seed: int | Sequence[int] | None = None,
        top_k: int = 50,
        temperature: float = 0.7,
        cond_scale: float = 10.0,
        start_token: int | None = None,
        on_step: object = None,
    ) -> list[Image.Image]:
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        seeds = list(seed) if isinstance(seed, Sequence) else [seed or 0] * len(prompts)
        assert len(seeds) == len(prompts), "one seed per prompt"
        self.calls.append(PipelineCall(prompts, images_per_prompt, seeds, top_k, temperature, cond_scale))
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(timeout=30)
        if self.fail_on is not None and any(self.fail_on in prompt for prompt in prompts):
            raise RuntimeError("CUDA out of memory (stand-in)")
        return [  # prompt-major, like the real pipeline
            Image.new(
                "RGB",
                (self.size, self.size),
                (255, 0, 0) if self.red_on and self.red_on in prompt else self.colour(prompt, s, index),
            )
            for prompt, s in zip(prompts, seeds, strict=True)
            for index in range(images_per_prompt)
        ]


class SteppingPipeline(StandInPipeline):
    """A stand-in that decodes in steps like the real pipeline: it reports `on_step(done, tokens)`
    every `every` of its `steps`, pausing `step_seconds` before each report (time for a page to
    look), and decodes previews (`decode_preview`) in `preview_colour`, the rows not done grey."""

    def __init__(
        self, *, steps: int = 256, every: int = 32, step_seconds: float = 0.0,
        preview_colour: tuple[int, int, int] = (0, 160, 0), **kwargs: object,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.steps, self.every, self.step_seconds, self.preview_colour = (
            steps,
            every,
            step_seconds,
            preview_colour,
        )
        self.config = SimpleNamespace(
            bart=SimpleNamespace(image_tokens=steps), vqgan=SimpleNamespace(grid=16)
        )
        self.previews: list[int] = []  # the steps each decode_preview was asked for (its token count)

    def __call__(self, prompts, *, on_step=None, **options):  # type: ignore[no-untyped-def, override]
        import torch

        images = super().__call__(prompts, **options)
        for done in range(self.every, self.steps + 1, self.every):
            time.sleep(self.step_seconds)
            if on_step is not None:
                on_step(done, torch.zeros(len(images), done, dtype=torch.long))
        return images

    def decode_preview(self, tokens):  # type: ignore[no-untyped-def]
        self.previews.append(int(tokens.shape[1]))
        rows = max(1, tokens.shape[1] // 16)
        images = []
        for _ in range(tokens.shape[0]):
            image = Image.new("RGB", (self.size, self.size), (128, 128, 128))
            image.paste(self.preview_colour, (0, 0, self.size, max(1, self.size * rows // 16)))
            images.append(image)
        return images


@dataclass(frozen=True)
class StandInVerdict:
    gate: str
    allowed: bool
    score: float
    threshold: float
    reason: str
    detail: str | None = None
    category: Category | None = None


class StandInSafety:
    """Refuses prompts containing a listed word; flags images whose top-left pixel is pure red."""

    def __init__(
        self, *, deny: Sequence[str] = ("forbidden",), minors: Sequence[str] = ("minorword",)
    ) -> None:
        self.deny = [word.lower() for word in deny]
        self.minors = [word.lower() for word in minors]
        self.image_checks = 0
        self.unavailable = False
        self.prompt_places: list[tuple[str | None, bool]] = []  # (platform, nsfw_channel) of each check

    def check_prompt(
        self, text: str, *, platform: str | None = None, nsfw_channel: bool = False
    ) -> StandInVerdict:
        self.prompt_places.append((platform, nsfw_channel))
        if any(word in text.lower() for word in self.minors):
            return StandInVerdict("prompt", False, 1.0, 0.5, "minors", None, Category.SEXUAL_MINORS)
        hit = next((word for word in self.deny if word in text.lower()), None)
        return StandInVerdict(
            "prompt",
            hit is None,
            1.0 if hit else 0.0,
            0.5,
            f"blocked word {hit!r}" if hit else "",
            None,
            Category.SEXUAL if hit else None,
        )

    def check_image(self, image: Image.Image) -> StandInVerdict:
        from bot.safety.filter import SafetyUnavailable

        self.image_checks += 1
        if self.unavailable:
            raise SafetyUnavailable("classifier failed to load (stand-in)")
        flagged = image.getpixel((0, 0)) == (255, 0, 0)
        return StandInVerdict("image", not flagged, 0.99 if flagged else 0.01, 0.8, "nsfw" if flagged else "")

    def image_action(self, verdict: StandInVerdict, *, platform: str, nsfw_channel: bool) -> str:
        if verdict.allowed:
            return "post"
        return "spoiler" if nsfw_channel and platform == "discord" else "block"


class RecordingAdapter(Adapter):
    """A platform that records posts; scripted errors make deliver raise, in order."""

    platform = Platform.DISCORD

    def __init__(self, *, errors: list[BaseException] | None = None, inline_rejections: bool = False) -> None:
        self.errors = list(errors or [])
        self.posted: list[tuple[int, str]] = []  # (request id, kind)
        self.landed: dict[int, str] = {}  # what reconcile finds on the platform
        self.reconciled: list[int] = []
        self.inline_rejections = inline_rejections  # type: ignore[misc]

    async def start(self, service: object) -> None:
        self.service = service

    async def stop(self) -> None:
        pass

    async def deliver(self, delivery: object) -> str:
        request = delivery.request  # type: ignore[attr-defined]
        if self.errors:
            error = self.errors.pop(0)
            if isinstance(error, DeliveryError) and error.kind == "ambiguous":
                self.landed[request.id] = f"post-{request.id}"  # it did land, the answer got lost
            raise error
        self.posted.append((request.id, delivery.kind))  # type: ignore[attr-defined]
        self.landed[request.id] = f"post-{request.id}"
        return f"post-{request.id}"

    async def reconcile(self, request: Request) -> str | None:
        self.reconciled.append(request.id)
        return self.landed.get(request.id)



"""Continuous batching: requests join a decoding batch at the next step boundary.

A `ContinuousBatcher` owns one `DecodeState` of `capacity` image slots. Every slot has its own
position, so a request admitted while others are half-way decodes side by side with them, and its
slots free up for the next request the moment its 256 tokens are written. Compared with static
batching (collect requests, decode the batch to the end, repeat), a request waits at most
`join_every` steps to start instead of up to a whole batch; at saturation both keep every slot
busy, so throughput is the same.

Used from the one thread that owns the GPU:

    batcher = ContinuousBatcher(pipeline, capacity=64)
    batcher.submit("req-1", "a cat", images=9, seed=7)
    while batcher.busy:
        for done in batcher.step():          # admits waiting requests, decodes `join_every` steps
            pixels = pipeline.decode_pixels(done.tokens)

A request's tokens equal `Pipeline.generate_tokens` for the same prompt, seed and options.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field

import torch

from generation.pipeline import Pipeline
from generation.runner import StepRunner
from generation.sampler import draw_uniforms, expand_seeds


@dataclass
class _Job:
    key: Hashable
    prompt: str
    images: int
    seed: int
    top_k: int
    temperature: float
    cond_scale: float
    slots: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Finished:
    """A request whose tokens are all written: tokens (images, 256) long on the CPU."""

    key: Hashable
    tokens: torch.Tensor


class ContinuousBatcher:
    """Decodes up to `capacity` images at once; new requests join every `join_every` steps."""

    def __init__(
        self, pipeline: Pipeline, *, capacity: int = 64, join_every: int = 16, max_top_k: int = 256
    ) -> None:
        self.pipeline = pipeline
        self.config = pipeline.config.bart
        self.capacity = capacity
        self.join_every = join_every
        self.max_top_k = max_top_k
        with torch.inference_mode(False):  # its own state: Pipeline calls cannot reset its slots
            self.decoder = pipeline.decoder
            self.state = self.decoder.new_state(capacity, max_candidates=max_top_k)
            tuner = pipeline.thread_tuner()
            self.runner = StepRunner(self.decoder, self.state, pipeline.options, tuner=tuner)
        self._position = [self.config.image_tokens] * capacity  # host mirror: no device sync needed
        self._waiting: deque[_Job] = deque()
        self._running: list[_Job] = []

    @property
    def busy(self) -> bool:
        """Requests waiting or decoding."""
        return bool(self._waiting or self._running)

    @property
    def free_slots(self) -> int:
        """Slots a request could start in now."""
        return self.capacity - sum(len(job.slots) for job in self._running)

    def submit(
        self, key: Hashable, prompt: str, *, images: int = 1, seed: int | None = None, top_k: int = 50,
        temperature: float = 0.7, cond_scale: float = 10.0,
    ) -> None:  # fmt: skip
        """Queue a request; it starts at the next `step()` with enough free slots (FIFO)."""
        if not 1 <= images <= self.capacity:
            raise ValueError(f"images must be 1..{self.capacity}, got {images}")
        if not 1 <= top_k <= self.max_top_k:
            raise ValueError(f"top_k must be 1..{self.max_top_k}, got {top_k}")
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        (seed,) = expand_seeds(seed, 1)
        top_k = min(top_k, self.config.image_vocab_size)
        self._waiting.append(_Job(key, prompt, images, seed, top_k, temperature, cond_scale))

    @torch.no_grad()
    def step(self) -> list[Finished]:
        """Admit what fits, decode `join_every` steps, return the requests that finished."""
        self._admit()
        if not self._running:
            return []
        total = self.config.image_tokens
        self.runner.run(self.join_every)
        self._position = [min(total, p + self.join_every) for p in self._position]
        done = [job for job in self._running if all(self._position[s] >= total for s in job.slots)]
        if not done:
            return []
        tokens = self.state.tokens[:, :total].cpu()  # one copy for every finished request
        finished = {id(job) for job in done}
        self._running = [job for job in self._running if id(job) not in finished]
        return [Finished(job.key, tokens[job.slots]) for job in done]

    def _admit(self) -> None:
        total = self.config.image_tokens
        owned = {s for job in self._running for s in job.slots}
        free = [s for s in range(self.capacity) if s not in owned]
        jobs: list[_Job] = []
        while self._waiting and self._waiting[0].images <= len(free):
            job = self._waiting.popleft()
            job.slots, free = free[: job.images], free[job.images :]
            jobs.append(job)
        if not jobs:
            return
        encoder_out, text_mask = self.pipeline.encode([job.prompt for job in jobs])
        cond_rows = torch.tensor([i + 1 for i, job in enumerate(jobs) for _ in range(job.images)])
        uniforms = torch.cat([draw_uniforms([job.seed], job.images, total) for job in jobs])

        def per_image(values: list[float]) -> torch.Tensor:
            return torch.tensor([v for v, job in zip(values, jobs, strict=True) for _ in range(job.images)])

        rows = torch.cat([torch.zeros_like(cond_rows), cond_rows]).to(encoder_out.device)
        slots = torch.tensor([s for job in jobs for s in job.slots], device=self.state.position.device)
        self.decoder.admit(
            self.state, slots, encoder_out[rows], text_mask[rows], uniforms=uniforms,
            top_k=per_image([job.top_k for job in jobs]).long(),
            temperature=per_image([job.temperature for job in jobs]),
            cond_scale=per_image([job.cond_scale for job in jobs]), start_token=self.config.start_token,
        )  # fmt: skip
        for s in slots.tolist():
            self._position[s] = 0
        self._running.extend(jobs)

"""A worker whose requests join the batch being decoded (the engine's continuous batching).

The static `Worker` claims a batch, decodes it to the end, then claims again: a request that
arrives a moment after a batch started waits for the whole of it. Here the GPU thread keeps a
`generation.batching.ContinuousBatcher` of fixed capacity: every round it claims as many requests as
there are free image slots, hands them to the batcher, decodes `join_every` steps, and passes
the requests that finished to the finishing thread (image gate, PNG, storing) — so a request
starts within `join_every` decoder steps whenever there is room.

Everything else is the static worker's: leases and heartbeats, fencing, fail-closed image gate,
shutdown (stop claiming; what is in the batcher is finished within the grace period, else
released). When a step raises, the batcher's state is unknown: it is rebuilt, and the requests
it held are generated one by one on the plain path, so a poison request fails alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from bot.batches import BatchKey
from bot.worker import Worker

if TYPE_CHECKING:
    import torch

    from storage import Claim

log = logging.getLogger(__name__)


class Finished(Protocol):
    key: Hashable
    tokens: torch.Tensor  # (images, image_tokens)


class StepBatcher(Protocol):
    """What the worker needs of `generation.batching.ContinuousBatcher`."""

    @property
    def busy(self) -> bool: ...

    @property
    def capacity(self) -> int: ...

    def submit(
        self, key: Hashable, prompt: str, *, images: int, seed: int | None, top_k: int, temperature: float,
        cond_scale: float,
    ) -> None: ...  # fmt: skip

    def step(self) -> list[Any]: ...


class ContinuousWorker(Worker):
    """`Worker` over a continuous batcher; `make_batcher(pipeline)` is called on the GPU thread."""

    def __init__(self, *args: Any, make_batcher: Callable[[Any], StepBatcher], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._make_batcher = make_batcher
        self._batcher: StepBatcher | None = None
        self._jobs: dict[int, _Job] = {}  # request id → what the batcher holds for it

    def _busy(self) -> bool:
        return bool(self._jobs)

    def _held_between_rounds(self) -> set[int]:
        return set(self._jobs)

    def _round(self) -> int:
        """Claim into the free slots, decode `join_every` steps, hand off what finished."""
        if self._pipeline is None:
            self._pipeline = self._load_pipeline()
        if self._batcher is None:
            self._batcher = self._make_batcher(self._pipeline)
        self._reap_now_and_then()
        claimed = 0
        # Every image slot held by our requests, started or still waiting in the batcher's queue.
        free = self._batcher.capacity - sum(job.key.images for job in self._jobs.values())
        if free > 0 and not self._stop.is_set():
            claims = self.store.claim(
                self.worker_id, limit=free, lease_seconds=self.settings.worker.lease_seconds
            )
            self.claims.hold(claims)
            for claim in claims:
                self._admit(claim)
            claimed = len(claims)
        if not self._jobs:
            return claimed
        self._step()
        return max(claimed, 1)

    def _admit(self, claim: Claim) -> None:
        assert self._batcher is not None
        key = self._batch_key(claim)
        seed = claim.request.options.seed
        if seed is None:  # chosen here and kept, so a fallback to the plain path draws the same image
            seed = self._rng.randrange(2**31)
        job = _Job(claim, key, seed, time.perf_counter())
        try:
            self._batcher.submit(
                claim.request_id, claim.request.prompt, images=key.images, seed=seed, top_k=key.top_k,
                temperature=key.temperature, cond_scale=key.cond_scale,
            )  # fmt: skip
        except ValueError as error:  # options the batcher does not take (a top_k above its maximum)
            log.info("request %d: %s; generating it on the plain path", claim.request_id, error)
            self._generate(key, [job.seeded_claim()])
            return
        self._jobs[claim.request_id] = job

    def _step(self) -> None:
        assert self._batcher is not None and self._pipeline is not None
        try:
            results = []
            for done in self._batcher.step():
                job = self._jobs.pop(done.key)
                images = self._pipeline.decode_tokens(done.tokens)  # type: ignore[attr-defined]
                seconds = time.perf_counter() - job.started
                self.metrics.generation_seconds.observe(seconds)
                results.append((job.claim, images, seconds))
        except Exception as error:
            log.warning(
                "continuous batch failed (%s); generating its %d request(s) one by one",
                error,
                len(self._jobs),
            )
            jobs, self._jobs = self._jobs, {}
            self._batcher = None  # its slots are in an unknown state: a fresh one next round
            for job in jobs.values():
                self._generate(job.key, [job.seeded_claim()])
            return
        if results:
            self.metrics.batch_size.observe(len(results))
            self._hand_off(results)


@dataclass(frozen=True)
class _Job:
    claim: Claim
    key: BatchKey
    seed: int
    started: float  # perf_counter when handed to the batcher

    def seeded_claim(self) -> Claim:
        """The claim with the seed the batcher was given, for the plain path to draw the same image."""
        request = self.claim.request
        return replace(self.claim, request=replace(request, options=replace(request.options, seed=self.seed)))

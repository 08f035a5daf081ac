"""The continuous-batching worker: requests join the batch being decoded; a failing step falls back."""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pytest
import torch
from PIL import Image

from bot.config import Settings
from bot.continuous import ContinuousWorker
from bot.domain import NewRequest, Options, Platform, Status
from bot.vocabulary import GENERATION_FAILED
from generation.images import to_post_size
from storage import Store
from tests.bot.fakes import StandInPipeline, StandInSafety
from tests.generation import tiny


def enqueue(store: Store, n: int, prompt: str, seed: int) -> int:
    outcome = store.enqueue(
        NewRequest(Platform.WEB, f"e{n}", f"u{n}", prompt, options=Options(seed=seed)),
        quota=None,
        queue_cap=None,
    )
    return outcome.request_id  # type: ignore[union-attr]


@pytest.fixture
def fast_pipeline():  # type: ignore[no-untyped-def]
    from generation import Pipeline

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: thread hand-offs would dominate on the shared cores
    yield Pipeline.from_components(tiny.components(seed=3), device="cpu", dtype=torch.float32)
    torch.set_num_threads(threads)


def test_a_late_request_joins_the_batch_being_decoded(
    store: Store,
    settings: Settings,
    fast_pipeline,  # type: ignore[no-untyped-def]
) -> None:
    from generation.batching import ContinuousBatcher

    join_every = 4
    rounds_per_image = tiny.BART.image_tokens // join_every  # 16 tokens: 4 rounds
    worker = ContinuousWorker(
        store, lambda: fast_pipeline, StandInSafety(), settings, worker_id="w",  # type: ignore[arg-type]
        make_batcher=lambda p: ContinuousBatcher(p, capacity=4, join_every=join_every),
    )  # fmt: skip
    first = enqueue(store, 1, "cat", seed=11)
    worker.run_once()  # first is decoding
    late = [enqueue(store, 2, "dog", seed=12), enqueue(store, 3, "cat dog", seed=13)]
    for _ in range(rounds_per_image - 1):
        worker.run_once()
    assert store.get_request(first).status is Status.DONE  # type: ignore[union-attr]
    assert all(store.get_request(i).status is Status.RUNNING for i in late)  # type: ignore[union-attr]
    worker.run_once()  # one round after the first finished: the late ones joined a round after it began
    assert all(store.get_request(i).status is Status.DONE for i in late)  # type: ignore[union-attr]
    for request_id, prompt, seed in [(first, "cat", 11), (late[0], "dog", 12), (late[1], "cat dog", 13)]:
        stored = np.asarray(Image.open(BytesIO(store.get_image(request_id))).convert("RGB"))  # type: ignore[arg-type]
        (alone,) = fast_pipeline([prompt], seed=seed, top_k=50, temperature=0.7, cond_scale=10.0)
        assert np.array_equal(stored, np.asarray(to_post_size(alone))), prompt


class ExplodingBatcher:
    """Takes requests, then fails its step when one of them is poisoned (like a CUDA error would)."""

    capacity = 8

    def __init__(self) -> None:
        self.prompts: list[str] = []

    @property
    def busy(self) -> bool:
        return bool(self.prompts)

    def submit(self, key, prompt, **options):  # type: ignore[no-untyped-def]
        self.prompts.append(prompt)

    def step(self):  # type: ignore[no-untyped-def]
        if any("poison" in prompt for prompt in self.prompts):
            raise RuntimeError("CUDA error: an illegal memory access (stand-in)")
        raise AssertionError("not reached in this test")


def test_a_failing_step_falls_back_to_one_by_one_and_only_the_poison_fails(
    store: Store, settings: Settings
) -> None:
    batchers: list[ExplodingBatcher] = []

    def make_batcher(pipeline):  # type: ignore[no-untyped-def]
        batchers.append(ExplodingBatcher())
        return batchers[-1]

    pipeline = StandInPipeline(fail_on="poison")
    worker = ContinuousWorker(
        store, lambda: pipeline, StandInSafety(), settings, worker_id="w",  # type: ignore[arg-type]
        make_batcher=make_batcher,
    )  # fmt: skip
    good, poison = enqueue(store, 1, "good", seed=1), enqueue(store, 2, "poison", seed=2)
    worker.run_once()
    assert store.get_request(good).status is Status.DONE  # type: ignore[union-attr]
    request = store.get_request(poison)
    assert (
        request is not None
        and request.status is Status.QUEUED
        and request.last_error == GENERATION_FAILED  # no exception text where a user may read it
    )
    assert [c.prompts for c in pipeline.calls] == [["good"], ["poison"]]
    assert [c.seeds for c in pipeline.calls] == [[1], [2]]
    worker.run_once()
    assert len(batchers) == 2  # the broken batcher was replaced

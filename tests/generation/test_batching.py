"""Continuous batching: a request that joins mid-flight gets the tokens it would get alone."""

from __future__ import annotations

import pytest
import torch

from generation.batching import ContinuousBatcher
from generation.pipeline import Pipeline
from tests.generation import tiny

REQUESTS = [  # key, prompt, images, seed, top_k, temperature, cond_scale
    ("a", "a cat", 2, 1, 5, 0.7, 10.0),
    ("b", "the dog sat", 1, 2, 1, 1.0, 3.0),
    ("c", "cat dog", 3, 3, 20, 1.2, 1.0),
]


def fast_pipeline() -> Pipeline:
    return Pipeline.from_components(tiny.components(seed=4), device="cpu", dtype="fp32")


def test_requests_joining_at_step_boundaries_get_their_own_tokens() -> None:
    fast = fast_pipeline()
    batcher = ContinuousBatcher(fast, capacity=4, join_every=4, max_top_k=32)
    key, prompt, images, seed, top_k, temperature, cond_scale = REQUESTS[0]
    batcher.submit(key, prompt, images=images, seed=seed, top_k=top_k, temperature=temperature,
                   cond_scale=cond_scale)  # fmt: skip
    finished = batcher.step()  # "a" runs 4 steps alone
    assert finished == [] and batcher.free_slots == 2
    for key, prompt, images, seed, top_k, temperature, cond_scale in REQUESTS[1:]:
        batcher.submit(key, prompt, images=images, seed=seed, top_k=top_k, temperature=temperature,
                       cond_scale=cond_scale)  # fmt: skip
    order, results = [], {}
    while batcher.busy:
        for done in batcher.step():
            order.append(done.key)
            results[done.key] = done.tokens
    # "b" joined 4 steps after "a"; "c" (3 images) waited for "a"'s two slots to free up
    assert order == ["a", "b", "c"]
    for key, prompt, images, seed, top_k, temperature, cond_scale in REQUESTS:
        alone = fast.generate_tokens([prompt], images_per_prompt=images, seed=seed, top_k=top_k,
                                     temperature=temperature, cond_scale=cond_scale)  # fmt: skip
        assert torch.equal(results[key], alone), key


def test_submit_checks_options() -> None:
    batcher = ContinuousBatcher(fast_pipeline(), capacity=2, join_every=8, max_top_k=8)
    with pytest.raises(ValueError, match="images"):
        batcher.submit("x", "a cat", images=3)
    with pytest.raises(ValueError, match="top_k"):
        batcher.submit("x", "a cat", top_k=9)
    with pytest.raises(ValueError, match="temperature"):
        batcher.submit("x", "a cat", top_k=5, temperature=0)
    assert not batcher.busy and batcher.step() == []

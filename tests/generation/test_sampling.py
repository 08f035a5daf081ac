"""Guidance, top-k, temperature and the seeded inverse-CDF draw: exact values."""

from __future__ import annotations

import math

import pytest
import torch

from generation.sampler import draw_uniforms, expand_seeds, guidance, probabilities, sample, top_k_mask

INF = float("-inf")


def test_guidance_formula():
    uncond, cond = torch.tensor([[1.0, 2.0, -1.0]]), torch.tensor([[3.0, 5.0, 0.5]])
    assert guidance(uncond, cond, 10.0).tolist() == [[21.0, 32.0, 14.0]]  # u(1-s) + c s
    assert guidance(uncond, cond, 1.0).tolist() == cond.tolist()


def test_top_k_keeps_ties():
    logits = torch.tensor([[1.0, 3.0, 3.0, 2.0, 0.0]])
    assert top_k_mask(logits, 1).tolist() == [[INF, 3.0, 3.0, INF, INF]]
    assert top_k_mask(logits, 3).tolist() == [[INF, 3.0, 3.0, 2.0, INF]]
    assert top_k_mask(logits, 5).tolist() == logits.tolist()


def test_probabilities_apply_temperature_after_top_k():
    probs = probabilities(torch.tensor([[0.0, 1.0, 2.0]]), top_k=2, temperature=0.5)
    # top-2 keeps 1 and 2; minus max, / 0.5: -2 and 0
    expected = [0.0, math.exp(-2.0) / (math.exp(-2.0) + 1.0), 1.0 / (math.exp(-2.0) + 1.0)]
    torch.testing.assert_close(probs, torch.tensor([expected]))
    with pytest.raises(ValueError):
        probabilities(torch.zeros(1, 3), top_k=2, temperature=0.0)


def test_inverse_cdf_sample():
    probs = torch.tensor([[0.0, 0.25, 0.0, 0.75]] * 4)
    u = torch.tensor([0.0, 0.2499, 0.25, 0.999999])
    assert sample(probs, u).tolist() == [1, 1, 3, 3]  # zero-probability ids never drawn


def test_uniforms_per_image_do_not_depend_on_batch():
    both = draw_uniforms([5, 9], images_per_prompt=3, steps=7)
    assert both.shape == (6, 7)
    torch.testing.assert_close(draw_uniforms([9], 1, 7)[0], both[3])
    torch.testing.assert_close(draw_uniforms([5], 2, 7)[1], both[1])
    assert not torch.equal(both[0], both[1])


def test_expand_seeds():
    assert expand_seeds(3, 2) == [3, 3]
    assert expand_seeds([1, 2], 2) == [1, 2]
    assert len(set(expand_seeds(None, 3))) == 3
    with pytest.raises(ValueError, match="one per prompt"):
        expand_seeds([1], 2)

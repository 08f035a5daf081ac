"""The decoding sampler (sample_top_k) draws what the reference sampler draws, from the right law."""

from __future__ import annotations

import pytest
import torch

from generation import sampler
from generation.sampler import guidance, probabilities, sample

VOCAB = 1000


def reference_draw(
    guided: torch.Tensor, top_k: int, temperature: float, uniforms: torch.Tensor
) -> torch.Tensor:
    return sample(probabilities(guided, top_k, temperature), uniforms)


def fast_draw(guided: torch.Tensor, top_k: int, temperature: float, uniforms: torch.Tensor) -> torch.Tensor:
    rows = guided.shape[0]
    return sampler.sample_top_k(
        guided, torch.full((rows,), top_k), torch.full((rows,), temperature), uniforms.float(),
        sampler.candidate_count(top_k, guided.shape[1]),
    )  # fmt: skip


@pytest.mark.parametrize(("top_k", "temperature"), [(1, 1.0), (5, 0.7), (50, 0.7), (256, 1.0), (50, 3.0)])
def test_same_ids_as_reference_for_the_same_uniforms(top_k: int, temperature: float) -> None:
    gen = torch.Generator().manual_seed(top_k)
    guided = torch.randn(2000, VOCAB, generator=gen) * 3
    uniforms = torch.rand(2000, generator=gen, dtype=torch.float64)
    expected = reference_draw(guided, top_k, temperature, uniforms)
    assert torch.equal(fast_draw(guided, top_k, temperature, uniforms), expected)


def test_ties_at_the_kth_logit_are_kept_like_the_reference() -> None:
    gen = torch.Generator().manual_seed(1)
    guided = torch.randint(0, 40, (2000, VOCAB), generator=gen).float()  # many exact ties
    guided[:, :5] = 100.0  # five tied best ids: with top_k=3 all five stay in play
    uniforms = torch.rand(2000, generator=gen, dtype=torch.float64)
    got = fast_draw(guided, 3, 1.0, uniforms)
    assert torch.equal(got, reference_draw(guided, 3, 1.0, uniforms))
    assert set(got.tolist()) == {0, 1, 2, 3, 4}


def test_draw_frequencies_match_the_top_k_softmax() -> None:
    """Chi-square of 200,000 draws over one row's 8 kept ids against softmax(top-8 / T)."""
    gen = torch.Generator().manual_seed(7)
    row = torch.randn(VOCAB, generator=gen) * 2
    top_k, temperature, draws = 8, 0.7, 200_000
    guided = row.expand(draws, VOCAB)
    ids = fast_draw(guided, top_k, temperature, torch.rand(draws, generator=gen, dtype=torch.float64))
    values, kept = row.double().topk(top_k)
    expected = torch.softmax((values - values[0]) / temperature, dim=0) * draws
    counts = torch.stack([(ids == i).sum() for i in kept]).double()
    assert counts.sum() == draws  # nothing outside the top k
    chi2 = (((counts - expected) ** 2) / expected).sum().item()
    assert chi2 < 26.1, chi2  # 7 degrees of freedom: P(chi2 > 26.1) ≈ 0.0005 under the right law


def test_guidance_is_the_reference_formula() -> None:
    gen = torch.Generator().manual_seed(3)
    logits = torch.randn(6, VOCAB, generator=gen)
    scale = torch.tensor([10.0, 1.0, 3.5])
    got = sampler.guide(logits, scale)
    for i, s in enumerate(scale.tolist()):
        assert torch.equal(got[i], guidance(logits[i], logits[3 + i], s))


def test_candidate_count_is_bounded_by_the_vocabulary() -> None:
    assert sampler.candidate_count(50, VOCAB) == 50 + sampler.TIE_SLACK
    assert sampler.candidate_count(VOCAB, VOCAB) == VOCAB
    assert sampler.candidate_count(1, 4) == 4

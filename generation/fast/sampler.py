"""Top-k sampling that never sorts the vocabulary, in a form a CUDA graph can replay.

The reference sampler (`generation.sampling`) keeps the top k guided logits (ties kept), subtracts
the max, divides by the temperature, takes a softmax over all 16,384 ids, and draws by inverse CDF
over the ids in id order with one seeded uniform per image and step. This one computes the same
draw from a handful of candidates:

1. `torch.topk` selects `kk = k + TIE_SLACK` candidates (a partial selection, no full sort);
   candidates equal to the k-th value stay, so ties are kept while fewer than TIE_SLACK extra
   logits tie with the k-th one.
2. The kk candidates are put back in id order (a sort of kk numbers). Ids outside the top k have
   probability 0 in the reference, adding nothing to its cumulative sum, so the inverse CDF over
   the candidates in id order picks the same id as the reference's over the whole vocabulary,
   for the same uniform.

The uniforms are the reference's own (`generation.sampling.draw_uniforms`: one CPU generator per
prompt), so a seed gives the same tokens on the fast and the reference path, up to float rounding
at a CDF boundary, and a request's image does not depend on what it was batched with.
"""

from __future__ import annotations

import torch

TIE_SLACK = 8  # extra candidates taken so logits tied with the k-th one are kept


def candidate_count(top_k: int, vocab: int) -> int:
    """Candidates `topk` must return for a request with this top_k."""
    return min(vocab, top_k + TIE_SLACK)


def guide(logits: torch.Tensor, cond_scale: torch.Tensor) -> torch.Tensor:
    """Supercondition: rows [0:B] unconditional, [B:2B] conditional -> [B, V] in float32.

    `uncond·(1 − s) + cond·s`, written as the reference writes it so fp32 results agree.
    """
    logits = logits.float()
    batch = logits.shape[0] // 2
    uncond, cond = logits[:batch], logits[batch:]
    scale = cond_scale[:, None]
    return uncond * (1.0 - scale) + cond * scale


def sample_top_k(
    guided: torch.Tensor, top_k: torch.Tensor, temperature: torch.Tensor, uniform: torch.Tensor,
    candidates: int,
) -> torch.Tensor:
    """One id per row from softmax(top-k(guided) / T), by inverse CDF on `uniform`.

    guided (B, V) float32; top_k (B,) long in 1..candidates - TIE_SLACK (or V); temperature (B,) > 0;
    uniform (B,) in [0, 1) -> ids (B,) long. Same arithmetic as the reference, in the same order.
    """
    values, ids = torch.topk(guided, candidates, dim=-1)  # (B, kk), best first
    kth = values.gather(1, (top_k - 1)[:, None])  # (B, 1)
    kept = values.masked_fill(values < kth, float("-inf"))
    weight = torch.softmax((kept - values[:, :1]) / temperature[:, None], dim=-1)  # (B, kk)
    ids, order = ids.sort(dim=-1)  # candidates in id order, as the reference's CDF runs
    cdf = weight.gather(1, order).cumsum(dim=-1)  # (B, kk)
    target = (uniform * cdf[:, -1])[:, None]
    pick = torch.searchsorted(cdf, target, right=True).clamp(max=candidates - 1)  # (B, 1)
    return ids.gather(1, pick).squeeze(1)

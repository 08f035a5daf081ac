"""Turning the decoder's logits into image tokens: guidance, top-k, temperature, seeded draws.

Every image owns a seeded `torch.Generator` that draws its uniforms for all steps up front
(on the CPU, so results do not depend on the device's RNG), and sampling is inverse-CDF on
those uniforms: an image's tokens depend only on its own logits and seed, never on what it was
batched with.

Two samplers compute the same draw:
- the reference (`probabilities` + `sample`): keep the top k guided logits (ties kept), subtract the
  max, divide by the temperature, softmax over the whole vocabulary, inverse CDF in id order;
- the one decoding uses (`sample_top_k`), in a form a CUDA graph can replay and without sorting the
  vocabulary: `torch.topk` takes k + TIE_SLACK candidates (ties with the k-th kept while fewer than
  TIE_SLACK tie), puts them back in id order (a sort of k + 8 numbers) and runs the inverse CDF over
  them. Ids outside the top k have probability 0 in the reference, adding nothing to its
  cumulative sum, so for the same uniform both pick the same id (up to float rounding at a CDF
  boundary).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch

TIE_SLACK = 8  # extra candidates taken so logits tied with the k-th one are kept


def guidance(uncond: torch.Tensor, cond: torch.Tensor, scale: float) -> torch.Tensor:
    """DALL·E Mini's "supercondition": uncond·(1 − s) + cond·s."""
    return uncond * (1.0 - scale) + cond * scale


def top_k_mask(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Set everything below the k-th largest logit of each row to -inf; ties with it are kept."""
    if k <= 0 or k >= logits.shape[-1]:
        return logits
    kth = logits.topk(k, dim=-1).values[..., -1:]  # (N, 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def probabilities(logits: torch.Tensor, top_k: int, temperature: float) -> torch.Tensor:
    """Top-k, subtract the max, divide by temperature, softmax. logits (N, V) -> probs (N, V) fp32."""
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    logits = top_k_mask(logits.float(), top_k)
    logits = logits - logits.max(dim=-1, keepdim=True).values
    return torch.softmax(logits / temperature, dim=-1)


def sample(probs: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF draw: probs (N, V), uniforms (N,) in [0, 1) -> ids (N,) long.

    Picks the first id whose cumulative probability exceeds u·total, so a zero-probability id is
    never chosen.
    """
    cdf = probs.cumsum(dim=-1)  # (N, V)
    target = (uniforms.to(cdf) * cdf[:, -1]).unsqueeze(-1)  # (N, 1)
    ids = torch.searchsorted(cdf, target, right=True).squeeze(-1)
    return ids.clamp_(max=probs.shape[-1] - 1)


def expand_seeds(seed: int | Sequence[int] | None, prompts: int) -> list[int]:
    """One seed per prompt: an int is used for every prompt, None draws fresh ones."""
    if seed is None:
        return [random.randrange(2**63) for _ in range(prompts)]
    if isinstance(seed, int):
        return [seed] * prompts
    seeds = [int(s) for s in seed]
    if len(seeds) != prompts:
        raise ValueError(f"got {len(seeds)} seeds for {prompts} prompts; give one per prompt or a single int")
    return seeds


def draw_uniforms(seeds: Sequence[int], images_per_prompt: int, steps: int) -> torch.Tensor:
    """(len(seeds) * images_per_prompt, steps) float64 uniforms; image j of prompt p uses row j
    of its own generator's stream, so it is the same whatever images_per_prompt is."""
    rows = []
    for seed in seeds:
        gen = torch.Generator(device="cpu").manual_seed(seed)
        rows.append(torch.rand(images_per_prompt, steps, generator=gen, dtype=torch.float64))
    return torch.cat(rows)


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
    guided: torch.Tensor,
    top_k: torch.Tensor,
    temperature: torch.Tensor,
    uniform: torch.Tensor,
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

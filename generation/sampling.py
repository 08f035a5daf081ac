"""Turning the decoder's logits into image tokens: guidance, top-k, temperature, seeded draws.

Every image owns a seeded `torch.Generator` that draws its uniforms for all steps up front
(on the CPU, so results do not depend on the device's RNG), and sampling is inverse-CDF on
those uniforms: an image's tokens depend only on its own logits and seed, never on what it was
batched with.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch


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

"""Top-k sampling without sorting the vocabulary, in a form a CUDA graph can replay.

The reference sampler keeps the top k guided logits (ties kept), subtracts the max, divides by the
temperature, takes a softmax and draws. This one draws from the same distribution:

1. `torch.topk` picks the `kk = k + TIE_SLACK` best candidates (a partial selection, not a sort of
   all 16,384 logits); candidates equal to the k-th value stay, so ties are kept as long as fewer
   than TIE_SLACK extra logits tie with the k-th.
2. Gumbel-max (the exponential race): with G_i = -log E_i, E_i ~ Exp(1) independent,
   argmax_i (v_i - v_max) / T + G_i is distributed as softmax((v - v_max) / T) — P(i wins) =
   p_i / sum p — so the softmax's normaliser never has to be computed.

The Gumbel noise for all 256 steps are drawn up front from each request's own seeded generator,
so a request's image does not depend on what it was batched with, and no random number
generator runs inside the captured step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

TIE_SLACK = 8  # extra candidates taken so logits tied with the k-th one are kept


def candidate_count(top_k: int, vocab: int) -> int:
    """Candidates `topk` must return for one request with this top_k."""
    return min(vocab, top_k + TIE_SLACK)


def draw_noise(
    seeds: Sequence[int],
    images: Sequence[int],
    top_ks: Sequence[int],
    *,
    steps: int,
    vocab: int,
    device: torch.device | str,
) -> torch.Tensor:
    """Gumbel noise [sum(images), steps, kk] from one generator per request; padding is -inf.

    A padded candidate (beyond a request's own kk) gets a key of -inf and never wins.
    """
    device = torch.device(device)
    kk = max(candidate_count(k, vocab) for k in top_ks)
    noise = torch.full((sum(images), steps, kk), float("-inf"), device=device)
    row = 0
    for seed, n, k in zip(seeds, images, top_ks, strict=True):
        generator = torch.Generator(device=device)
        generator.manual_seed(int(seed))
        own = torch.empty((n, steps, candidate_count(k, vocab)), device=device)
        own.exponential_(generator=generator)
        noise[row : row + n, :, : own.shape[-1]] = -own.log()
        row += n
    return noise


def guide(logits: torch.Tensor, cond_scale: torch.Tensor) -> torch.Tensor:
    """Supercondition: rows [0:B] unconditional, [B:2B] conditional -> [B, V] in float32.

    `uncond·(1 − s) + cond·s`, the reference's formula, written the same way so fp32 results agree.
    """
    logits = logits.float()
    batch = logits.shape[0] // 2
    uncond, cond = logits[:batch], logits[batch:]
    scale = cond_scale[:, None]
    return uncond * (1 - scale) + cond * scale


def sample_top_k(
    guided: torch.Tensor, top_k: torch.Tensor, inv_temperature: torch.Tensor, noise: torch.Tensor
) -> torch.Tensor:
    """Draw one id per row from softmax(top-k(guided) / T) using pre-drawn Gumbel noise.

    guided [B, V] float32; top_k [B] long (1..V); inv_temperature [B]; noise [B, kk] -> ids [B] long.
    """
    kk = noise.shape[-1]
    values, ids = torch.topk(guided, kk, dim=-1)  # (B, kk), best first
    kth = values.gather(1, (top_k - 1).clamp(max=kk - 1)[:, None])  # (B, 1)
    keys = (values - values[:, :1]) * inv_temperature[:, None] + noise
    keys = keys.masked_fill(values < kth, float("-inf"))
    winner = keys.argmax(dim=-1, keepdim=True)  # (B, 1)
    return ids.gather(1, winner).squeeze(1)

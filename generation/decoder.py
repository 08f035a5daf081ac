"""The image-token decoder: encoder output + image tokens so far -> logits for the next token.

Separately loaded component (min-dalle's `decoder.pt`). Config: `generation.config.BartConfig`.

Two ways to run it:
- `forward(image_tokens, encoder_out, text_mask)`: the whole sequence at once, causal, no cache
  (reference path, used by tests and training).
- `new_cache(...)` once per batch, then `step(tokens, cache, pos)` per position: self-attention
  keys/values go into a preallocated `DecoderCache`; cross-attention keys/values depend only on
  the encoder output and are computed once, in `new_cache`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from generation.config import BartConfig
from generation.layers import GLU, Attention


@dataclass
class DecoderCache:
    """Static per-batch state of incremental decoding (one slot per decoder layer on dim 0)."""

    self_k: torch.Tensor  # (L, B, H, P, hd), P = max positions (config.image_tokens)
    self_v: torch.Tensor  # (L, B, H, P, hd)
    cross_k: torch.Tensor  # (L, B, H, T, hd), T = text positions
    cross_v: torch.Tensor  # (L, B, H, T, hd)
    text_mask: torch.Tensor  # (B, 1, 1, T) bool, True = real text token

    @property
    def batch(self) -> int:
        return self.self_k.shape[1]


class DecoderLayer(nn.Module):
    """x + LN(SelfAttn(LN x)); x + LN(CrossAttn(LN x, encoder)); x + GLU(x)."""

    def __init__(self, config: BartConfig) -> None:
        super().__init__()
        d, eps = config.d_model, config.layer_norm_eps
        self.pre_self_attn_layer_norm = nn.LayerNorm(d, eps=eps)
        self.self_attn = Attention(d, config.heads)
        self.self_attn_layer_norm = nn.LayerNorm(d, eps=eps)
        self.pre_encoder_attn_layer_norm = nn.LayerNorm(d, eps=eps)
        self.encoder_attn = Attention(d, config.heads)
        self.encoder_attn_layer_norm = nn.LayerNorm(d, eps=eps)
        self.glu = GLU(d, config.glu_dim, eps)

    def forward(
        self,
        x: torch.Tensor,  # (B, S, D): positions pos .. pos+S-1
        cross_k: torch.Tensor,  # (B, H, T, hd)
        cross_v: torch.Tensor,  # (B, H, T, hd)
        text_mask: torch.Tensor,  # (B, 1, 1, T)
        pos: int = 0,
        cache_k: torch.Tensor | None = None,  # (B, H, P, hd) this layer's slot, written in place
        cache_v: torch.Tensor | None = None,
    ) -> torch.Tensor:
        s = x.shape[1]
        h = self.pre_self_attn_layer_norm(x)
        k, v = self.self_attn.keys_values(h)  # (B, H, S, hd)
        if cache_k is not None and cache_v is not None:
            cache_k[:, :, pos : pos + s] = k
            cache_v[:, :, pos : pos + s] = v
            k, v = cache_k[:, :, : pos + s], cache_v[:, :, : pos + s]  # (B, H, pos+S, hd)
        mask = None
        if s > 1:  # causal: query i (at pos+i) sees keys 0 .. pos+i
            mask = torch.ones(s, pos + s, dtype=torch.bool, device=x.device).tril(diagonal=pos)
        x = x + self.self_attn_layer_norm(self.self_attn.attend(h, k, v, mask))
        h = self.pre_encoder_attn_layer_norm(x)
        x = x + self.encoder_attn_layer_norm(self.encoder_attn.attend(h, cross_k, cross_v, text_mask))
        return x + self.glu(x)


class ImageDecoder(nn.Module):
    """Image-token embeddings -> LN -> layers -> final LN -> lm_head (no bias).

    Logits cover all `decoder_vocab_size` rows; samplers use only 0 .. image_vocab_size - 1.
    """

    def __init__(self, config: BartConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.embed_tokens = nn.Embedding(config.decoder_vocab_size, d)
        self.embed_positions = nn.Embedding(config.image_tokens, d)
        self.layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.decoder_layers))
        self.layernorm_embedding = nn.LayerNorm(d, eps=config.layer_norm_eps)
        self.final_ln = nn.LayerNorm(d, eps=config.layer_norm_eps)
        self.lm_head = nn.Linear(d, config.decoder_vocab_size, bias=False)

    def _embed(self, tokens: torch.Tensor, pos: int) -> torch.Tensor:
        """tokens (B, S) at positions pos .. pos+S-1 -> (B, S, D)"""
        positions = torch.arange(pos, pos + tokens.shape[1], device=tokens.device)
        return self.layernorm_embedding(self.embed_tokens(tokens) + self.embed_positions(positions))

    def cross_keys_values(self, encoder_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """encoder_out (B, T, D) -> cross-attention keys, values each (L, B, H, T, hd)."""
        kv = [layer.encoder_attn.keys_values(encoder_out) for layer in self.layers]
        return torch.stack([k for k, _ in kv]), torch.stack([v for _, v in kv])

    def forward(
        self, image_tokens: torch.Tensor, encoder_out: torch.Tensor, text_mask: torch.Tensor
    ) -> torch.Tensor:
        """Full causal pass without a cache.

        image_tokens (B, S) (first = start token), encoder_out (B, T, D), text_mask (B, T) bool
        -> logits (B, S, decoder_vocab_size)
        """
        b, t = text_mask.shape
        mask = text_mask.view(b, 1, 1, t)
        cross_k, cross_v = self.cross_keys_values(encoder_out)
        x = self._embed(image_tokens, 0)
        for i, layer in enumerate(self.layers):
            x = layer(x, cross_k[i], cross_v[i], mask)
        return self.lm_head(self.final_ln(x))

    def new_cache(
        self,
        encoder_out: torch.Tensor,
        text_mask: torch.Tensor,
        rows: torch.Tensor | None = None,
        max_tokens: int | None = None,
    ) -> DecoderCache:
        """Compute cross K/V once and allocate the self-attention K/V cache.

        encoder_out (U, T, D), text_mask (U, T) bool; rows (B,) long picks which encoder row each
        decoded row reads (so identical prompts are encoded once); default: row i reads row i.
        """
        cross_k, cross_v = self.cross_keys_values(encoder_out)  # (L, U, H, T, hd)
        mask = text_mask
        if rows is not None:
            cross_k, cross_v, mask = cross_k[:, rows], cross_v[:, rows], text_mask[rows]
        n_layers, b, heads, t, hd = cross_k.shape
        p = max_tokens or self.config.image_tokens
        shape = (n_layers, b, heads, p, hd)
        self_k = torch.empty(shape, dtype=cross_k.dtype, device=cross_k.device)
        self_v = torch.empty(shape, dtype=cross_k.dtype, device=cross_k.device)
        return DecoderCache(self_k, self_v, cross_k.contiguous(), cross_v.contiguous(), mask.view(b, 1, 1, t))

    def step(
        self, tokens: torch.Tensor, cache: DecoderCache, pos: int, last_only: bool = True
    ) -> torch.Tensor:
        """Feed tokens (B, S) at positions pos .. pos+S-1, writing their K/V into `cache`.

        -> logits (B, V) for the last position when last_only (only that row goes through
        lm_head), else (B, S, V).
        """
        x = self._embed(tokens, pos)  # (B, S, D)
        for i, layer in enumerate(self.layers):
            x = layer(
                x, cache.cross_k[i], cache.cross_v[i], cache.text_mask, pos, cache.self_k[i], cache.self_v[i]
            )
        if last_only:
            x = x[:, -1]  # (B, D)
        return self.lm_head(self.final_ln(x))

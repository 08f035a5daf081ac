"""The text encoder: prompt token ids -> one vector per text position.

Separately loaded component (min-dalle's `encoder.pt`). Config: `generation.config.BartConfig`.
"""

from __future__ import annotations

import torch
from torch import nn

from generation.config import BartConfig
from generation.layers import GLU, Attention


class EncoderLayer(nn.Module):
    """x + LN(SelfAttn(LN x)), then x + GLU(x)."""

    def __init__(self, config: BartConfig) -> None:
        super().__init__()
        d, eps = config.d_model, config.layer_norm_eps
        self.pre_self_attn_layer_norm = nn.LayerNorm(d, eps=eps)
        self.self_attn = Attention(d, config.heads)
        self.self_attn_layer_norm = nn.LayerNorm(d, eps=eps)
        self.glu = GLU(d, config.glu_dim, eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, T, D), mask (B, 1, 1, T) True = real token -> (B, T, D)"""
        h = self.pre_self_attn_layer_norm(x)
        k, v = self.self_attn.keys_values(h)  # (B, H, T, hd) each
        x = x + self.self_attn_layer_norm(self.self_attn.attend(h, k, v, mask))
        return x + self.glu(x)


class TextEncoder(nn.Module):
    """Token + position embeddings -> LN -> layers -> final LN.

    forward(text_tokens (B, T) long, T <= config.text_tokens) -> (B, T, D).
    Positions holding `config.pad_token` are masked out as keys.
    """

    def __init__(self, config: BartConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.embed_tokens = nn.Embedding(config.text_vocab_size, d)
        self.embed_positions = nn.Embedding(config.text_tokens, d)
        self.layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.encoder_layers))
        self.layernorm_embedding = nn.LayerNorm(d, eps=config.layer_norm_eps)
        self.final_ln = nn.LayerNorm(d, eps=config.layer_norm_eps)

    def forward(self, text_tokens: torch.Tensor) -> torch.Tensor:
        b, t = text_tokens.shape
        positions = torch.arange(t, device=text_tokens.device)
        x = self.embed_tokens(text_tokens) + self.embed_positions(positions)  # (B, T, D)
        x = self.layernorm_embedding(x)
        mask = (text_tokens != self.config.pad_token).view(b, 1, 1, t)
        for layer in self.layers:
            x = layer(x, mask)
        return self.final_ln(x)

"""Building blocks shared by the text encoder and the image-token decoder.

NormFormer-style BART as DALL·E Mini uses it: bias-free projections, LayerNorms around every
sub-block. Parameter names follow min-dalle's state dicts so loading is a plain load_state_dict.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    """Multi-head attention with bias-free q/k/v/out projections; the caller supplies keys/values."""

    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.k_proj = nn.Linear(d_model, d_model, bias=False)
        self.v_proj = nn.Linear(d_model, d_model, bias=False)
        self.q_proj = nn.Linear(d_model, d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model, bias=False)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, H, T, hd)"""
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def keys_values(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, D) -> keys, values each (B, H, T, hd)"""
        return self.split_heads(self.k_proj(x)), self.split_heads(self.v_proj(x))

    def attend(
        self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Queries from x (B, T, D) over keys/values (B, H, S, hd); mask broadcasts to (B, H, T, S),
        True = may attend. Returns (B, T, D). Scale is 1/sqrt(hd) (hd = 64 in the published models)."""
        b, t, d = x.shape
        q = self.split_heads(self.q_proj(x))  # (B, H, T, hd)
        y = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)  # (B, H, T, hd)
        return self.out_proj(y.transpose(1, 2).reshape(b, t, d))


class GLU(nn.Module):
    """Gated feed-forward: fc2(ln1(gelu(fc0(ln0 x)) * fc1(ln0 x))); the residual is the caller's."""

    def __init__(self, d_model: int, hidden: int, eps: float) -> None:
        super().__init__()
        self.ln0 = nn.LayerNorm(d_model, eps=eps)
        self.ln1 = nn.LayerNorm(hidden, eps=eps)
        self.fc0 = nn.Linear(d_model, hidden, bias=False)
        self.fc1 = nn.Linear(d_model, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, T, D)"""
        h = self.ln0(x)
        a, g = self.fc0(h), self.fc1(h)  # (B, T, hidden)
        return self.fc2(self.ln1(F.gelu(a) * g))

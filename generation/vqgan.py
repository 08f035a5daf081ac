"""The VQGAN decoder ("detokenizer"): a grid of codebook ids -> an RGB image.

Separately loaded component (min-dalle's `vqgan/detoker.pt`); parameter names equal that file's
keys. Config: `generation.config.VQGANConfig`. Up-levels run from the last (widest, at the token
grid's resolution) down to level 0; every level but 0 ends with a nearest x2 upsample + conv.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from generation.config import VQGANConfig


def _norm(config: VQGANConfig, channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(config.norm_groups, channels, eps=config.group_norm_eps)


class ResBlock(nn.Module):
    """GN -> swish -> conv3x3 -> GN -> swish -> conv3x3, plus a 1x1 shortcut when widths differ."""

    def __init__(self, config: VQGANConfig, c_in: int, c_out: int) -> None:
        super().__init__()
        self.norm1 = _norm(config, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2 = _norm(config, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.nin_shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, c_in, h, w) -> (B, c_out, h, w)"""
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        if self.nin_shortcut is not None:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    """Single-head self-attention over the h*w positions, 1x1 conv projections, residual."""

    def __init__(self, config: VQGANConfig, channels: int) -> None:
        super().__init__()
        self.norm = _norm(config, channels)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) -> (B, C, h, w); softmax scaled by 1/sqrt(C)"""
        b, c, hh, ww = x.shape
        h = self.norm(x)
        q, k, v = (proj(h).view(b, 1, c, hh * ww).transpose(2, 3) for proj in (self.q, self.k, self.v))
        y = F.scaled_dot_product_attention(q, k, v)  # (B, 1, h*w, C)
        return x + self.proj_out(y.transpose(2, 3).reshape(b, c, hh, ww))


class Upsample(nn.Module):
    """Nearest x2, then a 3x3 conv."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) -> (B, C, 2h, 2w)"""
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UpLevel(nn.Module):
    """`res_blocks` ResBlocks (each followed by attention on attention levels), then maybe upsample."""

    def __init__(self, config: VQGANConfig, c_in: int, c_out: int, attention: bool, upsample: bool) -> None:
        super().__init__()
        widths = [c_in] + [c_out] * config.res_blocks
        self.block = nn.ModuleList(ResBlock(config, a, b) for a, b in itertools.pairwise(widths))
        self.attn = nn.ModuleList(AttnBlock(config, c_out) for _ in range(config.res_blocks) if attention)
        self.upsample = Upsample(c_out) if upsample else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.block):
            x = block(x)
            if len(self.attn):
                x = self.attn[i](x)
        return self.upsample(x) if self.upsample is not None else x


class MidBlock(nn.Module):
    """ResBlock, attention, ResBlock at the widest level's width."""

    def __init__(self, config: VQGANConfig, channels: int) -> None:
        super().__init__()
        self.block_1 = ResBlock(config, channels, channels)
        self.attn_1 = AttnBlock(config, channels)
        self.block_2 = ResBlock(config, channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block_2(self.attn_1(self.block_1(x)))


class Decoder(nn.Module):
    """conv_in -> mid -> up[last] .. up[0] -> GN -> swish -> conv_out."""

    def __init__(self, config: VQGANConfig) -> None:
        super().__init__()
        ch = config.channels
        top = len(ch) - 1
        self.conv_in = nn.Conv2d(config.embed_dim, ch[top], 3, padding=1)
        self.mid = MidBlock(config, ch[top])
        self.up = nn.ModuleList(
            UpLevel(config, ch[min(i + 1, top)], ch[i], i in config.attn_levels, upsample=i > 0)
            for i in range(len(ch))
        )
        self.norm_out = _norm(config, ch[0])
        self.conv_out = nn.Conv2d(ch[0], config.out_channels, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, embed_dim, grid, grid) -> (B, out_channels, image_size, image_size)"""
        x = self.mid(self.conv_in(z))
        for level in reversed(self.up):
            x = level(x)
        return self.conv_out(F.silu(self.norm_out(x)))


class VQGANDecoder(nn.Module):
    """forward(codes (B, grid*grid) long, raster order) -> pixels (B, H, W, 3) float in [0, 255]."""

    def __init__(self, config: VQGANConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.codebook_size, config.embed_dim)
        if config.kind == "vqgan":
            self.post_quant_conv = nn.Conv2d(config.embed_dim, config.embed_dim, 1)
            self.decoder = Decoder(config)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        if self.config.kind == "patches":
            return self._paint(codes)
        g = self.config.grid  # codes (B, rows * g): all g rows, or the first rows of a preview
        z = (
            self.embedding(codes).view(codes.shape[0], codes.shape[1] // g, g, -1).permute(0, 3, 1, 2)
        )  # (B, E, rows, g)
        x = self.decoder(self.post_quant_conv(z))  # (B, 3, H, W)
        return x.permute(0, 2, 3, 1).clamp(0.0, 1.0) * 255.0

    def _paint(self, codes: torch.Tensor) -> torch.Tensor:
        """kind "patches": every token's patch (premultiplied RGBA, 0..1) over the image's commonest
        background token's colour (the first background id when it has none)."""
        g, p, nb = self.config.grid, self.config.patch_side, self.config.background_tokens
        b, t = codes.shape  # (B, rows * g)
        patches = self.embedding(codes).view(b, t, p * p, 4)
        votes = F.one_hot(codes.clamp(max=nb - 1), nb) * (codes < nb).unsqueeze(-1)  # (B, T, nb)
        background = self.embedding.weight[votes.sum(1).argmax(-1)].view(b, 1, p * p, 4)[..., :1, :3]
        pixels = patches[..., :3] + background * (1 - patches[..., 3:])  # (B, T, p*p, 3)
        rows = t // g
        pixels = pixels.view(b, rows, g, p, p, 3).permute(0, 1, 3, 2, 4, 5)  # (B, rows, p, g, p, 3)
        return pixels.reshape(b, rows * p, g * p, 3).clamp(0.0, 1.0) * 255.0

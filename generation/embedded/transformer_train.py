"""Training the engine's text encoder + image-token decoder on (caption, image tokens) pairs.

The modules are the engine's own (`TextEncoder`, `ImageDecoder`), so the weights load through
`generation.load_pipeline`. Only the decoder's token embedding and lm_head are re-parametrised
while training: both are factored like the tokens themselves (mask, colour, background, see
`vqgan_train`), embedding = E_m + E_c + E_b and logits = W_m·h + W_c·h + W_b·h. A softmax over
such logits is the product of three softmaxes, so the loss is the sum of three small
cross-entropies, and a token never seen in training (a red star's edge) still gets the logit
its parts earned. `export` writes the factored tables into the plain modules.

Captions are dropped (replaced by the empty prompt `<s></s>`) 10% of the time so that the
pipeline's classifier-free guidance has an unconditional model to push away from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from generation.config import BartConfig
from generation.decoder import ImageDecoder
from generation.embedded.vqgan_train import product_ids
from generation.encoder import TextEncoder


class FactoredTokens(nn.Module):
    """Image-token embedding and output head, factored into (mask, colour, background) parts.

    By default a token id is the product of its parts (`split_ids`); `table` (V, 3) gives each
    id's parts instead (the things world's (object, part) tokens, `things_tokens.head_table`):
    then only those V ids exist, and the head's other part combinations are never exported."""

    table: torch.Tensor  # (V, 3) each token id's part indices

    def __init__(self, sizes: tuple[int, int, int], d_model: int, table: torch.Tensor | None = None) -> None:
        super().__init__()
        self.sizes = sizes
        if table is None:
            table = torch.stack(product_ids(sizes), dim=1)
        self.register_buffer("table", table.long(), persistent=False)  # (V, 3)
        self.vocab = len(table)
        self.embed = nn.ModuleList(nn.Embedding(k, d_model) for k in sizes)
        self.start = nn.Parameter(torch.randn(d_model))
        self.heads = nn.ModuleList(nn.Linear(d_model, k, bias=False) for k in sizes)
        for embedding in self._embeddings():
            nn.init.normal_(embedding.weight, std=1.0 / math.sqrt(len(sizes)))

    def _embeddings(self) -> list[nn.Embedding]:
        return cast("list[nn.Embedding]", list(self.embed))  # nn.ModuleList yields plain Modules

    def _heads(self) -> list[nn.Linear]:
        return cast("list[nn.Linear]", list(self.heads))

    def embed_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, S), the start token = vocab -> (B, S, D)"""
        parts = self._parts(ids.clamp(max=self.vocab - 1))
        x = sum(embedding(p) for embedding, p in zip(self.embed, parts, strict=True))
        return torch.where((ids == self.vocab).unsqueeze(-1), self.start, x)

    def loss(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Joint cross-entropy of hidden (B, S, D) against token ids (B, S) = sum over parts."""
        parts = self._parts(targets)
        return cast(torch.Tensor, sum(
            F.cross_entropy(head(hidden).flatten(0, 1), p.flatten())
            for head, p in zip(self.heads, parts, strict=True)
        ))  # fmt: skip

    def _parts(self, ids: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.table[ids].unbind(-1)  # 3 × ids' shape

    @torch.no_grad()
    def export(self, decoder: ImageDecoder) -> None:
        """Write the full (vocab + start) embedding and lm_head tables into the engine's decoder."""
        parts = self.table.unbind(1)
        embed = sum(t.weight[p] for t, p in zip(self._embeddings(), parts, strict=True))  # (V, D)
        head = sum(h.weight[p] for h, p in zip(self._heads(), parts, strict=True))  # (V, D)
        decoder.embed_tokens.weight.zero_()
        decoder.embed_tokens.weight[: self.vocab] = embed
        decoder.embed_tokens.weight[self.vocab] = self.start
        decoder.lm_head.weight.zero_()  # rows past the codebook (the start token) are never sampled
        decoder.lm_head.weight[: self.vocab] = head


def decoder_hidden(
    decoder: ImageDecoder, x: torch.Tensor, encoder_out: torch.Tensor, text_mask: torch.Tensor
) -> torch.Tensor:
    """The engine decoder's causal pass from given token embeddings x (B, S, D) -> (B, S, D),
    final LayerNorm applied, lm_head not."""
    b, s, _ = x.shape
    positions = torch.arange(s, device=x.device)
    x = decoder.layernorm_embedding(x + decoder.embed_positions(positions))
    cross_k, cross_v = decoder.cross_keys_values(encoder_out)
    mask = text_mask.view(b, 1, 1, -1)
    for i, layer in enumerate(decoder.layers):
        x = layer(x, cross_k[i], cross_v[i], mask)
    return decoder.final_ln(x)


@dataclass
class TransformerData:
    """Training pairs: text (N, T) padded with <pad>, image tokens (N, image_tokens)."""

    text: torch.Tensor
    image: torch.Tensor


def train_transformer(
    config: BartConfig,
    sizes: tuple[int, int, int],
    data: TransformerData,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    device: torch.device,
    drop_caption: float = 0.1,
    progress: Callable[[int, torch.Tensor], None] | None = None,
    table: torch.Tensor | None = None,
) -> tuple[TextEncoder, ImageDecoder]:
    """Train encoder + decoder; returns them (eval mode) with the factored tables exported
    (`table`: each token id's parts, see `FactoredTokens`)."""
    gen = torch.Generator().manual_seed(seed)
    encoder, decoder = TextEncoder(config).to(device), ImageDecoder(config).to(device)
    tokens = FactoredTokens(sizes, config.d_model, table).to(device)
    unused = {id(decoder.embed_tokens.weight), id(decoder.lm_head.weight)}
    params = [p for m in (encoder, decoder, tokens) for p in m.parameters() if id(p) not in unused]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr, betas=(0.9, 0.98),
    )  # fmt: skip
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps, pct_start=0.05)
    empty = torch.full_like(data.text[0], config.pad_token)
    empty[0], empty[1] = config.bos_token, config.eos_token
    start = torch.full((batch_size, 1), config.start_token, dtype=torch.long)
    encoder.train()
    decoder.train()
    for step in range(steps):
        rows = torch.randint(len(data.text), (batch_size,), generator=gen)
        text, image = data.text[rows].clone(), data.image[rows]
        dropped = torch.rand(batch_size, generator=gen) < drop_caption
        text[dropped] = empty
        length = int((text != config.pad_token).sum(1).max())
        text, image = text[:, :length].to(device), image.to(device)
        inputs = torch.cat([start.to(device), image[:, :-1]], dim=1)  # (B, S): start, t0 .. t(S-2)
        encoded = encoder(text)  # (B, T, D)
        hidden = decoder_hidden(decoder, tokens.embed_tokens(inputs), encoded, text != config.pad_token)
        loss = tokens.loss(hidden, image)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        if progress:
            progress(step, loss.detach())
    tokens.export(decoder)
    return encoder.eval(), decoder.eval()

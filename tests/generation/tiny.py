"""Tiny random components and a tiny BPE vocabulary for the engine tests (hidden size 32)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from generation.config import BartConfig, ModelConfig, VQGANConfig
from generation.decoder import ImageDecoder
from generation.encoder import TextEncoder
from generation.loading import OPTIONAL_LN_WEIGHT, Components
from generation.tokenizer import Tokenizer
from generation.vqgan import VQGANDecoder

LETTERS = "abcdefghijklmnopqrstuvwxyz_"
# ids: specials 0-3, "Ġ" 4, letters 5..31, then merged pieces
VOCAB = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "Ġ": 4}
VOCAB.update({c: 5 + i for i, c in enumerate(LETTERS)})
MERGES = [("a", "t"), ("Ġ", "c"), ("Ġc", "at"), ("Ġ", "d"), ("o", "g"), ("Ġd", "og"), ("Ġ", "s")]
for a, b in MERGES:
    VOCAB[a + b] = len(VOCAB)  # at=32, Ġc=33, Ġcat=34, Ġd=35, og=36, Ġdog=37, Ġs=38

BART = BartConfig(
    text_vocab_size=len(VOCAB),
    decoder_vocab_size=33,
    image_vocab_size=32,
    d_model=32,
    encoder_layers=2,
    decoder_layers=2,
    heads=1,  # = max(1, 32 // 64), what loading infers from shapes
    glu_dim=48,
    text_tokens=12,
    image_tokens=16,
    start_token=32,
)
VQGAN = VQGANConfig(
    codebook_size=32, embed_dim=8, channels=(32, 32, 64), res_blocks=1, attn_levels=(2,), grid=4
)
CONFIG = ModelConfig(bart=BART, vqgan=VQGAN, name="tiny")


def tokenizer() -> Tokenizer:
    return Tokenizer(dict(VOCAB), list(MERGES), max_tokens=BART.text_tokens)


def components(seed: int = 0) -> Components:
    """Random tiny components; LayerNorm parameters randomised too so that filling matters."""
    torch.manual_seed(seed)
    enc, dec, vq = TextEncoder(BART), ImageDecoder(BART), VQGANDecoder(VQGAN)
    with torch.no_grad():
        for module in (enc, dec, vq):
            for name, p in module.named_parameters():
                if name.endswith(("norm.weight", "ln0.weight", "ln1.weight", "_ln.weight", "norm1.weight",
                                  "norm2.weight", "norm_out.weight", "embedding.weight")):  # fmt: skip
                    p.uniform_(0.5, 1.5)
    return Components(CONFIG, tokenizer(), enc.eval(), dec.eval(), vq.eval())


def write_tokenizer_files(
    directory: Path, vocab_name: str = "vocab.json", merges_name: str = "merges.txt"
) -> None:
    (directory / vocab_name).write_text(json.dumps(VOCAB), encoding="utf-8")
    lines = ["#version: 0.2", *(f"{a} {b}" for a, b in MERGES)]
    (directory / merges_name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def min_dalle_state_dicts(parts: Components) -> dict[str, dict[str, torch.Tensor]]:
    """The three files' dicts as published: fp16 BART without the unscaled LN weights, fp32 VQGAN."""
    with torch.no_grad():
        for module in (parts.encoder, parts.decoder):  # the published files have no scale there
            for name, p in module.named_parameters():
                if OPTIONAL_LN_WEIGHT.match(name):
                    p.fill_(1.0)

    def published(module: torch.nn.Module) -> dict[str, torch.Tensor]:
        return {n: t.half() for n, t in module.state_dict().items() if not OPTIONAL_LN_WEIGHT.match(n)}

    return {"encoder": published(parts.encoder), "decoder": published(parts.decoder),
            "detoker": dict(parts.vqgan.state_dict())}  # fmt: skip


def write_min_dalle(root: Path, parts: Components, *, hub_names: bool = False) -> dict[str, Path]:
    """Write a min-dalle models_root (dalle_bart_mini/ + vqgan/) or a flat folder with hub names."""
    dicts = min_dalle_state_dicts(parts)
    if hub_names:
        root.mkdir(parents=True, exist_ok=True)
        names = {"encoder": "encoder_mini.pt", "decoder": "decoder_mini.pt", "detoker": "detoker.pt"}
        paths = {kind: root / name for kind, name in names.items()}
        write_tokenizer_files(root, "vocab_mini.json", "merges_mini.txt")
    else:
        bart, vq = root / "dalle_bart_mini", root / "vqgan"
        bart.mkdir(parents=True)
        vq.mkdir()
        paths = {"encoder": bart / "encoder.pt", "decoder": bart / "decoder.pt", "detoker": vq / "detoker.pt"}
        write_tokenizer_files(bart)
    for kind, path in paths.items():
        torch.save(dicts[kind], path)
    return paths

"""Train an embedded model on the world of things, in stages that resume.

    python -m generation.embedded.train --world things --out DIR [--tiny] [--set FIELD=VALUE …]

Stages, each written to DIR/stages/ when done and reused by a later run whose settings for it
(and for the stages it builds on) are the same; a stage made with other settings is redone:
1. tokenizer — the byte-level BPE on things-world captions;
2. codebooks — every object class's parts (`things_tokens`, the default `tokens=objects`), or every
   distinct foreground patch of the codebook scenes (`tokens=patches`, `things_vq`);
3. vqgan — the engine's VQGAN decoder, trained to paint those tokens (its held-out PSNR too);
4. data — (caption ids, image tokens) pairs;
5. transformer — the engine's text encoder + image decoder.
Then DIR gets the model files and training.json (`config.world` = "things", which is how
`dallebot eval embedded` knows to judge it with the things detector).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from generation.config import BartConfig, ModelConfig, VQGANConfig
from generation.embedded import vqgan_train
from generation.embedded.text import train_tokenizer
from generation.embedded.things_tokens import encode_objects, head_table, object_codebooks
from generation.embedded.things_vq import (
    ThingCodebooks,
    encode_things,
    fit_thing_codebooks,
    paint,
    principal_codes,
    token_patches,
)
from generation.embedded.things_world import BACKGROUNDS, ThingWorld, render_things
from generation.embedded.train_common import SAMPLING, bars, bf16_autocast, caption_ids, pad_rows
from generation.embedded.transformer_train import TransformerData, train_transformer
from generation.embedded.vqgan_train import PATCH
from generation.loading import Components, save_components
from generation.tokenizer import Tokenizer
from generation.vqgan import VQGANDecoder

log = logging.getLogger(__name__)

STAGES = ("tokenizer", "codebooks", "vqgan", "data", "transformer")


@dataclass(frozen=True)
class ThingsTrainConfig:
    """Every knob of a things-world run."""

    world: str = "things"
    seed: int = 0
    tokenizer_captions: int = 20_000
    codebook_scenes: int = 20_000
    content_codes: int = 32_768  # enough to keep every distinct patch of 20,000 scenes exact
    code_dims: tuple[int, int, int] = (32, 1, 1)
    vq_channels: tuple[int, ...] = (32, 32, 64, 64)
    vq_norm_groups: int = 1
    vq_scenes: int = 8_000
    vq_steps: int = 3_000
    vq_batch: int = 32
    vq_lr: float = 3e-3
    code_init: str = "pca"  # "pca": code embeddings start from the patches' principal components; "random"
    # "patches": the image decoder is the codebook itself, each token's patch composited over the
    # background (the tokens' ceiling, nothing to train); "vqgan": a convolutional decoder, trained
    image_decoder: str = "patches"
    # the transformer's image-token head: 1 = one softmax over every token; 2 = ids factored into
    # (group, index) with a softmax each, ~163 + 163 classes instead of ~26,600 (ids padded to fit)
    head_parts: int = 2
    # image tokens: "objects" = (class, part) of the object a patch shows, every class's parts
    # rendered once (`things_tokens`), the head factored as (background or class, part);
    # "patches" = every distinct patch of the codebook scenes, ids factored by number
    tokens: str = "objects"
    psnr_scenes: int = 300
    d_model: int = 128
    heads: int = 2
    encoder_layers: int = 2
    decoder_layers: int = 4
    glu_dim: int = 384
    text_tokens: int = 64
    pairs: int = 400_000
    unk_rate: float = 0.1
    steps: int = 18_000  # batch 32: the shipped things model, 92 min on the 2-core EPYC, 1 thread
    batch: int = 32
    lr: float = 2e-3

    def __post_init__(self) -> None:
        if self.code_init not in ("pca", "random"):
            raise ValueError(f"code_init must be pca or random, not {self.code_init!r}")
        if self.head_parts not in (1, 2):
            raise ValueError(f"head_parts must be 1 or 2, not {self.head_parts}")
        if self.tokens not in ("objects", "patches"):
            raise ValueError(f"tokens must be objects or patches, not {self.tokens!r}")
        if self.image_decoder not in ("patches", "vqgan"):
            raise ValueError(f"image_decoder must be patches or vqgan, not {self.image_decoder!r}")

    @classmethod
    def tiny(cls) -> ThingsTrainConfig:
        """Seconds, for tests: the same code paths at toy sizes."""
        return cls(
            tokenizer_captions=200, codebook_scenes=40, content_codes=64, code_dims=(4, 1, 1),
            vq_channels=(8, 8, 8, 8), vq_scenes=32, vq_steps=3, vq_batch=4, psnr_scenes=8, d_model=32,
            encoder_layers=1, decoder_layers=1, glu_dim=32, pairs=48, steps=3, batch=4,
        )  # fmt: skip


# The configuration fields each stage's result depends on (a stage depends on those before it).
_STAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "tokenizer": ("world", "seed", "tokenizer_captions", "text_tokens"),
    "codebooks": ("world", "seed", "codebook_scenes", "content_codes", "tokens"),
    "vqgan": ("code_dims", "vq_channels", "vq_norm_groups", "vq_scenes", "vq_steps", "vq_batch", "vq_lr",
              "psnr_scenes", "code_init", "image_decoder", "head_parts"),
    "data": ("pairs", "unk_rate", "head_parts"),
    "transformer": ("d_model", "heads", "encoder_layers", "decoder_layers", "glu_dim", "steps", "batch",
                    "lr", "head_parts"),
}  # fmt: skip
_DEPENDS = {"tokenizer": (), "codebooks": (), "vqgan": ("codebooks",), "data": ("tokenizer", "codebooks"),
            "transformer": ("data",)}  # fmt: skip


class _Stages:
    """Stage outputs under DIR/stages; a stage is reused when the fields it (and the stages it
    builds on) depends on are what made it, and redone otherwise."""

    def __init__(self, out: Path, cfg: ThingsTrainConfig) -> None:
        self.dir = out / "stages"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config = dataclasses.asdict(cfg)
        self.reused: list[str] = []
        self.wall: dict[str, float] = {}
        self.redone: set[str] = set()

    def fields(self, name: str) -> dict[str, Any]:
        keys = [*_STAGE_FIELDS[name], *(k for d in _DEPENDS[name] for k in self.fields(d))]
        return {k: self.config[k] for k in sorted(set(keys))}

    def done(self, name: str) -> bool:
        made_by = self._made_by(name)
        upstream_redone = any(d in self.redone for d in _DEPENDS[name])
        if made_by is not None and not upstream_redone and made_by == _jsonable(self.fields(name)):
            self.reused.append(name)
            log.info("stage %s: reusing %s", name, self.dir)
            return True
        if made_by is not None:
            log.info("stage %s: made with other settings, redoing it", name)
        self.redone.add(name)
        return False

    def _made_by(self, name: str) -> Any:
        marker = self.dir / f"{name}.done"
        if not marker.is_file():
            return None
        written = json.loads(marker.read_text(encoding="utf-8"))
        if isinstance(written, dict):
            return written.get("fields")
        # the first format: the wall time alone, the whole configuration in config.json
        legacy = self.dir / "config.json"
        if not legacy.is_file():
            return None
        config = json.loads(legacy.read_text(encoding="utf-8"))
        return {k: config.get(k) for k in self.fields(name)}

    def finish(self, name: str, started: float) -> None:
        self.wall[name] = round(time.perf_counter() - started, 1)
        marker = {"fields": _jsonable(self.fields(name)), "wall_s": self.wall[name]}
        (self.dir / f"{name}.done").write_text(json.dumps(marker), encoding="utf-8")


def _jsonable(value: dict[str, Any]) -> Any:
    return json.loads(json.dumps(value))  # tuples become lists, as they read back


def train_things(cfg: ThingsTrainConfig, out: Path, device: torch.device, *, quiet: bool = False) -> dict:
    """Run (or resume) every stage and write the model directory; returns the training report."""
    started = time.perf_counter()
    stages = _Stages(out, cfg)
    bar = bars(quiet)

    # 1. tokenizer
    t = time.perf_counter()
    if not stages.done("tokenizer"):
        captions = [s.caption for s in ThingWorld(cfg.seed, "train").scenes(cfg.tokenizer_captions)]
        train_tokenizer(captions, max_tokens=cfg.text_tokens).save(stages.dir)
        stages.finish("tokenizer", t)
    tokenizer = Tokenizer.from_files(stages.dir / "vocab.json", stages.dir / "merges.txt", cfg.text_tokens)

    # 2. codebooks
    t = time.perf_counter()
    if not stages.done("codebooks"):
        if cfg.tokens == "objects":
            fitted = object_codebooks()
        else:
            scenes = ThingWorld(cfg.seed + 1, "train").scenes(cfg.codebook_scenes)
            fitted = fit_thing_codebooks(scenes, cfg.content_codes)
        save_file(fitted.to_tensors(), stages.dir / "codebooks.safetensors")
        stages.finish("codebooks", t)
    codebooks = ThingCodebooks.from_tensors(load_file(stages.dir / "codebooks.safetensors"))
    table = None
    if codebooks.labels is not None and cfg.head_parts == 2:
        sizes, table = head_table(codebooks)
    elif codebooks.labels is not None:
        sizes = head_sizes(codebooks.vocab_size, 1)
    else:
        sizes = head_sizes(codebooks.vocab_size, cfg.head_parts)
        codebooks = codebooks.padded(math.prod(sizes))
    if cfg.image_decoder == "patches":
        vq_config = VQGANConfig(
            codebook_size=codebooks.vocab_size, embed_dim=PATCH * PATCH * 4, channels=(), grid=8,
            kind="patches", background_tokens=len(BACKGROUNDS),
        )  # fmt: skip
    else:
        vq_config = VQGANConfig(
            codebook_size=codebooks.vocab_size, embed_dim=sum(cfg.code_dims), channels=cfg.vq_channels,
            res_blocks=1, attn_levels=(), grid=8, norm_groups=cfg.vq_norm_groups,
        )  # fmt: skip

    # 3. VQGAN decoder
    t = time.perf_counter()
    if not stages.done("vqgan"):
        if cfg.image_decoder == "patches":
            vqgan = VQGANDecoder(vq_config)
            with torch.no_grad():
                vqgan.embedding.weight.copy_(torch.from_numpy(token_patches(codebooks)))
        else:
            torch.manual_seed(cfg.seed + 2)
            scenes = ThingWorld(cfg.seed + 2, "train").scenes(cfg.vq_scenes)
            with bar(cfg.vq_steps, "vqgan") as progress:
                vqgan = vqgan_train.train_decoder(
                    vq_config, cfg.code_dims, codebooks, np.stack([render_things(s) for s in scenes]),
                    steps=cfg.vq_steps, batch_size=cfg.vq_batch, lr=cfg.vq_lr, seed=cfg.seed, device=device,
                    bf16=bf16_autocast(device), progress=progress, ids=encode(scenes, codebooks),
                    initial_codes=_initial_codes(cfg, codebooks),
                )  # fmt: skip
        save_file(
            {k: v.cpu().contiguous() for k, v in vqgan.state_dict().items()}, stages.dir / "vqgan.safetensors"
        )
        figures = vqgan_figures(vqgan, codebooks, ThingWorld(cfg.seed + 3, "heldout").scenes(cfg.psnr_scenes))
        log.info("VQGAN on held-out scenes: %s", figures)
        (stages.dir / "vqgan.json").write_text(json.dumps(figures), encoding="utf-8")
        stages.finish("vqgan", t)
    vqgan = VQGANDecoder(vq_config)
    vqgan.load_state_dict(load_file(stages.dir / "vqgan.safetensors"))
    vqgan_report = json.loads((stages.dir / "vqgan.json").read_text(encoding="utf-8"))

    # 4. transformer data
    t = time.perf_counter()
    if not stages.done("data"):
        data = _pairs(ThingWorld(cfg.seed + 4, "train"), cfg, tokenizer, codebooks)
        save_file({"text": data.text, "image": data.image}, stages.dir / "data.safetensors")
        stages.finish("data", t)
    tensors = load_file(stages.dir / "data.safetensors")
    data = TransformerData(text=tensors["text"], image=tensors["image"])

    # 5. transformer
    bart = BartConfig(
        text_vocab_size=len(tokenizer), decoder_vocab_size=codebooks.vocab_size + 1,
        image_vocab_size=codebooks.vocab_size, d_model=cfg.d_model, encoder_layers=cfg.encoder_layers,
        decoder_layers=cfg.decoder_layers, heads=cfg.heads, glu_dim=cfg.glu_dim, text_tokens=cfg.text_tokens,
        image_tokens=vq_config.grid**2, start_token=codebooks.vocab_size,
    )  # fmt: skip
    t = time.perf_counter()
    transformer_file = stages.dir / "transformer.safetensors"
    if not stages.done("transformer"):
        torch.manual_seed(cfg.seed + 4)
        with bar(cfg.steps, "transformer") as progress:
            encoder, decoder = train_transformer(
                bart, sizes, data, steps=cfg.steps, batch_size=cfg.batch, lr=cfg.lr,
                seed=cfg.seed, device=device, progress=progress, table=table,
            )  # fmt: skip
        weights = {f"encoder.{k}": v for k, v in encoder.state_dict().items()}
        weights |= {f"decoder.{k}": v for k, v in decoder.state_dict().items()}
        save_file({k: v.cpu().contiguous() for k, v in weights.items()}, transformer_file)
        stages.finish("transformer", t)
    encoder, decoder = _load_transformer(bart, transformer_file)

    # 6. the model directory
    config = ModelConfig(bart=bart, vqgan=vq_config, name="dallebot-embedded-things", sampling=SAMPLING)
    if cfg.image_decoder == "patches":  # the patches in fp16 (a tenth of an 8-bit level): half the file
        save_components(Components(config, tokenizer, encoder, decoder, vqgan.eval().half()), out)
    else:
        save_components(Components(config, tokenizer, encoder, decoder, vqgan.eval()), out)
        save_file(codebooks.to_tensors(), out / "things_codebooks.safetensors")
    report = {
        "wall_s": round(time.perf_counter() - started, 1), "device": str(device),
        "threads": torch.get_num_threads(), "stage_wall_s": stages.wall, "stages_reused": stages.reused,
        "psnr_db": vqgan_report["psnr_db"], "vqgan": vqgan_report, "config": dataclasses.asdict(cfg),
    }  # fmt: skip
    (out / "training.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def encode(scenes: list[Any], codebooks: ThingCodebooks) -> np.ndarray:
    """Scenes -> token ids (B, 64): object-part tokens from the objects, else patches looked up."""
    if codebooks.labels is not None:
        return encode_objects(scenes, codebooks)
    return encode_things(scenes, codebooks)


def head_sizes(vocab: int, parts: int) -> tuple[int, int, int]:
    """The factored head's part sizes for `vocab` token ids: (vocab, 1, 1) or (groups, per group, 1)."""
    if parts == 1:
        return vocab, 1, 1
    groups = math.isqrt(vocab - 1) + 1
    return groups, -(-vocab // groups), 1


def _initial_codes(cfg: ThingsTrainConfig, codebooks: ThingCodebooks) -> np.ndarray | None:
    return principal_codes(codebooks, cfg.code_dims[0]) if cfg.code_init == "pca" else None


@torch.no_grad()
def vqgan_figures(vqgan: VQGANDecoder, codebooks: ThingCodebooks, scenes: list[Any]) -> dict[str, float]:
    """How well held-out scenes' tokens come back: through the VQGAN and painted straight from the
    codes (the tokens' ceiling), as PSNR (dB, 8-bit) and as the share the detector reads right."""
    from generation.embedded.detector import Detector, check  # the detector's templates: built here only

    ids = encode(scenes, codebooks)
    device = next(vqgan.parameters()).device
    decoded = np.concatenate([
        vqgan.eval()(torch.from_numpy(ids[i : i + 64]).to(device)).round().clamp(0, 255).byte().cpu().numpy()
        for i in range(0, len(ids), 64)
    ])  # fmt: skip
    painted = paint(ids, codebooks)
    real = np.stack([render_things(s) for s in scenes]).astype(np.float32)
    see = Detector()

    def psnr(images: np.ndarray) -> float:
        mse = float(((images.astype(np.float32) - real) ** 2).mean())
        return float("inf") if mse == 0 else round(10 * float(np.log10(255.0**2 / mse)), 2)

    def detected(images: np.ndarray) -> float:
        return round(
            float(np.mean([not check(see(i), s.claims) for i, s in zip(images, scenes, strict=True)])), 4
        )

    return {"psnr_db": psnr(decoded), "detected": detected(decoded),
            "painted_psnr_db": psnr(painted), "painted_detected": detected(painted)}  # fmt: skip


def _pairs(
    world: ThingWorld, cfg: ThingsTrainConfig, tokenizer: Tokenizer, codebooks: ThingCodebooks
) -> TransformerData:
    rng = random.Random(cfg.seed)
    texts: list[list[int]] = []
    images = []
    for start in range(0, cfg.pairs, 1000):
        scenes = world.scenes(min(1000, cfg.pairs - start))
        texts += caption_ids([s.caption for s in scenes], tokenizer, rng, cfg.unk_rate, cfg.text_tokens)
        images.append(encode(scenes, codebooks))
    return TransformerData(
        text=pad_rows(texts, tokenizer.pad), image=torch.from_numpy(np.concatenate(images))
    )


def _load_transformer(bart: BartConfig, path: Path) -> tuple[Any, Any]:
    from generation.decoder import ImageDecoder
    from generation.encoder import TextEncoder

    weights = load_file(path)
    encoder, decoder = TextEncoder(bart), ImageDecoder(bart)
    encoder.load_state_dict(
        {k.removeprefix("encoder."): v for k, v in weights.items() if k.startswith("encoder.")}
    )
    decoder.load_state_dict(
        {k.removeprefix("decoder."): v for k, v in weights.items() if k.startswith("decoder.")}
    )
    return encoder.eval(), decoder.eval()

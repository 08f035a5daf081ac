"""Train the embedded model from scratch: `python -m generation.embedded.train`.

Seeded end to end; uses CUDA when available, and bf16 autocast for the VQGAN where the device
has native bf16 (AMX/AVX512-BF16 CPUs, recent GPUs). Stages (each with a progress bar):
1. BPE tokenizer on world captions.
2. VQGAN: codebooks by k-means over training patches, then the engine's VQGAN decoder.
3. Transformer data: captions -> text ids, rendered images -> image tokens.
4. The engine's text encoder + image decoder.
5. Write config.json, model.safetensors, vocab.json, merges.txt (+ the VQ encoder's codebooks
   and a training report) into the output directory.

Sizes, and why: 64×64 images on an 8×8 token grid (8×8-pixel patches) keep a generation to 64
decoder steps, so a CPU draws an image in well under half a second; the world's shapes are
still 12–28 pixels across, enough for six shapes to stay distinguishable. Tokens factor into
128 masks × 9 colours × 4 backgrounds = 4608 ids (see vqgan_train). The transformer is
d_model 128 (2 heads of 64), 2 encoder + 4 decoder layers: small enough to train within the
CPU budget and to decode fast, big enough to learn the world's layouts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from generation.config import BartConfig, ModelConfig, VQGANConfig
from generation.embedded import vqgan_train
from generation.embedded.text import train_tokenizer
from generation.embedded.train_common import SAMPLING, bars, bf16_autocast, caption_ids, overrides, pad_rows
from generation.embedded.transformer_train import TransformerData, train_transformer
from generation.embedded.world import World, render
from generation.loading import EMBEDDED_SHAPES_DIR, Components, load_components, save_components

log = logging.getLogger(__name__)

CODEBOOKS_FILE = "vq_encoder.safetensors"  # the VQGAN encoder's codebooks (eval's PSNR needs them)
REPORT_FILE = "training.json"


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a training run; the defaults reproduce the committed weights."""

    seed: int = 0
    tokenizer_captions: int = 20_000
    codebook_images: int = 3_000
    codebook_sizes: tuple[int, int, int] = (128, 9, 4)  # masks, colours, backgrounds
    code_dims: tuple[int, int, int] = (16, 8, 8)  # decoder embedding widths of the three parts
    vq_channels: tuple[int, ...] = (32, 32, 64, 64)
    vq_norm_groups: int = 1  # per-channel norms (groups = channels) lose flat colours' absolute levels
    vq_images: int = 8_000
    vq_steps: int = 2_000
    vq_batch: int = 32
    vq_lr: float = 3e-3
    vq_edge_weight: float = 4.0  # extra loss weight on outline pixels (what tells shapes apart)
    psnr_images: int = 500
    d_model: int = 128
    heads: int = 2
    encoder_layers: int = 2
    decoder_layers: int = 4
    glu_dim: int = 384
    text_tokens: int = 64
    pairs: int = 150_000
    unk_rate: float = 0.1  # captions given a run of <unk> (so unknown words come to mean nothing)
    steps: int = 10_000
    batch: int = 64
    lr: float = 2e-3

    @classmethod
    def tiny(cls) -> TrainConfig:
        """A few seconds' run for tests: same code paths, toy sizes."""
        return cls(
            tokenizer_captions=300, codebook_images=100, codebook_sizes=(16, 4, 2), code_dims=(4, 2, 2),
            vq_channels=(8, 8, 8, 8), vq_images=64, vq_steps=3, vq_batch=4, psnr_images=8,
            d_model=32, heads=2, encoder_layers=1, decoder_layers=1, glu_dim=32, pairs=64, steps=3, batch=4,
        )  # fmt: skip


def train(cfg: TrainConfig, out: Path, device: torch.device, *, quiet: bool = False) -> dict:
    """Run every stage and write the model directory; returns the training report."""
    started = time.perf_counter()
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    bar = bars(quiet)

    # 1. tokenizer
    captions = [s.caption for s in World(cfg.seed, "train").scenes(cfg.tokenizer_captions)]
    tokenizer = train_tokenizer(captions, max_tokens=cfg.text_tokens)
    log.info("tokenizer: %d pieces, %d merges", len(tokenizer), len(tokenizer.merges))

    # 2. VQGAN: codebooks, then the decoder (each stage reseeds: its result does not depend on
    #    how many random numbers the stages before it drew)
    torch.manual_seed(cfg.seed + 1)
    codebooks, vq_config, vqgan, psnr = _vqgan_stage(cfg, device, bar)
    vocab = codebooks.vocab_size
    vqgan_done = time.perf_counter()

    # 3. transformer data
    data = _pairs(World(cfg.seed + 4, "train"), cfg, tokenizer, codebooks)

    # 4. transformer
    torch.manual_seed(cfg.seed + 4)
    bart = BartConfig(
        text_vocab_size=len(tokenizer), decoder_vocab_size=vocab + 1, image_vocab_size=vocab,
        d_model=cfg.d_model, encoder_layers=cfg.encoder_layers, decoder_layers=cfg.decoder_layers,
        heads=cfg.heads, glu_dim=cfg.glu_dim, text_tokens=cfg.text_tokens, image_tokens=vq_config.grid**2,
        start_token=vocab,
    )  # fmt: skip
    with bar(cfg.steps, "transformer") as progress:
        encoder, decoder = train_transformer(
            bart, codebooks.sizes, data, steps=cfg.steps, batch_size=cfg.batch, lr=cfg.lr,
            seed=cfg.seed, device=device, progress=progress,
        )  # fmt: skip

    transformer_done = time.perf_counter()

    # 5. write
    config = ModelConfig(bart=bart, vqgan=vq_config, name="dallebot-embedded", sampling=SAMPLING)
    save_components(Components(config, tokenizer, encoder.to("cpu"), decoder.to("cpu"), vqgan.to("cpu")), out)
    save_file(codebooks.to_tensors(), out / CODEBOOKS_FILE)
    report = {
        "wall_s": round(time.perf_counter() - started, 1),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "vqgan_bf16": bf16_autocast(device),
        "stage_wall_s": {
            "tokenizer_and_vqgan": round(vqgan_done - started, 1),
            "transformer_data_and_training": round(transformer_done - vqgan_done, 1),
        },
        "psnr_db": round(psnr, 2),
        "config": dataclasses.asdict(cfg),
    }
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _vqgan_stage(cfg: TrainConfig, device: torch.device, bar):
    """Codebooks by k-means, then the VQGAN decoder; -> codebooks, config, decoder, held-out PSNR."""
    codebook_images = _render(World(cfg.seed + 1, "train"), cfg.codebook_images)
    codebooks = vqgan_train.fit_codebooks(codebook_images, cfg.codebook_sizes)
    vq_config = VQGANConfig(
        codebook_size=codebooks.vocab_size, embed_dim=sum(cfg.code_dims), channels=cfg.vq_channels,
        res_blocks=1, attn_levels=(), grid=8, norm_groups=cfg.vq_norm_groups,
    )  # fmt: skip
    with bar(cfg.vq_steps, "vqgan") as progress:
        vqgan = vqgan_train.train_decoder(
            vq_config, cfg.code_dims, codebooks, _render(World(cfg.seed + 2, "train"), cfg.vq_images),
            steps=cfg.vq_steps, batch_size=cfg.vq_batch, lr=cfg.vq_lr, seed=cfg.seed, device=device,
            edge_weight=cfg.vq_edge_weight, bf16=bf16_autocast(device), progress=progress,
        )  # fmt: skip
    psnr = vqgan_train.psnr(vqgan, codebooks, _render(World(cfg.seed + 3, "heldout"), cfg.psnr_images))
    log.info("VQGAN PSNR on held-out images: %.2f dB", psnr)
    return codebooks, vq_config, vqgan, psnr


def retrain_vqgan(cfg: TrainConfig, base: Path, out: Path, device: torch.device) -> dict:
    """Stage 2 alone: a new VQGAN decoder for an existing model directory (same codebooks)."""
    started = time.perf_counter()
    torch.manual_seed(cfg.seed + 1)
    components = load_components(base)
    old = vqgan_train.Codebooks.from_tensors(load_file(base / CODEBOOKS_FILE))
    codebooks, vq_config, vqgan, psnr = _vqgan_stage(cfg, device, bars(False))
    pairs = zip(vars(old).values(), vars(codebooks).values(), strict=True)
    if any(not np.array_equal(a, b) for a, b in pairs):
        raise SystemExit(f"{base}: its codebooks differ from this configuration's; retrain everything")
    config = ModelConfig(bart=components.config.bart, vqgan=vq_config, name=components.config.name,
                         sampling=SAMPLING)  # fmt: skip
    parts = Components(config, components.tokenizer, components.encoder, components.decoder, vqgan.to("cpu"))
    save_components(parts, out)
    save_file(codebooks.to_tensors(), out / CODEBOOKS_FILE)
    report = json.loads((base / REPORT_FILE).read_text(encoding="utf-8"))
    report.update(
        psnr_db=round(psnr, 2), config=dataclasses.asdict(cfg),
        vqgan_retrained={
            "wall_s": round(time.perf_counter() - started, 1), "device": str(device),
            "threads": torch.get_num_threads(), "vqgan_bf16": bf16_autocast(device),
        },
    )  # fmt: skip
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _render(world: World, n: int) -> np.ndarray:
    return np.stack([render(s) for s in world.scenes(n)])


def _pairs(world: World, cfg: TrainConfig, tokenizer, codebooks: vqgan_train.Codebooks) -> TransformerData:
    """n (caption ids, image tokens) pairs; some captions get a run of <unk> at a random place."""
    rng = random.Random(cfg.seed)
    texts: list[list[int]] = []
    images: list[np.ndarray] = []
    chunk = 1000
    for start in tqdm(range(0, cfg.pairs, chunk), desc="data", unit="k pairs", file=sys.stderr):
        scenes = world.scenes(min(chunk, cfg.pairs - start))
        texts += caption_ids([s.caption for s in scenes], tokenizer, rng, cfg.unk_rate, cfg.text_tokens)
        images.append(vqgan_train.encode(np.stack([render(s) for s in scenes]), codebooks))
    return TransformerData(
        text=pad_rows(texts, tokenizer.pad), image=torch.from_numpy(np.concatenate(images))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generation.embedded.train", description="Train the embedded model from scratch."
    )
    parser.add_argument(
        "--out", type=Path, default=EMBEDDED_SHAPES_DIR,
        help="model directory to write (default: the shapes model's, generation/embedded/model)",
    )  # fmt: skip
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--tiny", action="store_true", help="toy sizes, seconds (a smoke test)")
    parser.add_argument(
        "--only-vqgan", type=Path, default=None, metavar="BASE",
        help="retrain only the VQGAN decoder of model directory BASE (same codebooks) into --out",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE",
        help="override a TrainConfig field (experiments; the defaults reproduce the committed weights)",
    )  # fmt: skip
    parser.add_argument(
        "--world", choices=["shapes", "things"], default="shapes",
        help="shapes (the `shapes` model's) or things (issue 21: emoji; resumable, stages under OUT/stages)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if args.world == "things":
        from generation.embedded.things_train import ThingsTrainConfig, train_things

        if args.out == EMBEDDED_SHAPES_DIR:
            raise SystemExit("--world things: give --out DIR (the default --out is the shapes model's)")

        things_cfg = ThingsTrainConfig.tiny() if args.tiny else ThingsTrainConfig()
        things_cfg = dataclasses.replace(things_cfg, seed=args.seed, **overrides(args.set, ThingsTrainConfig))
        report = train_things(things_cfg, args.out, device)
        print(
            f"wrote {args.out} on {device}: VQGAN PSNR {report['psnr_db']} dB, wall time {report['wall_s']} s"
        )
        return 0
    cfg = TrainConfig.tiny() if args.tiny else TrainConfig()
    cfg = dataclasses.replace(cfg, seed=args.seed, **overrides(args.set, TrainConfig))
    if args.only_vqgan:
        report = retrain_vqgan(cfg, args.only_vqgan, args.out, device)
    else:
        report = train(cfg, args.out, device)
    wall = report.get("vqgan_retrained", report)["wall_s"]
    print(f"wrote {args.out} on {device}: VQGAN PSNR {report['psnr_db']} dB, wall time {wall} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

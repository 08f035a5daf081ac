"""`dallebot generate "prompt" -o out.png`: one prompt -> one image or a grid, from the command line."""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "generate",
        help="generate an image from a text prompt",
        description="Generate an image (or a grid of images) from a text prompt.",
    )
    p.add_argument("prompt", help="the text to draw")
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        metavar="DIR",
        help="model directory: a min-dalle models_root or the project's format (default: the embedded model)",
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one, printed)")
    p.add_argument("--grid", type=int, default=1, metavar="N", help="generate N images and tile them")
    p.add_argument(
        "--top-k", type=int, default=None, help="sample among the k likeliest tokens (default: model's, 50)"
    )
    p.add_argument(
        "--temperature", type=float, default=None, help="sampling temperature (default: model's, 0.7)"
    )
    p.add_argument(
        "--cond-scale", type=float, default=None, help="guidance scale, 1 = off (default: model's, 10)"
    )
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available)")
    p.add_argument("--dtype", default=None, choices=["fp32", "bf16", "fp16"], help="default: half precision")
    p.add_argument("-o", "--output", type=Path, default=Path("out.png"), help="PNG path (default out.png)")
    p.set_defaults(func=run)


def fail(message: str) -> int:
    print(f"dallebot generate: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from generation import ModelLoadError, load_pipeline, make_grid, to_post_size
    from generation.cpu import set_generation_threads
    from generation.tokenizer import normalize

    prompt = args.prompt.strip()
    if not normalize(prompt).strip():
        return fail("the prompt is empty (after dropping non-ASCII characters); give some words to draw")
    if args.grid < 1:
        return fail("--grid must be at least 1")
    if args.temperature is not None and args.temperature <= 0:
        return fail("--temperature must be greater than 0")
    try:
        pipe = load_pipeline(args.model, device=args.device, dtype=args.dtype)
    except (ModelLoadError, ValueError) as exc:
        return fail(str(exc))
    if pipe.device.type == "cpu":
        set_generation_threads(pipe.config.bart.d_model)
    unknown = pipe.tokenize_with_unknown(prompt).unknown_words
    if unknown:
        print(f"note: not in the model's vocabulary (drawn as <unk>): {', '.join(unknown)}", file=sys.stderr)
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    with tqdm(total=pipe.config.bart.image_tokens, desc="decoding", unit="tok") as bar:
        tokens = pipe.generate_tokens(
            [prompt],
            images_per_prompt=args.grid,
            seed=seed,
            top_k=args.top_k,
            temperature=args.temperature,
            cond_scale=args.cond_scale,
            on_step=lambda _step, _tokens: bar.update(1),
        )
    images = pipe.decode_tokens(tokens)
    image = make_grid([to_post_size(image) for image in images])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.output)
    print(f"wrote {args.output} ({len(images)} image(s), seed {seed})")
    return 0

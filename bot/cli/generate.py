"""`dallebot generate "prompt" -o out.png`: one prompt -> one image or a grid, from the command line."""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

from bot.cli import number
from generation.config import PRECISIONS, ModelConfig, SamplingConfig
from generation.embedded import DEFAULT_EMBEDDED, DEFAULT_MODEL_DIR

SEED_LIMIT = 2**32  # the bot's own limit (bot/validation.py): seeds 0 … 2**32 - 1
MAX_GRID = 16
MAX_TOP_K = 16384  # the image vocabulary of every DALL·E Mini model


def model_defaults() -> dict[str, SamplingConfig]:
    """Each model's own sampling defaults, for --help: the default embedded model's from its config.json."""
    defaults = {"DALL·E Mini and Mega": SamplingConfig()}
    try:
        config = DEFAULT_MODEL_DIR / "config.json"
        embedded = ModelConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))).sampling
    except (OSError, ValueError):  # not trained yet: --help still works
        return defaults
    return {"the embedded model": embedded, **defaults}


def _default_help(defaults: dict[str, SamplingConfig], option: str) -> str:
    values = ", ".join(f"{getattr(sampling, option):g} for {name}" for name, sampling in defaults.items())
    return f"(default: the model's own: {values})"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "generate",
        help="generate an image from a text prompt",
        description="Generate an image (or a grid of images) from a text prompt.",
    )
    p.add_argument("prompt", help="the text to draw")
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME|DIR",
        help="a downloaded model (mini, mega, dalle-mini, dalle-mega, owner/name: see `dallebot models`), "
        "an embedded one (things: everyday things and shapes; shapes: coloured shapes only) or a model "
        f"directory: a min-dalle models_root or the project's format (default: {DEFAULT_EMBEDDED})",
    )
    p.add_argument(
        "--seed",
        type=number(int, 0, SEED_LIMIT - 1),
        default=None,
        help=f"random seed, 0 to {SEED_LIMIT - 1} (default: a fresh one, printed)",
    )
    p.add_argument(
        "--grid", type=number(int, 1, MAX_GRID), default=1, metavar="N", help="generate N images, tiled"
    )
    defaults = model_defaults()
    p.add_argument(
        "--top-k",
        type=number(int, 1, MAX_TOP_K),
        default=None,
        help=f"sample among the k likeliest tokens {_default_help(defaults, 'top_k')}",
    )
    p.add_argument(
        "--temperature",
        type=number(float, 0, None, low_open=True),
        default=None,
        help=f"sampling temperature {_default_help(defaults, 'temperature')}",
    )
    p.add_argument(
        "--cond-scale",
        type=number(float, 0, None),
        default=None,
        help=f"guidance scale, 1 = off {_default_help(defaults, 'cond_scale')}",
    )
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available)")
    p.add_argument(
        "--dtype",
        default=None,
        choices=PRECISIONS,
        help="default: half precision (fp32 for the embedded models on a CPU); int8: weight-only "
        "int8 decoder matrices, quantised at load; int8-dynamic (x86 CPU): the same weights with "
        "activations rounded to 8 bits too, faster, less exact",
    )
    p.add_argument("-o", "--output", type=Path, default=Path("out.png"), help="PNG path (default out.png)")
    p.set_defaults(func=run)


def fail(message: str) -> int:
    print(f"dallebot generate: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bot.vocabulary import ignored_note, not_understood
    from generation import ModelLoadError, load_pipeline, make_grid, to_post_size
    from generation.tokenizer import normalize
    from generation.understanding import PromptReader

    prompt = args.prompt.strip()
    if not normalize(prompt).strip():
        return fail("the prompt is empty (after dropping non-ASCII characters); give some words to draw")
    try:
        pipe = load_pipeline(args.model, device=args.device, dtype=args.dtype)
    except (ModelLoadError, ValueError) as exc:
        return fail(str(exc))
    reader = PromptReader.of(pipe.tokenizer, pipe.config.name)
    understanding = reader.read(prompt)
    if understanding.nothing_understood:  # the bot refuses these too: the picture would ignore the prompt
        return fail(not_understood(understanding, reader.repertoire, operator=True))
    note = ignored_note(understanding.ignored)
    if note:
        print(f"note: {note}", file=sys.stderr)
    pipe.use_cpu_threads()
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    with tqdm(total=pipe.config.bart.image_tokens, desc="decoding", unit="tok") as bar:

        def advance(step: int, _tokens: Any) -> None:
            bar.update(step - bar.n)

        tokens = pipe.generate_tokens(
            [prompt],
            images_per_prompt=args.grid,
            seed=seed,
            top_k=args.top_k,
            temperature=args.temperature,
            cond_scale=args.cond_scale,
            on_step=advance,
        )
    images = pipe.decode_tokens(tokens)
    image = make_grid([to_post_size(image) for image in images])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.output)
    print(f"wrote {args.output} ({len(images)} image(s), seed {seed})")
    return 0

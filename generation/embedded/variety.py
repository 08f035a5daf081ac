"""How different the pictures of one prompt are, and what that costs in fidelity (issue 20).

A grid of N images of one prompt should show N different pictures. The embedded model's world is
nearly deterministic per caption, and its single-image defaults (temperature 0.2) are chosen for
fidelity, so at those settings a grid repeats itself. This measures, per sampling setting, on
captions drawn from the world: `distinct` — the mean number of different compositions among the N
images of a prompt, as the parser reads them (shapes, colours, sizes, background, and positions to
the token patch), so a few changed pixels do not count as a different picture — and `fidelity`,
the share of all those images that match every claim of their caption (as `eval fidelity` judges).

    python -m generation.embedded.variety --seed 9001 --temperatures 0.2 0.5 0.8

Settings are chosen on validation seeds (9001/9002, as the model's defaults were); the figures
stated for the chosen one come from `dallebot eval fidelity --images 4`, on the eval's own seeds.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from PIL import Image

from generation.embedded.parser import ParsedImage, check, parse
from generation.embedded.world import Scene, World

PATCH = 8  # pixels of the 64×64 image per token: positions are compared at this resolution


def composition(parsed: ParsedImage) -> tuple[Any, ...]:
    """What a picture shows, as a hashable key (positions rounded to the token patch)."""
    objects = sorted(
        (o.shape, o.colour, o.size, round(o.x / PATCH), round(o.y / PATCH)) for o in parsed.objects
    )
    return (parsed.background, tuple(objects))


def grid_figures(
    pipeline: Any, scenes: list[Scene], *, seed: int, options: dict[str, Any], images: int = 4, batch: int = 8
) -> dict[str, float]:
    """`distinct` compositions per prompt (1..images) and `fidelity` over every image of the grids."""
    right, distinct = 0, 0
    for start in range(0, len(scenes), batch):
        chunk = scenes[start : start + batch]
        seeds = [seed + start + i for i in range(len(chunk))]
        pictures: list[Image.Image] = pipeline(
            [s.caption for s in chunk], images_per_prompt=images, seed=seeds, **options
        )
        for i, scene in enumerate(chunk):
            parsed = [parse(p) for p in pictures[i * images : (i + 1) * images]]
            right += sum(not check(p, scene.claims) for p in parsed)
            distinct += len({composition(p) for p in parsed})
    return {"distinct": distinct / len(scenes), "fidelity": right / (len(scenes) * images)}


def main(argv: list[str] | None = None) -> int:
    """A sweep over temperatures on validation captions; the last line is one JSON object."""
    import torch

    from generation import load_pipeline

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seed", type=int, default=9001, help="held-out world seed; in-distribution uses seed+1"
    )
    parser.add_argument("--captions", type=int, default=40, help="prompts per split")
    parser.add_argument("--images", type=int, default=4, help="images per prompt")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.2, 0.5, 0.8])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--model", default="shapes", help="an embedded model's name or a model directory (default: shapes, "
        "the model whose grid_temperature this study chose)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    pipeline = load_pipeline(args.model, device="cpu")
    base = pipeline.config.sampling.options()  # the loaded model's own defaults
    heldout = World(args.seed, "heldout").scenes(args.captions)
    in_dist = World(args.seed + 1, "train").scenes(args.captions)
    rows = []
    with torch.inference_mode():
        for temperature in args.temperatures:
            options = {**base, "temperature": temperature}
            held = grid_figures(pipeline, heldout, seed=args.seed, options=options, images=args.images)
            ind = grid_figures(pipeline, in_dist, seed=args.seed, options=options, images=args.images)
            row = {"temperature": temperature, "heldout": held, "in_distribution": ind}
            print(
                f"T {temperature:.2f}: distinct {held['distinct']:.2f} / {ind['distinct']:.2f} "
                f"of {args.images}, "
                f"fidelity {held['fidelity']:.1%} / {ind['fidelity']:.1%} (held-out / in-distribution)",
                flush=True,
            )
            rows.append(row)
    print(json.dumps({"seed": args.seed, "captions": args.captions, "images": args.images, "sweep": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

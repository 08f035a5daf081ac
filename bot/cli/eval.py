"""`dallebot eval …`: evaluation commands, one subcommand per measured component.

Each subcommand is a few lines here; the work lives in the component's own package, imported
only when the subcommand runs.
  eval safety    — bot.safety.eval (prompt recall / false positives, gate speeds)
  eval fidelity  — generation.embedded.eval (prompt fidelity held-out / in-distribution, CPU s/image, PSNR)
  eval embedded  — generation.embedded.eval_embedded (objects, composition, natural phrasing, detector)
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from bot.cli import number
from generation.config import PRECISIONS

COUNT = number(int, 1, None)  # captions, scenes, images, threads: at least one


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="measure a component; the last line printed is JSON")
    evals = parser.add_subparsers(dest="eval_command", metavar="WHAT", required=True)

    # -- eval safety ----------------------------------------------------------------------------
    safety = evals.add_parser("safety", help="prompt gate recall/false positives and gate speeds")
    safety.add_argument("--images", type=Path, help="also score the PNG files in this folder")
    safety.add_argument(
        "--config", type=Path, help="use this config file's safety: section (default: the built-in defaults)"
    )
    safety.add_argument(
        "--show-held-out-misses",
        action="store_true",
        help="also print the held-out set's misses (whoever reads them can no longer judge a gate with it)",
    )
    safety.set_defaults(func=_safety)

    # -- eval fidelity --------------------------------------------------------------------------
    fid = evals.add_parser("fidelity", help="embedded model: prompt fidelity, CPU speed, VQGAN PSNR")
    fid.add_argument(
        "--model", default=None, metavar="MODEL",
        help="a model directory or an embedded model's name, `things` or `shapes`; default: `things`",
    )  # fmt: skip
    fid.add_argument("--captions", type=COUNT, default=100, help="captions per split (default 100)")
    fid.add_argument("--device", default=None, help="cpu or cuda for fidelity (default: cuda if any)")
    fid.add_argument("--threads", type=COUNT, default=None, help="torch CPU threads (default: torch's)")
    fid.add_argument(
        "--dtype",
        default=None,
        choices=PRECISIONS,
        help="engine precision (default: the engine's, fp32 for this small model on a CPU)",
    )
    fid.add_argument(
        "--images",
        type=COUNT,
        default=1,
        help="also judge grids of this many images per prompt: different pictures and fidelity, at the "
        "model's grid defaults and at its single-image ones (default 1: no grids)",
    )
    fid.set_defaults(func=_fidelity)

    # -- eval embedded --------------------------------------------------------------------------
    emb = evals.add_parser(
        "embedded", help="embedded model: object accuracy, composition, natural phrasing, detector, speed"
    )
    emb.add_argument(
        "--model", default=None, metavar="MODEL",
        help="a model directory or an embedded model's name, `things` or `shapes`; default: `things`",
    )  # fmt: skip
    emb.add_argument("--captions", type=COUNT, default=100, help="held-out captions (default 100)")
    emb.add_argument("--device", default=None, help="cpu or cuda (default: cuda if any)")
    emb.add_argument("--threads", type=COUNT, default=None, help="torch CPU threads (default: torch's)")
    emb.add_argument("--dtype", default=None, choices=PRECISIONS, help="engine precision")
    emb.add_argument(
        "--detector-scenes", type=COUNT, default=1000, help="scenes to check the detector on (1000)"
    )
    emb.add_argument(
        "--sheet", type=Path, default=None, metavar="PNG",
        help="instead: draw the first 24 held-out prompts into this PNG and list what the judge sees",
    )  # fmt: skip
    emb.set_defaults(func=_embedded)


def _fail(what: str, message: str) -> int:
    print(f"dallebot eval {what}: error: {message}", file=sys.stderr)
    return 2


def _guarded(what: str, run: Callable[[], int]) -> int:
    """Run an evaluation; a model that cannot be found or loaded, or a bad device, is a clear error
    (with -v, the traceback too)."""
    from generation import ModelLoadError

    try:
        return run()
    except (ModelLoadError, ValueError) as exc:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            raise
        return _fail(what, str(exc))


def _fidelity(args: argparse.Namespace) -> int:
    from generation.embedded.eval import main

    return _guarded("fidelity", lambda: main(
        args.model,
        captions=args.captions,
        device=args.device,
        threads=args.threads,
        dtype=args.dtype,
        images=args.images,
    ))  # fmt: skip


def _embedded(args: argparse.Namespace) -> int:
    from generation.embedded.eval_embedded import main

    if args.sheet is not None and not args.sheet.parent.is_dir():
        return _fail("embedded", f"--sheet {args.sheet}: folder {args.sheet.parent} does not exist")
    return _guarded("embedded", lambda: main(
        args.model,
        captions=args.captions,
        device=args.device,
        threads=args.threads,
        dtype=args.dtype,
        detector_scenes=args.detector_scenes,
        sheet=args.sheet,
    ))  # fmt: skip


def _safety(args: argparse.Namespace) -> int:
    from bot.safety.eval import run, settings_from_file

    if args.images is not None and not args.images.is_dir():
        return _fail("safety", f"--images {args.images}: not a folder of PNG files")
    if args.config is not None and not args.config.is_file():
        return _fail("safety", f"--config {args.config}: no such file")
    settings = settings_from_file(args.config) if args.config else None
    run(args.images, settings=settings, show_held_out_misses=args.show_held_out_misses)
    return 0

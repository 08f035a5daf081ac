"""`dallebot eval …`: evaluation commands, one subcommand per measured component.

Each subcommand is a few lines here; the work lives in the component's own package, imported
only when the subcommand runs.
  eval safety    — bot.safety.eval (prompt recall / false positives, gate speeds)
  eval fidelity  — reserved for the embedded model's evaluation (issue 3)
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="measure a component; the last line printed is JSON")
    evals = parser.add_subparsers(dest="eval_command", metavar="WHAT", required=True)

    # -- eval safety ----------------------------------------------------------------------------
    safety = evals.add_parser("safety", help="prompt gate recall/false positives and gate speeds")
    safety.add_argument("--images", type=Path, help="also score the PNG files in this folder")
    safety.add_argument(
        "--config", type=Path, help="use this config file's safety: section (default: the built-in defaults)"
    )
    safety.set_defaults(func=_safety)

    # -- eval fidelity: add its parser here ------------------------------------------------------


def _safety(args: argparse.Namespace) -> int:
    from bot.safety.eval import run, settings_from_file

    run(args.images, settings=settings_from_file(args.config) if args.config else None)
    return 0

"""The `dallebot` command line: one small module per group of subcommands.

Each module in COMMAND_MODULES exposes `register(subparsers)`, which adds its subcommands and
sets `func` on them. Modules are imported only when the CLI starts, so importing `bot` stays
cheap and free of side effects.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import sys
from collections.abc import Callable

COMMAND_MODULES: tuple[str, ...] = (
    "bot.cli.generate",  # dallebot generate
    "bot.cli.run",  # dallebot run | worker | check-config
    "bot.cli.daily",  # dallebot daily [--now]
    "bot.cli.eval",  # dallebot eval safety | fidelity | embedded
    "bot.cli.db",  # dallebot db upgrade | queue
    "bot.cli.mod",  # dallebot mod hide
    "bot.cli.models",  # dallebot models download | list | remove
)


def number(kind: type, low: float, high: float | None, *, low_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite `kind` in [low, high] (low excluded when `low_open`), else a clear error."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            what = "whole number" if kind is int else "number"
            raise argparse.ArgumentTypeError(f"{text!r} is not a {what}") from None
        too_low = value <= low if low_open else value < low
        if not math.isfinite(value) or too_low or (high is not None and value > high):
            what = "a whole number" if kind is int else "a finite number"
            bound = f"greater than {kind(low)}" if low_open else f"from {kind(low)}"
            upper = f" to {kind(high)}" if high is not None else ""
            raise argparse.ArgumentTypeError(f"{text} is out of range: use {what} {bound}{upper}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dallebot", description="A DALL·E Mini–style image bot.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # a usage error (2, its message printed) or --help (0): a code, no traceback
        return int(stop.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args) or 0)

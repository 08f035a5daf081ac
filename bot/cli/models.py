"""`dallebot models download | list | remove`: real DALL·E Mini / Mega weights from the Hugging Face Hub."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

NAMES_HELP = (
    "mini or mega (min-dalle's PyTorch files), dalle-mini or dalle-mega (the authors' Flax "
    "checkpoints, converted once), or any Hub repo id owner/name holding a layout dallebot loads"
)


def register(subparsers: Any) -> None:
    models = subparsers.add_parser(
        "models",
        help="download, list and remove real model weights (Hugging Face Hub)",
        description="Real DALL·E Mini / Mega weights, fetched through huggingface_hub and its cache "
        "(HF_ENDPOINT, HF_HOME, HF_TOKEN and HF_HUB_OFFLINE work as in every Hugging Face tool). "
        "A downloaded model is used by name: `dallebot generate … --model mini`, "
        "`generation.model: mini` in config.yaml.",
    )
    sub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    download = sub.add_parser("download", help="fetch, verify (SHA-256), convert if needed, load once")
    download.add_argument("name", metavar="NAME", help=NAMES_HELP)
    download.add_argument(
        "--revision", default=None, help="branch, tag or commit of the repo (default: main)"
    )
    download.add_argument(
        "--force", action="store_true", help="download and register again even if up to date"
    )
    download.set_defaults(func=download_command)

    listing = sub.add_parser("list", help="the downloaded models: name, source, revision, size, path")
    listing.set_defaults(func=list_command)

    remove = sub.add_parser("remove", help="unregister a model and delete its files from the cache")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(func=remove_command)


def _fail(action: str, message: str, code: int = 1) -> int:
    print(f"dallebot models {action}: error: {message}", file=sys.stderr)
    return code


def download_command(args: argparse.Namespace) -> int:
    from generation.hub.download import download
    from generation.hub.errors import DownloadError
    from generation.hub.registry import RegistryError, is_model_name

    if not args.verbose:  # huggingface_hub's HTTP client logs every request at INFO
        for name in ("httpx", "httpx2"):
            logging.getLogger(name).setLevel(logging.WARNING)
    if not is_model_name(args.name):
        return _fail("download", f"'{args.name}' is not a model name: {NAMES_HELP}", 2)
    try:
        download(args.name, args.revision, say=lambda line: print(line, flush=True), force=args.force)
    except (DownloadError, RegistryError) as exc:
        return _fail("download", str(exc))
    except KeyboardInterrupt:
        return _fail("download", "interrupted: nothing new was registered; run the command again", 130)
    return 0


def list_command(args: argparse.Namespace) -> int:
    from generation.hub.errors import human
    from generation.hub.registry import HubSettings, RegistryError, entries, leftovers

    settings = HubSettings.from_env()
    try:
        rows = [
            (e.name, e.manifest.get("source", "?"), f"{e.manifest.get('revision', '?')} "
             f"({str(e.manifest.get('commit', ''))[:12]})", human(e.size), str(e.model_dir),
             "; ".join(e.problems()[:2]))
            for e in entries(settings)
        ]  # fmt: skip
    except RegistryError as exc:
        return _fail("list", str(exc))
    if not rows:
        print(f"no models downloaded (in {settings.models_dir}); try `dallebot models download mini`")
    else:
        header = ("NAME", "SOURCE", "REVISION", "SIZE", "PATH")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
        for row in [(*header, ""), *rows]:
            line = "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
            print(line + (f"  DAMAGED: {row[5]} (download it again)" if row[5] else ""))
    for path in leftovers(settings):
        print(f"interrupted download left in {path}: the next `dallebot models download` of it removes it")
    return 0


def remove_command(args: argparse.Namespace) -> int:
    from generation.hub.errors import human
    from generation.hub.registry import HubSettings, RegistryError, remove

    try:
        freed = remove(HubSettings.from_env(), args.name)
    except RegistryError as exc:
        return _fail("remove", str(exc))
    print(f"removed {args.name} ({human(freed)} freed)")
    return 0

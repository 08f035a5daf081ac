"""Which Hub files make a model: the four catalog names, and the layouts an `owner/name` repo may hold.

- `mini` / `mega`: min-dalle's PyTorch files in `kuprel/min-dalle` (Mini's names end in `_mini`),
  only that size's five files.
- `dalle-mini` / `dalle-mega`: the authors' Flax checkpoints plus the VQGAN repo, converted into
  the project's own format on download.
- any other repo: the project's own format, min-dalle's flat names (one size), a min-dalle
  `models_root`, or a Flax DALL·E-Bart checkpoint (converted with the catalog's VQGAN).

A layout is told apart by the weight files present, never by `config.json` alone
(`kuprel/min-dalle` has a placeholder `config.json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MIN_DALLE_REPO = "kuprel/min-dalle"
VQGAN_REPO = "dalle-mini/vqgan_imagenet_f16_16384"
MINI_FILES = ("encoder_mini.pt", "decoder_mini.pt", "vocab_mini.json", "merges_mini.txt", "detoker.pt")
MEGA_FILES = ("encoder.pt", "decoder.pt", "vocab.json", "merges.txt", "detoker.pt")
OWN_FILES = ("config.json", "model.safetensors", "vocab.json", "merges.txt")
FLAX_BART_FILES = ("flax_model.msgpack", "config.json", "vocab.json", "merges.txt")
FLAX_VQGAN_FILES = ("flax_model.msgpack", "config.json")


class Layout(StrEnum):
    """How a repo's files become a loadable model directory."""

    MIN_DALLE = "min-dalle"  # linked into the model folder under their repo paths
    OWN = "own"  # linked likewise
    FLAX = "flax"  # converted into the project's own format


class LayoutError(Exception):
    """A repo holds nothing dallebot can load (the message lists what it does hold)."""


@dataclass(frozen=True)
class Plan:
    """What to fetch from where: the model repo's files and, for Flax, the VQGAN repo's."""

    layout: Layout
    files: tuple[str, ...]
    vqgan_repo: str | None = None
    vqgan_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """A catalog name: its repo and, where the repo holds several models, the files to take."""

    name: str
    repo: str
    plan: Plan | None  # None: read the layout from the repo's file list
    description: str


CATALOG: dict[str, Spec] = {
    "mini": Spec(
        "mini", MIN_DALLE_REPO, Plan(Layout.MIN_DALLE, MINI_FILES), "DALL·E Mini, min-dalle's fp16 files"
    ),
    "mega": Spec(
        "mega", MIN_DALLE_REPO, Plan(Layout.MIN_DALLE, MEGA_FILES), "DALL·E Mega, min-dalle's fp16 files"
    ),
    "dalle-mini": Spec(
        "dalle-mini",
        "dalle-mini/dalle-mini",
        Plan(Layout.FLAX, FLAX_BART_FILES, VQGAN_REPO, FLAX_VQGAN_FILES),
        "DALL·E Mini, the authors' Flax checkpoint, converted",
    ),
    "dalle-mega": Spec(
        "dalle-mega",
        "dalle-mini/dalle-mega",
        Plan(Layout.FLAX, FLAX_BART_FILES, VQGAN_REPO, FLAX_VQGAN_FILES),
        "DALL·E Mega, the authors' Flax checkpoint, converted",
    ),
}


def spec_for(name: str) -> Spec:
    """The catalog entry for a name, or a repo-id spec whose layout is read from the repo."""
    return CATALOG.get(name) or Spec(name, name, None, f"Hub repo {name}")


def detect_layout(repo: str, files: set[str]) -> Plan:
    """The plan for a repo holding `files` (its whole file list)."""
    if set(OWN_FILES) <= files:
        return Plan(Layout.OWN, OWN_FILES)
    mini, mega = set(MINI_FILES) <= files, set(MEGA_FILES) <= files
    if mini and mega:
        raise LayoutError(
            f"{repo} holds both DALL·E Mini and Mega files: download `mini` or `mega` "
            f"(for {MIN_DALLE_REPO}), or put one set in a repo of its own"
        )
    if mini or mega:
        return Plan(Layout.MIN_DALLE, MINI_FILES if mini else MEGA_FILES)
    roots = [
        (
            *(f"{folder}/{n}" for n in ("encoder.pt", "decoder.pt", "vocab.json", "merges.txt")),
            "vqgan/detoker.pt",
        )
        for folder in ("dalle_bart_mini", "dalle_bart_mega")
    ]
    found = [names for names in roots if set(names) <= files]
    if len(found) == 1:
        return Plan(Layout.MIN_DALLE, found[0])
    if found:
        raise LayoutError(
            f"{repo} holds both dalle_bart_mini/ and dalle_bart_mega/: put one in a repo of its own"
        )
    if set(FLAX_BART_FILES) <= files:
        return Plan(Layout.FLAX, FLAX_BART_FILES, VQGAN_REPO, FLAX_VQGAN_FILES)
    shown = ", ".join(sorted(files)[:8]) + (" …" if len(files) > 8 else "")
    raise LayoutError(
        f"{repo} holds no model layout dallebot loads (files: {shown or 'none'}). Expected the project's "
        f"format ({' + '.join(OWN_FILES)}), min-dalle's files ({', '.join(MINI_FILES)} or the Mega names "
        f"without _mini), a min-dalle models_root, or a Flax DALL·E-Bart checkpoint "
        f"({', '.join(FLAX_BART_FILES)})"
    )

"""The project's own small models, shipped in the package, and everything that makes them.

Where the two shipped models live, by the name `generation.model` / `--model` gives them: the
things model (issue 21: everyday things and the shapes world) and the first one, coloured shapes
only; DEFAULT_EMBEDDED is the one that loads when none is named. Kept here, free of torch, so the
CLI can read the default model's config.json for `--help` without loading the engine;
`generation.loading` resolves these names.
"""

from __future__ import annotations

from pathlib import Path

EMBEDDED_THINGS_DIR = Path(__file__).parent / "things_model"
EMBEDDED_SHAPES_DIR = Path(__file__).parent / "model"
EMBEDDED_NAMES = {"things": EMBEDDED_THINGS_DIR, "shapes": EMBEDDED_SHAPES_DIR}
DEFAULT_EMBEDDED = "things"  # what nothing configured loads (generation.model: null, no --model)
DEFAULT_MODEL_DIR = EMBEDDED_NAMES[DEFAULT_EMBEDDED]

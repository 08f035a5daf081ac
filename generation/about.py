"""What a configured model is, for people: its name, its weights' size, and what it can draw.

Read from the model's files alone (config.json, the weights' sizes on disk, and for the embedded
model its world definition), never by loading the weights, so a front end that runs no worker
(`dallebot run --workers 0`) can say it too.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

from generation.understanding import EMBEDDED_NAME, THINGS_NAME, Repertoire, repertoire_of

INSTALL_COMMAND = "dallebot models download mini"
_WEIGHT_FILES = ("model.safetensors", "*.pt")  # what generation loads (not vq_encoder: training only)
_CONFIG_NAMES = {"things": THINGS_NAME, "shapes": EMBEDDED_NAME}  # an embedded model's setting -> its name


@dataclass(frozen=True)
class ModelFacts:
    name: str  # config.json's name, else the configured name or folder
    setting: str | None  # generation.model as configured (None: the embedded model)
    weight_bytes: int | None  # None: the model's files could not be found
    repertoire: Repertoire | None  # a closed world (an embedded model); None: open vocabulary
    problem: str | None = None  # why the files could not be read

    @property
    def embedded(self) -> bool:
        return self.name in (EMBEDDED_NAME, THINGS_NAME)


def describe_model(setting: str | Path | None) -> ModelFacts:
    """The facts about generation.model (None: the embedded model); a missing model is a fact too."""
    from generation.loading import CONFIG_FILE, DEFAULT_EMBEDDED, ModelLoadError, model_directory

    shown = None if setting is None else str(setting)
    try:
        directory = model_directory(setting)
    except ModelLoadError as error:
        return ModelFacts(shown or _CONFIG_NAMES[DEFAULT_EMBEDDED], shown, None, None, str(error))
    name = shown or directory.name
    config = directory / CONFIG_FILE
    if config.is_file():
        # min-dalle's placeholder or a broken file: the folder's name stays
        with contextlib.suppress(ValueError, AttributeError):
            name = json.loads(config.read_text(encoding="utf-8")).get("name") or name
    weights = {path for pattern in _WEIGHT_FILES for path in directory.glob(pattern)}
    size = sum(path.stat().st_size for path in weights)
    return ModelFacts(name, shown, size, repertoire_of(name))


def megabytes(size: int) -> str:
    """13517556 -> "13.5 MB"; 1_060_000_000 -> "1.06 GB"."""
    if size >= 10**9:
        return f"{size / 10**9:.2f} GB"
    return f"{size / 10**6:.1f} MB"

"""The generation engine: DALL·E Mini / Mega style text -> image.

Public API: `load_pipeline(path=None, device=None, dtype=None) -> Pipeline`, `Pipeline`,
`make_grid`, `to_post_size`, `ModelLoadError`. They are imported lazily so that `import generation.config`
(which other packages read) does not pull in torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generation.images import make_grid, to_post_size
    from generation.loading import ModelLoadError
    from generation.pipeline import Pipeline, load_pipeline

__all__ = ["ModelLoadError", "Pipeline", "load_pipeline", "make_grid", "to_post_size"]

_HOMES = {
    "load_pipeline": "generation.pipeline",
    "Pipeline": "generation.pipeline",
    "make_grid": "generation.images",
    "to_post_size": "generation.images",
    "ModelLoadError": "generation.loading",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'generation' has no attribute {name!r}")

"""Downloaded models: names (`mini`, `mega`, `dalle-mini`, `dalle-mega`, `owner/name`) -> directories.

- `registry`: where downloaded models live, their manifests, name resolution, list and remove.
  It imports neither torch nor huggingface_hub, so `dallebot run` can check a name at once.
- `catalog`: which Hub files make each named model, and which layouts an `owner/name` repo may hold.
- `download`: fetch through huggingface_hub's cache, verify every file's hash, convert Flax
  checkpoints, load once, then register (the manifest is written last, the entry appears by an
  atomic rename).
"""

from __future__ import annotations

from generation.hub.registry import (
    HubSettings,
    ModelNotDownloaded,
    RegistryError,
    is_model_name,
    resolve_model,
)

__all__ = ["HubSettings", "ModelNotDownloaded", "RegistryError", "is_model_name", "resolve_model"]

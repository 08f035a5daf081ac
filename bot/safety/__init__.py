"""Safety gates: a prompt filter run before queueing and an image filter run before posting.

    from bot.safety import SafetyFilter, SafetySettings, SafetyUnavailable, Verdict

Names are loaded on first use, so `bot.config` can import the settings model without pulling in
the filter's dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SafetySettings": "bot.safety.settings",
    "SafetyFilter": "bot.safety.filter",
    "SafetyUnavailable": "bot.safety.filter",
    "Verdict": "bot.safety.filter",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bot.safety' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)

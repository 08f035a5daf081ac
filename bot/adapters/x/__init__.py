"""The X adapter: poll mentions, reply with images, post the daily prompt.

`build_adapter(settings, env)` is what the composition root calls; it returns None when `x:` is
disabled or a key is missing (`missing_reason` says which, for `dallebot check-config`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.config_x import XCredentials, XSettings

if TYPE_CHECKING:
    from bot.adapters.x.adapter import XAdapter
    from bot.config import Settings

log = logging.getLogger(__name__)

__all__ = ["XCredentials", "XSettings", "build_adapter", "missing_reason"]


def missing_reason(settings: Settings, env: Mapping[str, str]) -> str | None:
    """Why the X adapter will not run, or None when it will."""
    if not settings.x.enabled:
        return "x.enabled is false in config.yaml"
    missing = XCredentials.missing(env)
    if missing:
        return f"x.enabled is true but {', '.join(missing)} not set in the environment"
    return None


def build_adapter(settings: Settings, env: Mapping[str, str]) -> XAdapter | None:
    """The X adapter, or None when disabled or a key is missing (nothing touches the network here)."""
    reason = missing_reason(settings, env)
    if reason is not None:
        if settings.x.enabled:
            log.warning("x: not starting: %s", reason)
        return None
    from bot.adapters.x.adapter import XAdapter  # tweepy is imported only when X is used
    from bot.adapters.x.api import XApi

    credentials = XCredentials.from_env(env)
    assert credentials is not None  # missing_reason checked every key
    return XAdapter(XApi(credentials, timeout=settings.x.request_timeout_seconds), settings.x)

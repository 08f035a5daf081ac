"""The local web playground adapter (needs no account or secret)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.adapters.web.adapter import WebAdapter

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.metrics import Metrics

REQUIRED_ENV: tuple[str, ...] = ()


def build_adapter(
    settings: Settings, env: Mapping[str, str], *, metrics: Metrics | None = None
) -> WebAdapter | None:
    """The playground, unless `web.enabled` is false."""
    if not settings.web.enabled:
        return None
    from bot.adapters.web.admin import admin_token
    from bot.config import ConfigError

    try:
        token = admin_token(env)  # optional: the operator who may hide gallery images from the page
    except ValueError as err:
        raise ConfigError(str(err)) from None
    return WebAdapter(settings.web, metrics=metrics, admin_token=token)


__all__ = ["REQUIRED_ENV", "WebAdapter", "build_adapter"]

"""Discord adapter: `/imagine`, mentions, persistent buttons and moderator commands (discord.py 2.7).

Importing this package is cheap (discord.py is imported only when an adapter is built), so the
core's config can nest `DiscordSettings` without pulling the client in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter
    from bot.config import Settings

TOKEN_ENV = "DISCORD_TOKEN"  # noqa: S105 — the variable's name, not a secret
REQUIRED_ENV: tuple[str, ...] = (TOKEN_ENV,)


def build_adapter(settings: Settings, env: Mapping[str, str]) -> DiscordAdapter | None:
    """The Discord adapter, or None when `discord.enabled` is false; connects nothing (`start` does)."""
    from bot.adapters.base import MissingSecret
    from bot.domain import Platform

    if not settings.discord.enabled:
        return None
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise MissingSecret(Platform.DISCORD, TOKEN_ENV)
    from bot.adapters.discord.adapter import DiscordAdapter

    return DiscordAdapter(settings.discord, settings.generation.limits, token)

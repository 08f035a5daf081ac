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
MAX_STRING_OPTION = 6000  # Discord's largest max_length for a slash command's string option
MAX_NUMBER_OPTION = 2**53  # Discord's bound on a number option's min_value / max_value


def limit_errors(settings: Settings) -> list[str]:
    """The configured limits `/imagine` cannot carry (Discord refuses to register the command)."""
    limits = settings.generation.limits
    errors = []
    if limits.max_prompt_chars > MAX_STRING_OPTION:
        errors.append(
            f"generation.limits.max_prompt_chars: {limits.max_prompt_chars} is above Discord's maximum "
            f"for a slash command option ({MAX_STRING_OPTION}); lower it, or turn discord off"
        )
    for key in ("max_images", "max_temperature", "max_cond_scale"):
        if getattr(limits, key) > MAX_NUMBER_OPTION:
            errors.append(f"generation.limits.{key}: above Discord's option maximum ({MAX_NUMBER_OPTION})")
    return errors


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

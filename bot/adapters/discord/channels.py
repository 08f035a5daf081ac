"""Per-channel settings moderators set with `/mod channel`, persisted through the service.

Storage has no table of its own for them: each channel's settings are one JSON value under the
key `channel:<id>` in storage's per-platform key/value cursor table. Read-through cache, since
every request asks; writes go straight to the store.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

from bot.domain import Platform

if TYPE_CHECKING:
    from bot.adapters.discord.ports import DiscordService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelSettings:
    enabled: bool | None = None  # None: the default (discord.require_channel_enabled decides)
    nsfw_images: bool = False  # flagged images may be posted behind a spoiler (NSFW channels only)


class ChannelSettingsStore:
    """Get and change one channel's settings; unknown channels have the defaults."""

    def __init__(self, service: DiscordService) -> None:
        self._service = service
        self._cache: dict[int, ChannelSettings] = {}

    @staticmethod
    def _key(channel_id: int) -> str:
        return f"channel:{channel_id}"

    async def get(self, channel_id: int) -> ChannelSettings:
        cached = self._cache.get(channel_id)
        if cached is not None:
            return cached
        raw = await self._service.get_cursor(Platform.DISCORD, self._key(channel_id))
        settings = ChannelSettings()
        if raw:
            try:
                settings = ChannelSettings(**json.loads(raw))
            except (ValueError, TypeError):
                log.warning("stored settings for channel %s are unreadable; using the defaults", channel_id)
        self._cache[channel_id] = settings
        return settings

    async def update(self, channel_id: int, **changes: bool | None) -> ChannelSettings:
        unknown = set(changes) - {"enabled", "nsfw_images"}
        if unknown:
            raise TypeError(f"unknown channel settings: {sorted(unknown)}")
        current = await self.get(channel_id)
        nsfw_images = changes.get("nsfw_images", current.nsfw_images)
        settings = replace(
            current, enabled=changes.get("enabled", current.enabled), nsfw_images=bool(nsfw_images)
        )
        await self._service.set_cursor(Platform.DISCORD, self._key(channel_id), json.dumps(asdict(settings)))
        self._cache[channel_id] = settings
        return settings

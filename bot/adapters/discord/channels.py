"""Per-channel settings moderators set with `/mod channel`, persisted through the service.

Storage keeps them in their own table (`storage.ChannelSettings`, revision 0004). Read-through
cache, since every request asks; writes go straight to the store.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.domain import Platform
from storage import ChannelSettings

if TYPE_CHECKING:
    from bot.adapters.discord.ports import DiscordService

__all__ = ["ChannelSettings", "ChannelSettingsStore"]


class ChannelSettingsStore:
    """Get and change one channel's settings; unknown channels have the defaults."""

    def __init__(self, service: DiscordService) -> None:
        self._service = service
        self._cache: dict[int, ChannelSettings] = {}

    async def get(self, channel_id: int) -> ChannelSettings:
        cached = self._cache.get(channel_id)
        if cached is not None:
            return cached
        stored = await self._service.channel_settings(Platform.DISCORD, str(channel_id))
        settings = stored or ChannelSettings()
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
        await self._service.save_channel_settings(Platform.DISCORD, str(channel_id), settings)
        self._cache[channel_id] = settings
        return settings

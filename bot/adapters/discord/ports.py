"""What the Discord adapter asks of the core: `Service` plus the reads and moderator calls it needs.

`bot.service.BotService` implements all of it; tests use the real one over a SQLite store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bot.adapters.base import Service
from bot.domain import Platform

if TYPE_CHECKING:
    from bot.domain import Request
    from bot.service import RequestView
    from storage import ChannelSettings, QueueStats


class DiscordService(Service, Protocol):
    async def view(self, request_id: int) -> RequestView | None:
        """A request with its queue position (1 = next, 0 = running or finished) and ETA."""
        ...

    async def open_requests(self, platform: Platform, *, limit: int = 200) -> list[Request]:
        """The platform's requests still queued or running, oldest first."""
        ...

    async def queue_stats(self) -> QueueStats:
        """How many requests wait and run."""
        ...

    async def channel_settings(self, platform: Platform, channel_id: str) -> ChannelSettings | None:
        """What moderators set for a channel (`/mod channel`); None when never set."""
        ...

    async def save_channel_settings(
        self, platform: Platform, channel_id: str, settings: ChannelSettings
    ) -> None:
        ...

    async def ban(self, platform: Platform, user_id: str, *, reason: str = "") -> None: ...

    async def unban(self, platform: Platform, user_id: str) -> None: ...

    async def reset_quota(self, platform: Platform, user_id: str) -> None: ...

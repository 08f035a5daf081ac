"""What commands, buttons and start-up checks use of the running client, as a protocol.

`client.DallebotClient` implements it; depending on this instead of the client class keeps the
client → commands/views/stale → client circle out of the imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import discord

    from bot.adapters.discord.channels import ChannelSettingsStore
    from bot.adapters.discord.ingest import Ingest, Tracker
    from bot.adapters.discord.ports import DiscordService
    from bot.adapters.discord.progress import ProgressUpdater


class RunningClient(Protocol):
    service: DiscordService
    tracker: Tracker
    channels: ChannelSettingsStore
    ingest: Ingest
    progress: ProgressUpdater
    require_channel_enabled: bool

    @property
    def user(self) -> discord.ClientUser | None:
        """The bot's own account once logged in."""
        ...

    def get_channel(self, id: int, /) -> Any:
        """A cached channel, or None."""
        ...

    async def fetch_channel(self, channel_id: int, /) -> Any:
        """A channel from Discord's API."""
        ...

"""The discord.py client: owns its command tree, syncs it at start, routes mentions to the ingest flow."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.adapters.discord.channels import ChannelSettingsStore
from bot.adapters.discord.commands import Limits, all_commands
from bot.adapters.discord.ingest import Ingest, Tracker
from bot.adapters.discord.progress import ProgressUpdater
from bot.adapters.discord.stale import adopt_waiting
from bot.adapters.discord.views import DeleteButton, RerollButton

if TYPE_CHECKING:
    from bot.adapters.discord.ports import DiscordService
    from bot.config_discord import DiscordSettings

log = logging.getLogger(__name__)

# A rate limit longer than this raises `discord.RateLimited` instead of blocking the caller, so
# the delivery loop can schedule the retry rather than hold a slot for minutes.
MAX_RATELIMIT_WAIT_SECONDS = 30.0


def intents() -> discord.Intents:
    """Guild + message events; no privileged intent (a mention carries its content without one)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    return wanted


class DallebotClient(discord.Client):
    """A plain `Client` with its own `CommandTree`; shared resources are injected, not built here."""

    def __init__(
        self,
        settings: DiscordSettings,
        limits: Limits,
        service: DiscordService,
        *,
        tracker: Tracker | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(
            intents=intents(),
            allowed_mentions=discord.AllowedMentions(
                everyone=False, roles=False, users=True, replied_user=False
            ),
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT_SECONDS,
        )
        self.settings = settings
        self.service = service
        self.tracker = tracker or Tracker()
        self.channels = ChannelSettingsStore(service)
        self.require_channel_enabled = settings.require_channel_enabled
        self.ingest = Ingest(
            service,
            self.tracker,
            self.channels,
            require_channel_enabled=settings.require_channel_enabled,
        )
        self.progress = ProgressUpdater(
            service, self.tracker, interval_seconds=settings.progress_interval_seconds, clock=clock
        )
        self._progress_task: asyncio.Task[None] | None = None
        self._adopt_task: asyncio.Task[int] | None = None
        self.tree = app_commands.CommandTree(self)
        for command in all_commands(limits):
            self.tree.add_command(command)
        self.tree.on_error = self._on_command_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        # Buttons on any earlier message are parsed back from their custom_id: they survive restarts.
        self.add_dynamic_items(RerollButton, DeleteButton)
        self._progress_task = asyncio.create_task(self.progress.run(), name="discord-progress")
        guild_id = self.settings.dev_guild_id
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d slash commands to development guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global slash commands (they can take up to an hour to appear)", len(synced))

    async def close(self) -> None:
        for task in (self._progress_task, self._adopt_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._progress_task = self._adopt_task = None
        await super().close()

    async def _on_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """A refused check has already answered; anything else gets a short apology, the log the rest."""
        if isinstance(error, app_commands.CheckFailure):
            return
        name = interaction.command.qualified_name if interaction.command else "?"
        log.error("command %s failed", name, exc_info=error)
        apology = "Something went wrong on my side; please try again in a minute."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(apology, ephemeral=True)
            else:
                await interaction.response.send_message(apology, ephemeral=True)
        except discord.HTTPException:
            pass

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s in %d guilds", self.user, len(self.guilds))
        if self._adopt_task is None:  # once per process: READY comes again after each reconnect
            self._adopt_task = asyncio.create_task(self._adopt_waiting(), name="discord-adopt-waiting")

    async def _adopt_waiting(self) -> int:
        try:
            return await adopt_waiting(self)
        except Exception:  # best effort: an unadopted message is still settled at delivery
            log.warning("could not take back the earlier process's waiting messages", exc_info=True)
            return 0

    async def on_message(self, message: discord.Message) -> None:
        if not self.settings.respond_to_mentions or message.author.bot or self.user is None:
            return
        # Only an explicit @bot in the text: a reply to the bot's message also "mentions" it.
        if f"<@{self.user.id}>" not in message.content and f"<@!{self.user.id}>" not in message.content:
            return
        await self.ingest.mention(message)

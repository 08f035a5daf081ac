"""Keeping the waiting message current: queue position and ETA, then the drawing's steps and the time
left (when the worker runs in this process), edited in place (never a new message).

`ProgressUpdater.refresh` asks the service where each request this process is waiting on stands
and edits its message when the text changed — at most once per `progress_interval_seconds` per
request, so a busy queue never costs more than a trickle of edits against Discord's rate limits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.adapters.discord import text
from storage.outage import log_failure

if TYPE_CHECKING:
    from bot.adapters.discord.ingest import Tracker, Waiting
    from bot.adapters.discord.ports import DiscordService
    from bot.progress import ProgressView

log = logging.getLogger(__name__)


class ProgressUpdater:
    def __init__(
        self,
        service: DiscordService,
        tracker: Tracker,
        *,
        interval_seconds: float,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.service = service
        self.tracker = tracker
        self.interval_seconds = interval_seconds
        self._clock = clock or discord.utils.utcnow

    async def run(self) -> None:
        """Refresh every interval until cancelled (the client cancels it on close)."""
        while True:
            await asyncio.sleep(self.interval_seconds)
            try:
                await self.refresh()
            except Exception:  # a failed round must not end the loop; the next one tries again
                log_failure(log, "progress refresh failed")

    async def refresh(self) -> int:
        """One pass over the waiting requests; returns how many messages were edited."""
        edited = 0
        for waiting in list(self.tracker.waiting.values()):
            if waiting.done or waiting.request_id is None:
                continue
            view = await self.service.view(waiting.request_id)
            if view is None:
                continue
            if await self.show(
                waiting, position=view.position, eta_seconds=view.eta_seconds, progress=view.progress
            ):
                edited += 1
        return edited

    async def show(
        self,
        waiting: Waiting,
        *,
        position: int,
        eta_seconds: float | None,
        progress: ProgressView | None = None,
    ) -> bool:
        """Edit one waiting message if its text changed and the interval has passed: the queue
        position, then (when this process's worker draws it) the steps done and the time left."""
        if progress is not None:
            content = text.drawing(progress.step, progress.steps, progress.eta_seconds)
        else:
            content = text.queued(position=position, eta=eta_seconds)
        now = self._clock()
        if waiting.done or content == waiting.shown:
            return False
        if (
            waiting.edited_at is not None
            and (now - waiting.edited_at).total_seconds() < self.interval_seconds
        ):
            return False
        async with waiting.lock:
            if waiting.done:
                return False
            try:
                if waiting.interaction is not None and not waiting.interaction.is_expired():
                    await waiting.interaction.edit_original_response(content=content)
                elif waiting.status_message is not None:
                    await waiting.status_message.edit(content=content)
                else:
                    return False
            except discord.HTTPException as error:  # best effort: the result still comes
                log.info("progress edit for %s failed: %s", waiting.external_id, error)
                return False
            waiting.shown = content
            waiting.edited_at = now
            return True

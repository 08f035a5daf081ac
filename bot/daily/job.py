"""The daily prompt job: one `daily:<date>` request per enabled platform per date, never twice.

APScheduler's `AsyncIOScheduler` fires a `CronTrigger` at the configured local time, with a grace
period as long as the configured one (its default of one second silently skips a day). Its job
store is in memory, so at start the job also runs once to catch up on a minute the bot was down
for. Every run asks "which date is due now?" and submits that date's requests; storage keeps one
row per (platform, `daily:<date>`), so a duplicate firing, a restart or `dallebot daily --now`
while the bot runs changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Protocol

from bot.daily.rotation import Rotation
from bot.daily.schedule import due_date
from bot.daily.settings import DailySettings
from bot.domain import Accepted, NewRequest, Outcome, Platform, Request

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler


log = logging.getLogger(__name__)

JOB_ID = "daily-prompt"
DAILY_USER = "daily"
PREFIX = "daily:"


def external_id(day: date) -> str:
    return f"{PREFIX}{day.isoformat()}"


def daily_date(request: Request) -> str | None:
    """The date a daily prompt's request is for ("2026-12-03"), None for anyone's own request.

    The one test of "is this the daily request" every adapter uses: the id and the user the daily
    job gives it (platform ids never start with "daily:", platform users are never "daily")."""
    if request.user_id != DAILY_USER or not request.external_id.startswith(PREFIX):
        return None
    return request.external_id.removeprefix(PREFIX)


class DailyService(Protocol):
    """What the daily job asks of the service (`bot.service.BotService` implements it)."""

    async def submit(self, new: NewRequest, *, trusted: bool = False) -> Outcome: ...

    async def daily_state(self) -> str | None: ...

    async def save_daily_state(self, state: str) -> None: ...


class DailyPrompt:
    """Submits the day's prompt to each enabled platform; `start` schedules it."""

    def __init__(
        self,
        settings: DailySettings,
        service: DailyService,
        *,
        platforms: Iterable[Platform],
        clock: Callable[[], datetime] | None = None,  # None: the wall clock, in UTC
    ) -> None:
        enabled = set(platforms)
        self.settings = settings
        self.service = service
        self.platforms = [p for p in settings.platforms if p in enabled]
        self.clock = clock or (lambda: datetime.now(UTC))
        self.scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()  # a catch-up and a firing in one process run one after the other

    async def run_due(self) -> dict[Platform, Outcome]:
        """Submit the date that is due now, if any (what the scheduler and the start-up catch-up call)."""
        day = due_date(self.clock(), self.settings)
        if day is None:
            log.debug("daily: nothing due at %s", self.clock().isoformat())
            return {}
        return await self.run_for(day)

    async def run_for(self, day: date) -> dict[Platform, Outcome]:
        """Submit `day`'s prompt to every enabled platform; already-submitted ones come back as duplicates."""
        async with self._lock:
            prompts = await asyncio.to_thread(self.settings.load_prompts)
            prompt = await self._pick(day, prompts)
            outcomes: dict[Platform, Outcome] = {}
            for platform in self.platforms:
                new = NewRequest(
                    platform=platform,
                    external_id=external_id(day),
                    user_id=DAILY_USER,
                    user_name=DAILY_USER,
                    prompt=prompt,
                    reply_to={"daily": day.isoformat()},
                )
                outcomes[platform] = await self.service.submit(new, trusted=True)
            fresh = [p.value for p, o in outcomes.items() if isinstance(o, Accepted) and not o.duplicate]
            refused = {p.value: o.message for p, o in outcomes.items() if not isinstance(o, Accepted)}
            if fresh:
                log.info("daily %s: %r submitted to %s", day, prompt, ", ".join(fresh))
            if refused:
                log.warning("daily %s: refused: %s", day, refused)
            return outcomes

    async def _pick(self, day: date, prompts: list[str]) -> str:
        """The day's prompt, with the rotation state read and (if it changed) written back."""
        text = await self.service.daily_state()
        rotation = Rotation.loads(text)
        prompt = rotation.pick(day, prompts)
        if rotation.dumps() != text:
            await self.service.save_daily_state(rotation.dumps())
        return prompt

    async def _fire(self) -> None:
        try:
            await self.run_due()
        except Exception:  # the next firing (or restart) catches up within the grace period
            from storage.outage import log_failure  # here: importing bot.config must not load storage

            log_failure(log, "daily: the scheduled run failed")

    async def start(self) -> None:
        """Schedule the job on the running event loop, then catch up on a missed minute."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.cron import CronTrigger

        if not self.platforms:
            log.info("daily: no enabled platform among daily.platforms; not scheduled")
            return
        zone = self.settings.zone
        self.scheduler = AsyncIOScheduler(timezone=zone)
        self.scheduler.add_job(
            self._fire,
            CronTrigger(hour=self.settings.hour, minute=self.settings.minute, timezone=zone),
            id=JOB_ID,
            replace_existing=True,
            misfire_grace_time=self.settings.grace_minutes * 60,  # the default (1 s) would skip the day
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.start()
        log.info(
            "daily: at %s %s to %s",
            self.settings.time,
            self.settings.timezone,
            ", ".join(p.value for p in self.platforms),
        )
        await self._fire()

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None

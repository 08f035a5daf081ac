"""Polling the bot's mentions: every page since the stored `since_id`, never a gap, never twice.

X lists mentions newest first. A poll walks every page back to the stored `since_id`, hands each
page to `service.submit_many` (one transaction per page), and writes the new `since_id` — the
newest id of the first page — only with the last page. A crash between pages leaves the old
cursor: the next poll re-reads those pages and the stored ones come back as duplicates (one row,
one reply), so nothing is lost and nothing answered twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import requests
import tweepy

from bot.adapters.base import Service
from bot.adapters.x.api import XApi
from bot.adapters.x.parsing import BotAccount, page_to_requests
from bot.config_x import XSettings
from bot.domain import Accepted, Platform
from storage.outage import log_failure

log = logging.getLogger(__name__)

CURSOR_KEY = "since_id"
MAX_PAGES = 8  # X serves only the 800 most recent mentions: 8 pages of 100


class RateLimited(Exception):
    """X said 429; `wait_seconds` until its `x-rate-limit-reset`."""

    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"rate limited for {wait_seconds:.0f} s")
        self.wait_seconds = wait_seconds


def _newer(a: str | None, b: str | None) -> str | None:
    """The later of two post ids (ids grow with time; compared as numbers)."""
    if a is None or b is None:
        return a or b
    return a if int(a) >= int(b) else b


def rate_limit_wait(error: tweepy.TooManyRequests, now: datetime, *, default: float = 60.0) -> float:
    """Seconds until X's reset time (epoch seconds in `x-rate-limit-reset`), at least one."""
    reset = getattr(error, "reset_time", None)
    if reset is None:
        return default
    return max(1.0, float(reset) - now.timestamp() + 1.0)


class MentionPoller:
    """Reads mentions into `service.submit_many`; `run` loops with idle back-off until cancelled."""

    def __init__(
        self,
        api: XApi,
        settings: XSettings,
        bot: BotAccount,
        service: Service,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        page_size: int = 100,
    ) -> None:
        self.api = api
        self.page_size = page_size  # X allows 5..100; fewer, bigger pages cost fewer calls
        self.settings = settings
        self.bot = bot
        self.service = service
        self.clock = clock
        self.sleep = sleep
        self.interval = settings.poll_interval_seconds
        # The newest id this process has stored; `submit_many` writes it as the cursor even for a
        # page of only ignored mentions, so after a restart the stored cursor carries on from here.
        self.seen_since_id: str | None = None

    async def poll_once(self) -> int:
        """One poll; returns how many new requests were stored. Raises `RateLimited` on a 429."""
        since_id = _newer(await self.service.get_cursor(Platform.X, CURSOR_KEY), self.seen_since_id)
        if since_id is None and self.settings.skip_backlog_on_first_start:
            return await self._skip_backlog()

        token: str | None = None
        newest_id: str | None = None
        stored = 0
        for page_number in range(MAX_PAGES):
            page = await self._call(
                self.api.mentions,
                self.bot.user_id,
                since_id=since_id,
                pagination_token=token,
                max_results=self.page_size,
            )
            meta = page.get("meta") or {}
            newest_id = newest_id or meta.get("newest_id")
            token = meta.get("next_token")
            last = token is None or page_number == MAX_PAGES - 1
            news = page_to_requests(
                page,
                self.bot,
                now=self.clock(),
                max_age=timedelta(minutes=self.settings.max_mention_age_minutes),
            )
            cursor = (CURSOR_KEY, newest_id) if last and newest_id else None
            if news or cursor:
                outcomes = await self.service.submit_many(news, platform=Platform.X, cursor=cursor)
                stored += sum(1 for o in outcomes if not (isinstance(o, Accepted) and o.duplicate))
            if last:
                break
        self.seen_since_id = _newer(self.seen_since_id, newest_id)
        if stored:
            log.info("x: %d new mention(s) stored; since_id now %s", stored, newest_id)
        return stored

    async def _skip_backlog(self) -> int:
        """First start: remember the newest mention so older ones are never answered."""
        page = await self._call(self.api.mentions, self.bot.user_id, since_id=None, max_results=5)
        newest_id = (page.get("meta") or {}).get("newest_id")
        if newest_id:
            await self.service.submit_many([], platform=Platform.X, cursor=(CURSOR_KEY, newest_id))
            self.seen_since_id = newest_id
            log.info("x: first start: mentions up to %s skipped (x.skip_backlog_on_first_start)", newest_id)
        return 0

    async def _call(self, fn: Callable[..., dict], *args: object, **kwargs: object) -> dict:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except tweepy.TooManyRequests as error:
            raise RateLimited(rate_limit_wait(error, self.clock())) from error

    def next_interval(self, stored: int) -> float:
        """Back to the base interval after news; doubled (up to the maximum) after an empty poll."""
        if stored:
            self.interval = self.settings.poll_interval_seconds
        else:
            self.interval = min(self.interval * 2, self.settings.max_poll_interval_seconds)
        return self.interval

    async def run(self) -> None:
        """Poll until cancelled; errors are logged and waited out, never fatal."""
        while True:
            try:
                wait = self.next_interval(await self.poll_once())
            except RateLimited as limited:
                wait = limited.wait_seconds
                log.warning("x: mentions rate-limited; next poll in %.0f s", wait)
            except tweepy.Unauthorized:
                wait = self.settings.max_poll_interval_seconds
                log.error(
                    "x: 401 reading mentions: check X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, "
                    "X_ACCESS_TOKEN_SECRET; retrying in %.0f s",
                    wait,
                )
            except (tweepy.TweepyException, requests.RequestException) as error:
                wait = self.settings.poll_interval_seconds
                log.warning("x: polling mentions failed (%s); retrying in %.0f s", error, wait)
            except Exception:  # storage unavailable etc.: the cursor did not move, so nothing is lost
                wait = self.settings.poll_interval_seconds
                log_failure(log, "x: storing mentions failed; retrying in %.0f s", wait)
            await self.sleep(wait)

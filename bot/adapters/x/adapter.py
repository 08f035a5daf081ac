"""The X adapter: mentions in through the poller, images and short notices out as replies.

Posting is the only step that can leave doubt: an upload or alt-text call that fails posted
nothing (retryable), while a post call that times out may have landed (ambiguous) — the core
then calls `reconcile`, which looks through the bot's own recent posts for one replying to the
mention before anything is posted again. Replies go to the mention's author only: everyone else
X would add to the thread is excluded (summoned-reply rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import requests
import tweepy

from bot.adapters.base import Adapter, DeliveryError, Service
from bot.adapters.x import text
from bot.adapters.x.api import MAX_IMAGE_BYTES, XApi
from bot.adapters.x.parsing import BotAccount, clean_prompt, referenced
from bot.adapters.x.poller import MentionPoller, rate_limit_wait
from bot.config_x import XSettings
from bot.daily.job import daily_date
from bot.domain import Platform, Request
from bot.vocabulary import ignored_note

if TYPE_CHECKING:
    from storage import Delivery

log = logging.getLogger(__name__)

RECONCILE_PAGES = 5  # the bot's own posts since the mention, 100 a page
NOT_POSTED = "not-posted"  # stored as the posted id of a notice the bot chose not to send


class XAdapter(Adapter):
    """Polls mentions into the service; posts image replies, notices and the daily post."""

    platform: ClassVar[Platform] = Platform.X
    inline_rejections: ClassVar[bool] = False  # mentions are read in the background: told via the outbox

    def __init__(
        self,
        api: XApi,
        settings: XSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.api = api
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.bot: BotAccount | None = None
        self.poller: MentionPoller | None = None
        self._task: asyncio.Task[None] | None = None

    def describe(self) -> str:
        who = f"@{self.bot.username}" if self.bot else "account not looked up yet"
        return f"x: enabled ({who}), polling mentions every {self.settings.poll_interval_seconds:.0f} s"

    async def account(self) -> BotAccount:
        """Who the keys belong to (looked up once: `GET /2/users/me`)."""
        if self.bot is None:
            me = await asyncio.to_thread(self.api.me)
            self.bot = BotAccount(user_id=str(me["id"]), username=str(me["username"]))
        return self.bot

    async def start(self, service: Service) -> None:
        bot = await self.account()
        self.poller = MentionPoller(self.api, self.settings, bot, service, clock=self.clock, sleep=self.sleep)
        self._task = asyncio.create_task(self.poller.run(), name="x-mentions")
        log.info("x: polling mentions of @%s", bot.username)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.api.close()

    # -- delivery ------------------------------------------------------------------------------------

    async def deliver(self, delivery: Delivery) -> str:
        request = delivery.request
        tweet_id = request.reply_to.get("tweet_id")
        if delivery.kind == "image":
            if delivery.image_png is None:
                raise DeliveryError("permanent", "image delivery without an image")
            if daily_date(request) is not None:  # nobody asked: the daily image is a post of its own
                return await self._post_image(
                    request, delivery.image_png, caption=self._daily_text(request), in_reply_to=None
                )
            if not tweet_id:
                raise DeliveryError("permanent", "an image for a mention without a tweet to reply to")
            # the picture says the rest; the words it left out need saying
            note = ignored_note(request.ignored_words)
            caption = text.notice(request.id, note) if note else ""  # X refuses a repeated text
            return await self._post_image(request, delivery.image_png, caption=caption, in_reply_to=tweet_id)
        if not tweet_id:
            # A daily request that failed or was refused: nobody asked, so there is nobody to tell.
            log.warning(
                "x: %s for request %d (%s) not posted: no mention to reply to",
                delivery.kind,
                request.id,
                request.external_id,
            )
            return NOT_POSTED
        if delivery.kind == "rejection" and not self.settings.reply_to_rejections:
            log.info("x: rejection of request %d not posted (x.reply_to_rejections is off)", request.id)
            return NOT_POSTED
        message = delivery.message or "Sorry, this request could not be completed."
        # named by its request: X refuses a text it has seen from the bot before (403 duplicate)
        notice = text.notice(request.id, message)
        return await self._post(text=notice, in_reply_to=tweet_id, request=request)

    async def _post_image(
        self, request: Request, png: bytes, *, caption: str, in_reply_to: str | None
    ) -> str:
        if len(png) > MAX_IMAGE_BYTES:
            raise DeliveryError("permanent", f"image is {len(png)} bytes; X takes at most {MAX_IMAGE_BYTES}")
        # 1. upload and 2. alt text: a failure here posted nothing, so it is safe to retry.
        try:
            media_id = await asyncio.to_thread(self.api.upload_png, png)
            await asyncio.to_thread(self.api.set_alt_text, media_id, text.inert(request.prompt))
        except Exception as error:
            raise self._classify(error, posting=False) from error
        # 3. the post itself.
        return await self._post(text=caption, in_reply_to=in_reply_to, request=request, media_ids=[media_id])

    async def _post(
        self, *, text: str, in_reply_to: str | None, request: Request, media_ids: list[str] | None = None
    ) -> str:
        exclude = [i for i in request.reply_to.get("exclude_user_ids", "").split(",") if i]
        try:
            return await asyncio.to_thread(
                self.api.create_post,
                text,
                media_ids=media_ids,
                in_reply_to=in_reply_to,
                exclude_reply_user_ids=exclude,
            )
        except Exception as error:
            raise self._classify(error, posting=True) from error

    def _classify(self, error: Exception, *, posting: bool) -> DeliveryError:
        """Map an X/HTTP failure to the core's retry classes; `posting`: the create-post call failed."""
        if isinstance(error, tweepy.TooManyRequests):
            wait = rate_limit_wait(error, self.clock())
            return DeliveryError("retryable", f"X rate limit; resets in {wait:.0f} s", retry_after=wait)
        if isinstance(error, tweepy.Unauthorized):
            return DeliveryError("permanent", "X said 401: the X_* keys are wrong or revoked")
        if isinstance(error, tweepy.Forbidden):
            return DeliveryError(
                "permanent",
                f"X refused the post (403: no write access, or not allowed to reply here): {error}",
            )
        if isinstance(error, tweepy.BadRequest | tweepy.NotFound):
            return DeliveryError("permanent", f"X rejected the request: {error}")
        if isinstance(error, requests.ConnectTimeout) or (
            isinstance(error, requests.ConnectionError) and "NewConnectionError" in repr(error)
        ):  # the connection never opened: nothing was sent
            return DeliveryError("retryable", f"could not reach X: {error}")
        if not posting:  # an upload, alt-text or lookup call: no post was made, whatever went wrong
            return DeliveryError("retryable", f"X call failed before posting: {error!r}")
        # A 5xx, a read timeout or a dropped connection after the post was sent: it may be up.
        return DeliveryError("ambiguous", f"the post may have landed: {error!r}")

    # -- reconcile -----------------------------------------------------------------------------------

    async def reconcile(self, request: Request) -> str | None:
        """The bot's post for `request` that did land: a reply to its mention, or the daily post."""
        bot = await self.account()
        tweet_id = request.reply_to.get("tweet_id")
        if tweet_id:
            return await self._find(
                bot,
                since_id=tweet_id,
                start_time=None,
                match=lambda post: referenced(post, "replied_to") == tweet_id,
            )
        expected = clean_prompt(self._daily_text(request))  # X appends the image's t.co link
        return await self._find(
            bot,
            since_id=None,
            start_time=request.created_at - timedelta(minutes=1),
            originals_only=True,
            match=lambda post: clean_prompt(post.get("text", "")) == expected,
        )

    def _daily_text(self, request: Request) -> str:
        return text.short(self.settings.daily_text.replace("{prompt}", request.prompt))

    async def _find(
        self,
        bot: BotAccount,
        *,
        since_id: str | None,
        start_time: datetime | None,
        match: Callable[[dict[str, Any]], bool],
        originals_only: bool = False,
    ) -> str | None:
        token: str | None = None
        for _ in range(RECONCILE_PAGES):
            try:
                page = await asyncio.to_thread(
                    self.api.own_posts,
                    bot.user_id,
                    since_id=since_id,
                    start_time=start_time,
                    originals_only=originals_only,
                    pagination_token=token,
                )
            except Exception as error:  # could not look: the core must not post blindly
                raise self._classify(error, posting=False) from error
            for post in page.get("data") or ():
                if match(post):
                    return str(post["id"])
            token = (page.get("meta") or {}).get("next_token")
            if not token:
                return None
        log.warning(
            "x: looked through %d pages of own posts without finding a reply; posting again", RECONCILE_PAGES
        )
        return None

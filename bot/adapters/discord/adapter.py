"""`DiscordAdapter`: the core's view of Discord — start/stop the client, deliver, reconcile, progress.

Where a result goes, in order (each step only if the one before cannot be used):
  1. the interaction's own "thinking" message, edited into the result — while its token lives
     (15 minutes);
  2. the mention's status reply, edited into the result — while this process remembers it;
  3. a new message in the request's channel, replying to the original where Discord still has it;
  4. a DM to the requester (channel gone, or the bot may not post there);
  5. nothing: `DeliveryError("permanent")`, so the core records the failure instead of looping.
After 3 or 4 the waiting message ("⏳ Queued…", this process's or one a restarted process left:
stale.py finds it again) is edited to say the result is in a new message, never left stale.
The daily prompt's image (nobody asked for it: `reply_to` holds only `daily`) goes to
`discord.daily_channel_id` and nowhere else; its failure or refusal is not announced. Without
that channel the adapter takes no daily requests (`takes_daily`).
Errors are classified once, in `calls.classify`: 429 → retryable after its reset; 5xx and network
errors → ambiguous where a message may have been created; 401/403/404 → never retried as is.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import aiohttp
import discord

from bot.adapters.base import Adapter, DeliveryError, Service
from bot.adapters.discord import text
from bot.adapters.discord.calls import DEFAULT_RETRY_AFTER, Unusable, attempt, channel_of
from bot.adapters.discord.client import DallebotClient
from bot.adapters.discord.stale import find_waiting_message
from bot.adapters.discord.views import result_view
from bot.daily.job import daily_date
from bot.domain import Platform, Request
from storage import ImageAction

if TYPE_CHECKING:
    from bot.adapters.discord.commands import Limits
    from bot.adapters.discord.ingest import Waiting
    from bot.adapters.discord.ports import DiscordService
    from bot.config_discord import DiscordSettings
    from storage import Delivery

log = logging.getLogger(__name__)

NOT_POSTED = "not-posted"  # stored as the posted id of a notice the bot chose not to send


@dataclass
class _Post:
    """One message to send: built fresh for each attempt (a discord.File can be read only once)."""

    content: str
    png: bytes | None = None
    spoiler: bool = False
    alt_text: str = ""
    view: discord.ui.View | None = None

    def files(self) -> list[discord.File]:
        if self.png is None:
            return []
        return [
            discord.File(
                io.BytesIO(self.png), "dallebot.png", description=self.alt_text, spoiler=self.spoiler
            )
        ]

    def kwargs(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"content": self.content, "attachments": self.files()}
        if self.view is not None:
            extra["view"] = self.view
        return extra


class DiscordAdapter(Adapter):
    platform: ClassVar[Platform] = Platform.DISCORD
    inline_rejections: ClassVar[bool] = True  # interactions and mentions are answered at once

    def __init__(
        self,
        settings: DiscordSettings,
        limits: Limits,
        token: str,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.limits = limits
        self._token = token
        self._clock = clock or discord.utils.utcnow
        self.client: DallebotClient | None = None
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    def build_client(self, service: DiscordService) -> DallebotClient:
        """The client, wired to the service; `start` connects it (tests hand it to simcord instead)."""
        self.client = DallebotClient(self.settings, self.limits, service, clock=self._clock)
        return self.client

    async def start(self, service: Service) -> None:
        client = self.build_client(service)  # type: ignore[arg-type]  # the core passes a BotService
        self._task = asyncio.create_task(client.start(self._token), name="discord-client")
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:  # login failed (bad token, no network): say so at start, not later
            ready.cancel()
            self._task.result()
            raise RuntimeError("the Discord client stopped before it was ready")

    async def stop(self) -> None:
        if self.client is not None and not self.client.is_closed():
            await self.client.close()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def describe(self) -> str:
        where = f"dev guild {self.settings.dev_guild_id}" if self.settings.dev_guild_id else "global commands"
        daily = self.settings.daily_channel_id or "off (discord.daily_channel_id unset)"
        mentions = "on" if self.settings.respond_to_mentions else "off"
        return f"discord: enabled ({where}, mentions {mentions}, daily channel {daily})"

    def takes_daily(self) -> bool:
        return self.settings.daily_channel_id is not None

    def _client(self) -> DallebotClient:
        if self.client is None:
            raise DeliveryError(
                "retryable", "the Discord client is not started yet", retry_after=DEFAULT_RETRY_AFTER
            )
        return self.client

    # ------------------------------------------------------------------ delivery

    async def deliver(self, delivery: Delivery) -> str:
        client = self._client()
        request = delivery.request
        if _is_daily(request):
            return await self._deliver_daily(client, delivery)
        waiting = client.tracker.get(request.external_id)
        if waiting is None:  # not this process's (a restart): post anew, then settle the old message
            posted = await self._post_elsewhere(
                client, request, await self._compose(client, delivery, mention=True)
            )
            await self._settle_stale(client, request)
            return posted
        async with waiting.lock:
            answered = await self._deliver_to_waiting(client, waiting, delivery)
            if answered is None:
                answered = await self._post_elsewhere(
                    client, request, await self._compose(client, delivery, mention=True)
                )
                await self._settle_stale(client, request)  # e.g. the "thinking" message, token expired
            waiting.done = True
        client.tracker.forget(request.external_id)
        return answered

    async def _settle_stale(self, client: DallebotClient, request: Request) -> None:
        """The waiting message left behind now says the result is elsewhere. Best effort: the result
        is posted already, so nothing here may fail the delivery (that would post it twice)."""
        try:
            stale = await find_waiting_message(client, request)
            if stale is not None:
                await stale.edit(content=text.MOVED, attachments=[], view=None)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            log.info("request %s: the old waiting message still says so (%s)", request.id, error)

    async def _deliver_to_waiting(
        self, client: DallebotClient, waiting: Waiting, delivery: Delivery
    ) -> str | None:
        """Edit the message the user is already looking at; None if neither it nor its token is usable."""
        post = await self._compose(client, delivery, mention=False)
        interaction = waiting.interaction
        if interaction is not None and not interaction.is_expired():
            try:
                message = await attempt(interaction.edit_original_response(**post.kwargs()), creates=False)
                return str(message.id)
            except Unusable as why:
                log.info(
                    "request %s: interaction unusable (%s); posting to the channel", delivery.request.id, why
                )
        if waiting.status_message is not None:
            try:
                message = await attempt(waiting.status_message.edit(**post.kwargs()), creates=False)
                return str(message.id)
            except Unusable as why:
                log.info("request %s: status reply unusable (%s); posting anew", delivery.request.id, why)
        return None

    async def _deliver_daily(self, client: DallebotClient, delivery: Delivery) -> str:
        """The daily image into the daily channel; a failure or refusal of it is told to nobody."""
        request = delivery.request
        if delivery.kind != "image" or _wants_spoiler(delivery):  # never a flagged image unasked
            log.warning(
                "discord: daily %s of request %d not posted: nobody asked for it", delivery.kind, request.id
            )
            return NOT_POSTED
        channel_id = self.settings.daily_channel_id
        if channel_id is None:  # daily.platforms changed after it was submitted
            raise DeliveryError(
                "permanent", "the daily image has nowhere to go: set discord.daily_channel_id in config.yaml"
            )
        post = _Post(
            content=text.daily_caption(request, daily_date(request) or ""),
            png=delivery.image_png,
            alt_text=text.alt_text(request.prompt),
            view=result_view(request.external_id, None),
        )
        try:
            channel = await channel_of(client, channel_id)
            message = await attempt(
                channel.send(content=post.content, files=post.files(), view=post.view), creates=True
            )
        except Unusable as why:
            raise DeliveryError(
                "permanent", f"cannot post to discord.daily_channel_id {channel_id}: {why}"
            ) from None
        return str(message.id)

    def _reply_channel_id(self, request: Request) -> str | int | None:
        if _is_daily(request):
            return self.settings.daily_channel_id
        return request.reply_to.get("channel_id")

    async def _post_elsewhere(self, client: DallebotClient, request: Request, post: _Post) -> str:
        """A new message in the request's channel, else a DM, else a permanent failure."""
        try:
            channel = await channel_of(client, request.reply_to.get("channel_id"))
            reference = None
            message_id = request.reply_to.get("message_id")
            if message_id:
                reference = discord.MessageReference(
                    message_id=int(message_id), channel_id=channel.id, fail_if_not_exists=False
                )
            files = post.files()
            message = await attempt(
                channel.send(
                    content=post.content,
                    files=files,
                    view=post.view or discord.utils.MISSING,
                    reference=reference or discord.utils.MISSING,
                ),
                creates=True,
            )
            return str(message.id)
        except Unusable as why:
            log.info("request %s: channel unusable (%s); trying a DM", request.id, why)
        if post.spoiler:  # flagged images are shown only in NSFW channels, never in DMs
            post = _Post(text.blocked(request))
        try:
            user = client.get_user(int(request.user_id)) or await attempt(
                client.fetch_user(int(request.user_id)), creates=False
            )
            message = await attempt(
                user.send(content=post.content, files=post.files(), view=post.view or discord.utils.MISSING),
                creates=True,
            )
            return str(message.id)
        except Unusable as why:
            raise DeliveryError(
                "permanent",
                f"cannot post to channel {request.reply_to.get('channel_id')} "
                f"nor DM user {request.user_id}: {why}",
            ) from None

    async def _compose(self, client: DallebotClient, delivery: Delivery, *, mention: bool) -> _Post:
        request = delivery.request
        if delivery.kind == "failure":
            return _Post(text.failure(request, delivery.message))
        if delivery.kind == "rejection":
            return _Post(f"<@{request.user_id}> {text.rejection_line(delivery.message)}")
        elapsed = (self._clock() - request.created_at).total_seconds() if request.created_at else None
        spoiler = _wants_spoiler(delivery)
        if spoiler and not await self._spoiler_allowed(client, request):
            log.warning("request %s: flagged image withheld (channel not NSFW or not allowed)", request.id)
            return _Post(text.blocked(request))
        return _Post(
            content=text.caption(request, seconds=elapsed, spoiler=spoiler, mention=mention),
            png=delivery.image_png,
            spoiler=spoiler,
            alt_text=text.alt_text(request.prompt),
            view=result_view(request.external_id, request.user_id),
        )

    async def _spoiler_allowed(self, client: DallebotClient, request: Request) -> bool:
        """Re-checked at posting time: the channel may have lost its NSFW mark since the request."""
        try:
            channel = await channel_of(client, request.reply_to.get("channel_id"))
        except (Unusable, DeliveryError):
            return False
        is_nsfw = getattr(channel, "is_nsfw", None)
        if not callable(is_nsfw) or not is_nsfw():
            return False
        return (await client.channels.get(channel.id)).nsfw_images

    # ------------------------------------------------------------------ reconcile and progress

    async def reconcile(self, request: Request) -> str | None:
        """Find the bot's post for this request (its text carries "request #<id>") after an ambiguous send."""
        client = self._client()
        marker = re.compile(rf"request #{request.id}\b")
        waiting = client.tracker.get(request.external_id)
        if waiting is not None and waiting.interaction is not None and not waiting.interaction.is_expired():
            try:
                original = await waiting.interaction.original_response()
                if marker.search(original.content):
                    return str(original.id)
            except discord.HTTPException:
                pass
        places: list[Any] = []
        with contextlib.suppress(Unusable, DeliveryError):
            places.append(await channel_of(client, self._reply_channel_id(request)))
        user = client.get_user(int(request.user_id)) if request.user_id.isdigit() else None  # daily: none
        if user is not None and user.dm_channel is not None:
            places.append(user.dm_channel)
        after = (
            discord.Object(id=discord.utils.time_snowflake(request.created_at))
            if request.created_at
            else None
        )
        for place in places:
            try:
                async for message in place.history(limit=100, after=after):
                    if client.user is not None and message.author.id == client.user.id and marker.search(
                        message.content
                    ):
                        return str(message.id)
            except (discord.Forbidden, discord.NotFound):
                continue
            except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
                raise DeliveryError(
                    "retryable", f"could not read channel history to reconcile: {error}"
                ) from error
        return None

    async def progress(self, request: Request, *, position: int, eta_seconds: float | None) -> None:
        """Edit the waiting message when the position or ETA changed, at most once per interval."""
        if self.client is None:
            return
        waiting = self.client.tracker.get(request.external_id)
        if waiting is not None:
            await self.client.progress.show(waiting, position=position, eta_seconds=eta_seconds)


def _wants_spoiler(delivery: Delivery) -> bool:
    """Whether the image gate allowed this image only behind a spoiler (`Delivery.image_action`).

    With no image gate decision (the gate was off), an image from a channel where flagged images
    are allowed may be a flagged one, so it is spoilered: the safe side of not knowing.
    """
    if delivery.image_action is not None:
        return delivery.image_action is ImageAction.SPOILER
    return delivery.request.nsfw_channel


def _is_daily(request: Request) -> bool:
    return daily_date(request) is not None

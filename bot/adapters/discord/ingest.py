"""From a Discord event to `service.submit`, and the first reply: queue position or why not.

One flow for the three ways a request arrives — `/imagine`, a mention, a re-roll click. Each event's
own id is the request's external id, so a gateway event delivered twice (or replayed after a
reconnect) becomes one request; a small in-memory set also stops the second copy before it
touches Discord at all. After a restart that set is empty, so a mention is first looked up in
storage: one stored by an earlier process was answered then (queued or refused) and gets no
second reply.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from bot.adapters.discord import text
from bot.adapters.discord.channels import ChannelSettingsStore
from bot.domain import NSFW_CHANNEL, Accepted, NewRequest, Options, Platform, Rejected, RejectionReason
from storage.outage import log_failure

if TYPE_CHECKING:
    from bot.adapters.discord.ports import DiscordService

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@!?\d+>")


@dataclass
class Waiting:
    """A request this process answered and may still edit: the interaction or the status reply."""

    external_id: str
    user_id: int
    request_id: int | None = None  # set once accepted
    interaction: discord.Interaction | None = None
    status_message: discord.Message | None = None
    shown: str = ""  # the text last put in the waiting message
    edited_at: datetime | None = None
    done: bool = False  # delivered: never edit the waiting text over the result
    # held while editing, so the queue text and the result never overwrite each other
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)


@dataclass
class Tracker:
    """Waiting requests by external id; lost on restart, after which delivery posts to the channel."""

    waiting: dict[str, Waiting] = field(default_factory=dict)
    limit: int = 2000

    def add(self, item: Waiting) -> Waiting:
        self.waiting[item.external_id] = item
        while len(self.waiting) > self.limit:  # oldest first: dicts keep insertion order
            self.waiting.pop(next(iter(self.waiting)))
        return item

    def get(self, external_id: str) -> Waiting | None:
        return self.waiting.get(external_id)

    def for_user(self, user_id: int) -> list[Waiting]:
        return [w for w in self.waiting.values() if w.user_id == user_id and not w.done]

    def forget(self, external_id: str) -> None:
        self.waiting.pop(external_id, None)


class _Seen:
    """Event ids handled recently, so a duplicate gateway event is dropped before any API call."""

    def __init__(self, size: int = 5000) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._size = size

    def first_time(self, event_id: int) -> bool:
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


def prompt_from_mention(content: str) -> str:
    """The prompt in '@bot a cat in a hat': the message without its mentions."""
    return " ".join(_MENTION.sub(" ", content).split())


class Ingest:
    """Turns Discord events into requests and answers the user at once."""

    def __init__(
        self,
        service: DiscordService,
        tracker: Tracker,
        channels: ChannelSettingsStore,
        *,
        require_channel_enabled: bool = False,
        random_seed: Callable[[], int] | None = None,
    ) -> None:
        self.service = service
        self.tracker = tracker
        self.channels = channels
        self.require_channel_enabled = require_channel_enabled
        self._seen = _Seen()
        self._random_seed = random_seed or _random_seed

    # ---------------------------------------------------------------- slash and buttons

    async def imagine(self, interaction: discord.Interaction, prompt: str, options: Options) -> None:
        """`/imagine`: defer at once, submit, then show the queue position or an ephemeral refusal."""
        if not self._seen.first_time(interaction.id):
            log.info("duplicate interaction %s ignored", interaction.id)
            return
        await self._imagine(interaction, prompt, options)

    async def _defer(self, interaction: discord.Interaction) -> Any:
        """Acknowledge within Discord's 3 s, before anything slow; None when another copy already did."""
        try:
            return await interaction.response.defer(thinking=True)
        except discord.HTTPException as error:  # 40060 already acknowledged / 10062 unknown: not ours
            log.info(
                "interaction %s could not be deferred (%s); another copy answered it", interaction.id, error
            )
            return None

    async def _imagine(
        self, interaction: discord.Interaction, prompt: str, options: Options, *, callback: Any = None
    ) -> None:
        """`callback`: the deferral already sent (the re-roll defers before it reads storage)."""
        if options.seed is None:  # chosen here so the caption can show it and the user can reuse it
            options = replace(options, seed=self._random_seed())
        if callback is None:
            callback = await self._defer(interaction)
            if callback is None:
                return
        refusal = await self._channel_refusal(interaction.channel)
        if refusal is not None:
            await self._refuse_interaction(interaction, refusal)
            return
        reply_to = {"kind": "interaction", "channel_id": str(interaction.channel_id)}
        if interaction.guild_id is not None:
            reply_to["guild_id"] = str(interaction.guild_id)
        reply_to.update(await self._safety_context(interaction.channel))
        message_id = getattr(callback, "message_id", None)
        if message_id is not None:  # the "thinking" message: replied to if the token expires first
            reply_to["message_id"] = str(message_id)
        new = NewRequest(
            platform=Platform.DISCORD,
            external_id=str(interaction.id),
            user_id=str(interaction.user.id),
            user_name=interaction.user.name,
            prompt=prompt,
            reply_to=reply_to,
            options=options,
        )
        waiting = self.tracker.add(Waiting(new.external_id, interaction.user.id, interaction=interaction))
        outcome = await self._submit(new)
        if isinstance(outcome, Rejected):
            self.tracker.forget(new.external_id)
            await self._refuse_interaction(interaction, outcome)
            return
        waiting.request_id = outcome.request_id
        await self._show_queued(waiting, outcome)

    async def reroll(self, interaction: discord.Interaction, external_id: str) -> None:
        """The re-roll button: the original's prompt and options with a new seed, as a new request."""
        if not self._seen.first_time(interaction.id):
            return
        callback = await self._defer(interaction)  # before the storage read: a slow database loses no click
        if callback is None:
            return
        try:
            original = await self.service.find_request(Platform.DISCORD, external_id)
        except Exception:  # the user must hear something; the operator gets the traceback
            log.exception("re-roll of %s: could not read the original request", external_id)
            await self._answer_privately(interaction, text.rejection(_UNAVAILABLE))
            return
        if original is None:
            await self._answer_privately(
                interaction, "I can't find the request behind this image any more; use /imagine instead."
            )
            return
        seed = self._random_seed()
        options = Options(**{**original.options.to_dict(), "seed": seed})
        await self._imagine(interaction, original.prompt, options, callback=callback)

    # ---------------------------------------------------------------- mentions

    async def mention(self, message: discord.Message) -> None:
        """'@bot a prompt': the same request as `/imagine`, answered with replies to the message."""
        if not self._seen.first_time(message.id) or await self._stored_before(str(message.id)):
            log.info("duplicate message %s ignored", message.id)
            return
        prompt = prompt_from_mention(message.content)
        if not prompt:
            await self._reply(
                message, "Mention me with a prompt, e.g. `@me an astronaut riding a horse`, or use /imagine."
            )
            return
        refusal = await self._channel_refusal(message.channel)
        if refusal is not None:
            await self._reply(message, text.rejection(refusal))
            return
        reply_to = {"kind": "message", "channel_id": str(message.channel.id), "message_id": str(message.id)}
        if message.guild is not None:
            reply_to["guild_id"] = str(message.guild.id)
        reply_to.update(await self._safety_context(message.channel))
        new = NewRequest(
            platform=Platform.DISCORD,
            external_id=str(message.id),
            user_id=str(message.author.id),
            user_name=message.author.name,
            prompt=prompt,
            reply_to=reply_to,
            options=Options(seed=self._random_seed()),
        )
        waiting = self.tracker.add(Waiting(new.external_id, message.author.id))
        outcome = await self._submit(new)
        if isinstance(outcome, Rejected):
            self.tracker.forget(new.external_id)
            await self._reply(message, text.rejection(outcome))
            return
        if outcome.duplicate:
            self.tracker.forget(new.external_id)
            return  # an earlier copy of this event already answered
        waiting.request_id = outcome.request_id
        status = await self._reply(message, text.queued(outcome))
        async with waiting.lock:
            if status is not None and not waiting.done:
                waiting.status_message = status
                waiting.shown = status.content

    # ---------------------------------------------------------------- helpers

    async def _stored_before(self, external_id: str) -> bool:
        """Whether an earlier process stored this event (and so answered it, a refusal included)."""
        try:
            return await self.service.find_request(Platform.DISCORD, external_id) is not None
        except Exception:  # storage down: submit says so to the user
            log_failure(log, "could not look up discord request %s", external_id)
            return False

    async def _submit(self, new: NewRequest) -> Accepted | Rejected:
        try:
            return await self.service.submit(new)
        except Exception:  # the user must hear something; the operator gets the traceback
            log_failure(log, "submit failed for discord request %s", new.external_id)
            return _UNAVAILABLE

    async def _channel_refusal(self, channel: Any) -> Rejected | None:
        if channel is None or isinstance(channel, discord.DMChannel):
            return None
        settings = await self.channels.get(channel.id)
        enabled = settings.enabled if settings.enabled is not None else not self.require_channel_enabled
        if enabled:
            return None
        return Rejected(
            RejectionReason.PLATFORM_DISABLED,
            "I'm not enabled in this channel. Ask a moderator to turn me on here with `/mod channel`.",
        )

    async def _safety_context(self, channel: Any) -> dict[str, str]:
        """`nsfw: "true"` tells the worker's image gate it may spoiler rather than block a flagged image:
        only where Discord marks the channel NSFW *and* a moderator allowed it with `/mod channel`."""
        is_nsfw = getattr(channel, "is_nsfw", None)
        if channel is None or not callable(is_nsfw) or not is_nsfw():
            return {}
        settings = await self.channels.get(channel.id)
        return {NSFW_CHANNEL: "true"} if settings.nsfw_images else {}

    async def _refuse_interaction(self, interaction: discord.Interaction, rejected: Rejected) -> None:
        """Replace the public "thinking" message with an ephemeral refusal only the user sees."""
        await self._answer_privately(interaction, text.rejection(rejected))

    async def _answer_privately(self, interaction: discord.Interaction, content: str) -> None:
        """Replace the public "thinking" message with an ephemeral answer only the user sees."""
        try:
            # A deferred response stays "thinking" until edited; complete it, then remove it, so
            # the follow-up below becomes a new (ephemeral) message instead of filling it in.
            await interaction.edit_original_response(content="…")
            await interaction.delete_original_response()
            await interaction.followup.send(content, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not answer user %s on interaction %s", interaction.user.id, interaction.id)

    async def _show_queued(self, waiting: Waiting, accepted: Accepted) -> None:
        content = text.queued(accepted)
        async with waiting.lock:
            if waiting.done or waiting.interaction is None:
                return
            try:
                await waiting.interaction.edit_original_response(content=content)
            except discord.HTTPException:
                log.warning("could not show the queue position for %s", waiting.external_id)
                return
            waiting.shown = content
            waiting.edited_at = discord.utils.utcnow()

    async def _reply(self, message: discord.Message, content: str) -> discord.Message | None:
        try:
            return await message.reply(content, mention_author=False)
        except discord.HTTPException:
            log.warning("could not reply to message %s in channel %s", message.id, message.channel.id)
            return None


_UNAVAILABLE = Rejected(
    RejectionReason.UNAVAILABLE,
    "The bot can't take requests right now (its queue is unavailable). Please try again in a few minutes.",
)


def _random_seed() -> int:
    return secrets.randbelow(2**31)

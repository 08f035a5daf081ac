"""After a restart: the waiting message an earlier process left behind, found again.

A process remembers the message a user watches ("⏳ Queued — position 3…") only in memory. Two
ways back to it, both looking it up on Discord — the interaction's own "thinking" message (its id
is stored with the request), or the bot's status reply to the mention:
- at start, `adopt_waiting` takes every unfinished request's message back into the tracker, so
  it shows the queue position again and the result goes into it, as before the restart;
- at delivery, a message not adopted (found only now, or the token expired) is told where the
  result went, so it never says "Queued" forever.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.adapters.base import DeliveryError
from bot.adapters.discord.calls import Unusable, channel_of
from bot.adapters.discord.ingest import Waiting
from bot.domain import Platform

if TYPE_CHECKING:
    from bot.adapters.discord.running import RunningClient
    from bot.domain import Request

log = logging.getLogger(__name__)

WAITING_MARKS = ("⏳", "🎨")  # how text.queued begins: the queue position, or "generating now"
_SEARCHED = 50  # messages after the mention looked through for the status reply


def _is_waiting(message: Any, bot_id: int) -> bool:
    content = message.content or ""
    return message.author.id == bot_id and (content == "" or content.startswith(WAITING_MARKS))


async def find_waiting_message(client: RunningClient, request: Request) -> discord.Message | None:
    """The bot's own still-waiting message for `request`, or None (not found, or not readable)."""
    channel_id, message_id = request.reply_to.get("channel_id"), request.reply_to.get("message_id")
    if client.user is None or not channel_id or message_id is None or not message_id.isdigit():
        return None
    try:
        channel = await channel_of(client, channel_id)
        if request.reply_to.get("kind") == "interaction":  # message_id: the "thinking" message itself
            candidates = [await channel.fetch_message(int(message_id))]
        else:  # message_id: the mention; the status reply refers to it
            after = discord.Object(id=int(message_id))
            candidates = [
                message
                async for message in channel.history(limit=_SEARCHED, after=after)
                if message.reference is not None and message.reference.message_id == int(message_id)
            ]
    except (Unusable, DeliveryError, discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
        log.info("request %s: no earlier waiting message to update (%s)", request.id, error)
        return None
    return next((message for message in candidates if _is_waiting(message, client.user.id)), None)


async def adopt_waiting(client: RunningClient) -> int:
    """Track again the waiting messages of this platform's unfinished requests; returns how many.

    Each adopted message is edited at once to the request's present position (the text it shows
    was written by the earlier process). Requests already tracked by this process are left alone.
    """
    if client.user is None:
        return 0
    adopted = 0
    for request in await client.service.open_requests(Platform.DISCORD):
        if client.tracker.get(request.external_id) is not None or not request.user_id.isdigit():
            continue
        message = await find_waiting_message(client, request)
        if message is None:
            continue
        waiting = client.tracker.add(
            Waiting(
                request.external_id,
                int(request.user_id),
                request_id=request.id,
                status_message=message,
                shown=message.content or "",
            )
        )
        view = await client.service.view(request.id)
        if view is not None:
            await client.progress.show(waiting, position=view.position, eta_seconds=view.eta_seconds)
        adopted += 1
    if adopted:
        log.info("took back %d waiting message(s) left by an earlier process", adopted)
    return adopted

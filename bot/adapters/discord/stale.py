"""After a restart: the waiting message an earlier process left behind, found again.

A process remembers the message a user watches ("⏳ Queued — position 3…") only in memory. After
a restart (or once the interaction's token expired) the result goes out as a new message, and the
old one would say "Queued" forever; delivery looks it up instead — the interaction's own
"thinking" message (its id is stored with the request), or the bot's status reply to the mention —
so it can be told where the result went.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.adapters.base import DeliveryError
from bot.adapters.discord.calls import Unusable, channel_of

if TYPE_CHECKING:
    from bot.adapters.discord.client import DallebotClient
    from bot.domain import Request

log = logging.getLogger(__name__)

WAITING_MARKS = ("⏳", "🎨")  # how text.queued begins: the queue position, or "generating now"
_SEARCHED = 50  # messages after the mention looked through for the status reply


def _is_waiting(message: Any, bot_id: int) -> bool:
    content = message.content or ""
    return message.author.id == bot_id and (content == "" or content.startswith(WAITING_MARKS))


async def find_waiting_message(client: DallebotClient, request: Request) -> discord.Message | None:
    """The bot's own still-waiting message for `request`, or None (not found, or not readable)."""
    channel_id, message_id = request.reply_to.get("channel_id"), request.reply_to.get("message_id")
    if client.user is None or not channel_id or not (message_id or "").isdigit():
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

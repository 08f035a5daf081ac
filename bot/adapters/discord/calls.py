"""One Discord call and what its failure means for a delivery.

`attempt` awaits a call and classifies its failure once: 429 → retryable after its reset; 5xx and
network errors → ambiguous where a message may have been created (retryable for edits and reads);
401/403/404 and an expired interaction token → `Unusable` (the adapter tries its next route);
anything else → permanent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.adapters.base import DeliveryError, DeliveryErrorKind

if TYPE_CHECKING:
    from bot.adapters.discord.running import RunningClient

DEFAULT_RETRY_AFTER = 5.0  # seconds, when a 429 carries no reset time
_EXPIRED_TOKEN_CODES = {50027, 10015}  # invalid webhook token / unknown webhook: the 15 minutes are over


class Unusable(Exception):
    """This route cannot carry the post (expired token, deleted channel, no permission): try the next."""


async def channel_of(client: RunningClient, raw: str | int | None) -> Any:
    """The channel a request names, from the cache or fetched; `Unusable` when it has none."""
    if not raw:
        raise Unusable("the request has no channel")
    channel = client.get_channel(int(raw))
    if channel is not None:
        return channel
    return await attempt(client.fetch_channel(int(raw)), creates=False)


async def attempt(call: Any, *, creates: bool) -> Any:
    """Await one Discord call, turning its failure into `Unusable` or a classified `DeliveryError`."""
    try:
        return await call
    except discord.RateLimited as error:  # longer than the client will wait in place
        raise DeliveryError(
            "retryable", f"rate limited by Discord: {error}", retry_after=error.retry_after
        ) from error
    except discord.HTTPException as error:
        raise classify(error, creates=creates) from error
    except (aiohttp.ClientError, TimeoutError, ConnectionError) as error:
        kind: DeliveryErrorKind = "ambiguous" if creates else "retryable"
        raise DeliveryError(kind, f"network error talking to Discord: {error!r}") from error


def classify(error: discord.HTTPException, *, creates: bool) -> Exception:
    status, code = error.status, error.code
    if status == 429:
        return DeliveryError(
            "retryable", f"rate limited by Discord: {error}", retry_after=retry_after_of(error)
        )
    if status >= 500:
        # The request reached Discord: a created message may exist. An edit can simply be repeated.
        return DeliveryError("ambiguous" if creates else "retryable", f"Discord server error: {error}")
    if status in (401, 403, 404) or code in _EXPIRED_TOKEN_CODES:
        return Unusable(f"{status} {error.text or error}".strip())
    return DeliveryError("permanent", f"Discord refused the post ({status}/{code}): {error.text or error}")


def retry_after_of(error: discord.HTTPException) -> float:
    headers = getattr(error.response, "headers", None) or {}
    for name in ("Retry-After", "X-RateLimit-Reset-After"):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value))
            except ValueError:
                pass
    return DEFAULT_RETRY_AFTER

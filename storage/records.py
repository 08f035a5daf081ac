"""The storage API's own value types, next to storage.domain's vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from storage.domain import Request

DeliveryState = Literal["pending", "sending", "sent", "failed"]


class DeliveryKind(StrEnum):
    """What a delivery is: the picture, a failure notice, or a refusal."""

    IMAGE = "image"
    FAILURE = "failure"  # `Delivery.message` says what went wrong, in the bot's words
    REJECTION = "rejection"  # `Delivery.message` is the refusal, in the bot's words


class ImageAction(StrEnum):
    """What the image gate decided for a picture (stored per tile in the safety decisions)."""

    POST = "post"
    SPOILER = "spoiler"  # post it only behind a spoiler (Discord channels marked NSFW)
    BLOCK = "block"


@dataclass(frozen=True)
class Claim:
    """A worker's hold on a running request; `token` fences every later write."""

    request: Request
    token: int
    lease_expires: datetime

    @property
    def request_id(self) -> int:
        return self.request.id


@dataclass(frozen=True)
class Completion:
    """A claimed request's result for Store.complete_many: the image, its timing and safety records.

    `safety` holds dicts with gate, score, threshold, flagged and action; the image gate's actions
    among them decide how the delivery shows the picture (`Delivery.image_action`).
    """

    claim: Claim
    image_png: bytes
    seconds: float
    safety: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Delivery:
    """One outbox entry to post; state "sending" means an earlier attempt may have posted.

    `image_action` (images only): SPOILER when the image gate allowed a tile only behind a spoiler,
    POST when it passed every tile, None when no image gate judged it (the gate was off).
    """

    request: Request
    kind: DeliveryKind
    image_png: bytes | None
    state: DeliveryState
    attempts: int
    message: str | None
    image_action: ImageAction | None = None


@dataclass(frozen=True)
class ChannelSettings:
    """What moderators set for one channel; a channel never set has the defaults."""

    enabled: bool | None = None  # None: the platform's default (discord.require_channel_enabled)
    nsfw_images: bool = False  # flagged images may be posted behind a spoiler (NSFW channels only)


@dataclass(frozen=True)
class QuotaStatus:
    used: int  # images counted in the current window
    remaining: int
    refills_at: datetime | None  # when the oldest counted image leaves the window
    in_flight: int  # queued + running requests


@dataclass(frozen=True)
class QueueStats:
    queued: int
    running: int
    failed_recent: int  # failed in the last 24 hours
    done_recent: int  # done in the last 24 hours
    by_platform: dict[str, dict[str, int]] = field(default_factory=dict)  # platform → status → count


@dataclass(frozen=True)
class ImageRetention:
    """How long and how much image data to keep; None disables that limit."""

    max_age_seconds: float | None = 30 * 24 * 3600.0
    max_total_bytes: int | None = 2 * 1024**3

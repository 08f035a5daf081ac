"""The storage API's own value types, next to storage.domain's vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from storage.domain import Request

DeliveryKind = Literal["image", "failure", "rejection"]
DeliveryState = Literal["pending", "sending", "sent", "failed"]


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

    `safety` holds dicts with gate, score, threshold, flagged and action; `message` travels with
    the image's delivery (e.g. the worker's spoiler hint for the adapter).
    """

    claim: Claim
    image_png: bytes
    seconds: float
    safety: tuple[dict[str, Any], ...] = ()
    message: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One outbox entry to post; state "sending" means an earlier attempt may have posted."""

    request: Request
    kind: DeliveryKind
    image_png: bytes | None
    state: DeliveryState
    attempts: int
    message: str | None


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
